"""./vmsync compile: which lines of make's output are the series' warnings
(vmsync.compile).  tests/data/compile/make-6.12.log is real output of 6.12.118
builds (sparc64_defconfig, arm multi_v7_defconfig, m68k defconfig) of the
suite before it stopped passing an rvalue to pgd_none()/pmd_none()."""

import unittest

from support import data
from vmsync.compile import diagnostics, parse_targets
from vmsync.util import Fail


class TestDiagnostics(unittest.TestCase):
    def test_real_make_output(self):
        found = diagnostics(data('compile/make-6.12.log'))
        self.assertEqual(len(found), 2, found)
        self.assertIn("rwonce.h:48:2: warning: passing argument 1 of ‘pgd_none’", found[0])
        self.assertIn("page.h:22:27: error: lvalue required", found[1])

    def test_checksyscalls_is_not_the_series(self):
        self.assertEqual(diagnostics(
            '<stdin>:1519:2: warning: #warning syscall clone3 not implemented [-Wcpp]\n'), [])

    def test_targets(self):
        self.assertEqual(parse_targets('m68k, arm'), ['m68k', 'arm'])
        self.assertIn('hppa', parse_targets('all'))
        with self.assertRaises(Fail):
            parse_targets(',')


if __name__ == '__main__':
    unittest.main()
