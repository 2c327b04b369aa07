"""./vmsync test's own logic (vmsync.selftest)."""

import unittest

from support import MUTANT
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


if __name__ == '__main__':
    unittest.main()
