"""Driving kunit.py (vmsync.kunit_run)."""

import os
import shutil
import subprocess
import unittest

from support import write, TempDirTest
from vmsync import kunit_run


class TestBuildDir(TempDirTest):
    def test_build_dir_stamp(self):
        kern = {'key': 'k1', 'version': '6.12.1'}
        bdir = kunit_run.build_dir_for(self.tmp, kern, 'um')
        write(os.path.join(bdir, 'vmlinux.o'), 'x')
        self.assertEqual(kunit_run.build_dir_for(self.tmp, kern, 'um'), bdir)
        self.assertTrue(os.path.exists(os.path.join(bdir, 'vmlinux.o')))   # reused
        kern['version'] = '6.12.2'
        self.assertEqual(kunit_run.build_dir_for(self.tmp, kern, 'um'), bdir)
        self.assertFalse(os.path.exists(os.path.join(bdir, 'vmlinux.o')))  # wiped
        self.assertNotEqual(kunit_run.build_dir_for(self.tmp, kern, 'i386'), bdir)
        write(os.path.join(bdir, 'vmsync-stamp.json'), '{"kernel": "other"}')
        write(os.path.join(bdir, 'vmlinux.o'), 'x')
        kunit_run.build_dir_for(self.tmp, kern, 'um')
        self.assertFalse(os.path.exists(os.path.join(bdir, 'vmlinux.o')))

    def test_kconfig_add_has_its_own_build_dir(self):
        kern = {'key': 'k1', 'version': '6.12.1', 'tree': '/nonexistent'}
        plain = kunit_run.build_dir_for(self.tmp, kern, 'x86_64')
        kasan = kunit_run.build_dir_for(self.tmp, kern, 'x86_64', ('CONFIG_KASAN=y',))
        self.assertNotEqual(plain, kasan)
        self.assertEqual(kunit_run.build_dir_for(self.tmp, kern, 'x86_64',
                                                 ('CONFIG_KASAN=y',)), kasan)
        self.assertNotEqual(kunit_run.build_dir_for(self.tmp, kern, 'x86_64',
                                                    ('CONFIG_KASAN=y', 'CONFIG_KCSAN=y')),
                            kasan)
        cmd = kunit_run.kunit_cmd(kern, 'x86_64', 'config', kasan, ('CONFIG_KASAN=y',))
        self.assertEqual(cmd[cmd.index('CONFIG_KASAN=y') - 1], '--kconfig_add')


class TestTcgWrapper(TempDirTest):
    """The wrappers, around fake QEMUs found first in PATH."""

    def setUp(self):
        super().setUp()
        self.bindir = os.path.join(self.tmp, 'bin')
        old = os.environ['PATH']
        os.environ['PATH'] = self.bindir + os.pathsep + old
        self.addCleanup(os.environ.__setitem__, 'PATH', old)
        self.cache = os.path.join(self.tmp, 'cache')

    def test_accel_is_always_tcg(self):
        write(os.path.join(self.bindir, 'qemu-system-i386'), '#!/bin/sh\necho "$@"\n', 0o755)
        wdir = kunit_run.tcg_wrappers(self.cache)
        out = subprocess.run([os.path.join(wdir, 'qemu-system-i386'), '-nodefaults',
                              '-accel', 'kvm', '-accel', 'hvf', '-accel', 'tcg', '-m', '1024'],
                             stdout=subprocess.PIPE, universal_newlines=True).stdout
        self.assertEqual(out.split(), ['-nodefaults', '-m', '1024', '-accel', 'tcg'])

    @unittest.skipUnless(shutil.which('dtc') and shutil.which('fdtget'),
                         'needs device-tree-compiler (./vmsync test installs it)')
    def test_dt_cpu_boots_the_boards_tree_edited(self):
        # QEMU 7.2's riscv virt board says riscv,sv48; this one says so for two CPUs
        write(os.path.join(self.bindir, 'qemu-system-riscv64'),
              '#!/bin/sh\n'
              'for a in "$@"; do case "$a" in dumpdtb=*)\n'
              '  echo \'/dts-v1/; / { cpus { cpu@0 { mmu-type = "riscv,sv48"; };\' \\\n'
              '       \'cpu@1 { mmu-type = "riscv,sv48"; }; }; };\' |\n'
              '  dtc -q -O dtb -o "${a#dumpdtb=}"; exit 0;; esac; done\n'
              'echo "$@"\n', 0o755)
        qemu = os.path.join(kunit_run.tcg_wrappers(self.cache), 'qemu-system-riscv64')
        dtb = os.path.join(self.tmp, 'vmsync-board.dtb')

        def boot(arch):
            return subprocess.run([qemu, '-m', '1024'], stdout=subprocess.PIPE,
                                  env=kunit_run.kunit_env(self.cache, arch, self.tmp),
                                  universal_newlines=True, check=True).stdout.split()
        self.assertEqual(boot('riscv64-sv57'), ['-m', '1024', '-accel', 'tcg', '-dtb', dtb])
        for cpu in ('cpu@0', 'cpu@1'):
            got = subprocess.run(['fdtget', dtb, '/cpus/' + cpu, 'mmu-type'],
                                 stdout=subprocess.PIPE, universal_newlines=True,
                                 check=True).stdout
            self.assertEqual(got.strip(), 'riscv,sv57')
        os.remove(dtb)
        self.assertEqual(boot('riscv64-sv48'), ['-m', '1024', '-accel', 'tcg'])
        self.assertFalse(os.path.exists(dtb))


if __name__ == '__main__':
    unittest.main()
