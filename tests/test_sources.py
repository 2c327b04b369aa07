"""Kernel sources (vmsync.sources)."""

import os
import unittest

from support import TempDirTest
from vmsync import sources


class TestSources(TempDirTest):
    def test_path_key(self):
        a = os.path.join(self.tmp, 'linux')
        self.assertEqual(sources.path_key(a), sources.path_key(a + '/'))
        self.assertNotEqual(sources.path_key(a), sources.path_key(a + '2'))
        self.assertEqual(sources.path_key(a),
                         sources.path_key(os.path.join(self.tmp, 'x', '..', 'linux')))


if __name__ == '__main__':
    unittest.main()
