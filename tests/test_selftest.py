"""./vmsync test's own logic (vmsync.selftest)."""

import io
import os
import unittest
from unittest import mock

from support import MUTANT, TempDirTest
from vmsync import selftest


class TestKillOn(unittest.TestCase):
    def test_format_patch(self):
        self.assertEqual(selftest.parse_kill_on(MUTANT), ['um', 'i386'])

    def test_plain_diff(self):
        self.assertEqual(selftest.parse_kill_on('Kill-On: x86_64\ndiff --git a/x b/x\n'),
                         ['x86_64'])

    def test_empty(self):
        self.assertEqual(selftest.parse_kill_on('Subject: x\nKill-On: \n\nwhy\n---\n'), [])

    def test_missing_or_after_diff(self):
        self.assertIsNone(selftest.parse_kill_on('Subject: x\n---\nKill-On: um\n'))
        self.assertIsNone(selftest.parse_kill_on('diff --git a/x b/x\n+Kill-On: um\n'))


class TestAgreementStep(TempDirTest):
    def test_runs_after_the_series_and_a_skip_fails(self):
        # with an empty cache the comparison skips: ./vmsync test must count
        # that as a failure, not as a pass
        lines = []
        with mock.patch.dict(os.environ, VMSYNC_CACHE=self.tmp), \
                mock.patch('sys.stdout', io.StringIO()), \
                mock.patch('vmsync.selftest.say'):
            self.assertEqual(selftest.run_agreement_test(lines), (0, 1))
        self.assertIn('skipped', lines[0])

    def test_order_in_do_test(self):
        import inspect
        src = inspect.getsource(selftest.do_test)
        self.assertLess(src.index('test_series(kernel'), src.index('run_agreement_test('))


if __name__ == '__main__':
    unittest.main()
