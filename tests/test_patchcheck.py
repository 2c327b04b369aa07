"""The per-patch checks of the series (vmsync.patchcheck)."""

import os
import unittest

from support import write, TempDirTest
from vmsync import patchcheck


class TestPatchChecks(TempDirTest):
    def test_kernel_doc_without_line_numbers(self):
        tree = os.path.join(self.tmp, 'k')
        write(os.path.join(tree, 'scripts/kernel-doc'),
              '#!/bin/sh\necho "Warning: x.h:2001 No description for f"\n'
              'echo "x.h:12: warning: missing g"\n', 0o755)
        self.assertEqual(patchcheck.kernel_doc(tree, 'x.h'), {'Warning: x.h: No description for f',
                                                              'x.h: warning: missing g'})

    def test_warning_parser(self):
        self.assertTrue(patchcheck.WARNING_RE.match(
            "mm/x.c:12:3: warning: unused variable 'u' [-Wunused-variable]"))
        self.assertTrue(patchcheck.WARNING_RE.match(
            "mm/x.c:12:3: warning: cast removes address space '__iomem' of expression"))
        self.assertFalse(patchcheck.WARNING_RE.match('  CC      mm/x.o'))


if __name__ == '__main__':
    unittest.main()
