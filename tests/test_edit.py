"""The .edit format (vmsync.edit)."""

import unittest

import support  # noqa: F401  (src/ on sys.path)
from vmsync.edit import apply_edit
from vmsync.util import Fail


class TestEdit(unittest.TestCase):
    TEXT = 'one\ntwo\nthree\n'

    def test_after_before_end(self):
        edit = '@@ after ^two$\nA1\nA2\n@@ before ^one\nB\n@@ end\nE\n'
        self.assertEqual(apply_edit(self.TEXT, edit, 'x.edit', 'x'),
                         'B\none\ntwo\nA1\nA2\nthree\nE\n')

    def test_first_match_and_search_semantics(self):
        edit = '@@ after o\nX\n'     # re.search: 'one' is the first match
        self.assertEqual(apply_edit(self.TEXT, edit, 'x.edit', 'x'),
                         'one\nX\ntwo\nthree\n')

    def test_blocks_in_order(self):
        edit = '@@ after ^two$\nnew\n@@ after ^new$\nnewer\n'
        self.assertEqual(apply_edit(self.TEXT, edit, 'x.edit', 'x'),
                         'one\ntwo\nnew\nnewer\nthree\n')

    def test_empty_lines_are_text(self):
        edit = '@@ after ^one$\n\nX\n\n@@ end\n'
        self.assertEqual(apply_edit(self.TEXT, edit, 'x.edit', 'x'),
                         'one\n\nX\n\ntwo\nthree\n')

    def test_end_on_file_without_newline(self):
        self.assertEqual(apply_edit('a', '@@ end\nb\n', 'x.edit', 'x'), 'a\nb')

    def test_only_some_blocks(self):
        edit = '@@ end\nA\n@@ after ^x$\nB\n@@ end\nC\n'
        self.assertEqual(apply_edit('x\n', edit, 'e', 't', only=[1, 3]), 'x\nA\nC\n')
        self.assertEqual(apply_edit('x\n', edit, 'e', 't', only=[2]), 'x\nB\n')

    def test_missing_anchor(self):
        with self.assertRaises(Fail) as cm:
            apply_edit(self.TEXT, '@@ after obj-\\$\\(CONFIG_X\\)\nfoo\n',
                         'kernel/mm/Makefile.edit', 'mm/Makefile')
        self.assertEqual(cm.exception.code, 2)
        self.assertEqual(str(cm.exception),
                         "kernel/mm/Makefile.edit: anchor 'obj-\\$\\(CONFIG_X\\)' "
                         "not found in mm/Makefile")

    def test_bad_edit_files(self):
        for edit in ('@@ sideways x\n', '@@ after\n', 'text first\n@@ end\n',
                     '@@ after (\n', '@@ end junk\n'):
            with self.assertRaises(Fail, msg=edit) as cm:
                apply_edit(self.TEXT, edit, 'x.edit', 'x')
            self.assertEqual(cm.exception.code, 2)


if __name__ == '__main__':
    unittest.main()
