"""tools/kmemleak/run.py, on real kunit.py exec logs and a real console."""

import os
import unittest

from support import TempDirTest, load_tool, write

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, 'data', 'kmemleak')
kmemleak = load_tool('tools/kmemleak/run.py', 'kmemleak_run')


def read(name):
    with open(os.path.join(DATA, name), errors='replace') as f:
        return f.read()


class TestBootCommand(TempDirTest):
    def command(self, arch):
        write(os.path.join(self.tmp, 'vmsync-exec.log'), read(arch + '-exec.log'))
        return kmemleak.boot_command(self.tmp)

    def test_qemu_runs_init_after_the_suite(self):
        for arch in ('arm64', 'x86_64'):
            cmd = kmemleak.with_initrd(self.command(arch), '/x.cpio')
            append = cmd[cmd.index('-append') + 1]
            self.assertNotIn('kunit_shutdown', append, arch)
            self.assertIn('kunit.enable=1', append.split(), arch)
            self.assertEqual(cmd[cmd.index('-initrd') + 1], '/x.cpio', arch)
            self.assertIn('-no-reboot', cmd, arch)

    def test_uml(self):
        cmd = kmemleak.with_initrd(self.command('um'), '/x.cpio')
        self.assertTrue(cmd[0].endswith('/linux'))
        self.assertIn('initrd=/x.cpio', cmd)
        self.assertFalse([a for a in cmd if a.startswith('kunit_shutdown')])

    def test_no_boot_in_the_log(self):
        write(os.path.join(self.tmp, 'vmsync-exec.log'), 'ERROR: build failed\n')
        with self.assertRaises(kmemleak.Fail):
            kmemleak.boot_command(self.tmp)


class TestReport(unittest.TestCase):
    def test_leak_of_a_case(self):
        # arm64 with a suite that leaks 128 bytes in sync_reports_are_observed()
        found = kmemleak.leaks(read('arm64-leak.console'))
        self.assertEqual(len(found), 1)
        self.assertIn('sync_reports_are_observed', found[0])
        self.assertIn('kunit_try_run_case', found[0])

    def test_no_scan(self):
        console = read('arm64-leak.console').split('kmemleak-init: report begin')[0]
        self.assertIsNone(kmemleak.leaks(console))
        self.assertEqual(kmemleak.leaks('kmemleak-init: report begin\n'
                                        'kmemleak-init: report end\n'), [])

    def test_newc_archive(self):
        # the layout of usr/gen_init_cpio.c: 110-byte header, name, pad to 4
        data = kmemleak.newc({'init': (0o100755, b'\x7fELF')})
        self.assertTrue(data.startswith(b'070701'))
        self.assertEqual(len(data) % 4, 0)
        self.assertEqual(int(data[54:62], 16), 4)           # filesize
        self.assertEqual(data[110:115], b'init\0')
        self.assertIn(b'TRAILER!!!\0', data)


if __name__ == '__main__':
    unittest.main()
