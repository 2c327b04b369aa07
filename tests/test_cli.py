"""The command line: usage errors are one line, exit 2 (vmsync.cli)."""

import os
import subprocess
import unittest

from support import VMSYNC, CommandLine


class TestCommandLine(CommandLine):
    def test_nonexistent_kernel(self):
        rc, out, err = self.vmsync('run', '--kernel', '/nonexistent')
        self.assertUsageError(rc, err, 'not a kernel tree')

    def test_bogus_arch(self):
        rc, out, err = self.vmsync('run', '--arch', 'bogus')
        self.assertUsageError(rc, err, 'um, i386, x86_64')

    def test_bogus_compile_target(self):
        rc, out, err = self.vmsync('compile', '--arch', 'x86_64,vax')
        self.assertUsageError(rc, err, "unknown target 'vax'")

    def test_bad_option(self):
        rc, out, err = self.vmsync('run', '--jobs', 'many')
        self.assertUsageError(rc, err, '--jobs')

    def test_any_cwd_and_symlink(self):
        # the entry script finds src/ from its real path, not from the cwd
        link = os.path.join(self.tmp, 'bin', 'vmsync')
        os.makedirs(os.path.dirname(link))
        os.symlink(VMSYNC, link)
        for cmd in (VMSYNC, link):
            p = subprocess.run([cmd, 'run', '--help'], cwd=self.tmp, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, universal_newlines=True)
            self.assertEqual((p.returncode, p.stderr), (0, ''), cmd)
            self.assertIn('usage: vmsync run', p.stdout)
            p = subprocess.run([cmd, 'run', '--arch', 'bogus'], cwd=self.tmp,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True)
            self.assertUsageError(p.returncode, p.stderr, 'unknown arch')


if __name__ == '__main__':
    unittest.main()
