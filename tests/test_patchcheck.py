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

    def test_htmldocs_warnings_without_line_numbers(self):
        tree = os.path.join(self.tmp, 'k')
        write(os.path.join(tree, 'Makefile'),
              'htmldocs:\n'
              '\t@echo "$(CURDIR)/Documentation/$(SPHINXDIRS)/a.rst:12: WARNING: foo"\n'
              '\t@echo "$(CURDIR)/Documentation/$(SPHINXDIRS)/b.rst: WARNING: document '
              'isn\'t included in any toctree"\n'
              '\t@echo "  SPHINX  htmldocs"\n')
        out = os.path.join(self.tmp, 'out')
        found, why = patchcheck.htmldocs_warnings(tree, 'dev-tools', out)
        self.assertIsNone(why)
        self.assertEqual(found, {'Documentation/dev-tools/a.rst: WARNING: foo',
                                 "Documentation/dev-tools/b.rst: WARNING: document isn't "
                                 "included in any toctree"})
        self.assertFalse(os.path.exists(out))
        # no docs build at all: a reason, so the caller falls back to docutils
        write(os.path.join(tree, 'Makefile'), 'htmldocs:\n\t@echo "sphinx-build: not found"; exit 2\n')
        found, why = patchcheck.htmldocs_warnings(tree, 'dev-tools', out)
        self.assertIsNone(found)
        self.assertIn('sphinx-build: not found', why)

    def test_sphinx_dir(self):
        self.assertEqual(patchcheck.sphinx_dir('Documentation/dev-tools/vmalloc-sync.rst'),
                         'dev-tools')
        self.assertIsNone(patchcheck.sphinx_dir('Documentation/x.rst'))
        self.assertIsNone(patchcheck.sphinx_dir('tools/x/README.rst'))


if __name__ == '__main__':
    unittest.main()
