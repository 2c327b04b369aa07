"""./vmsync series (vmsync.series)."""

import os
import unittest

from support import write, TempDirTest
from vmsync import series
from vmsync.util import Fail


class TestSeries(TempDirTest):
    def test_every_suite_file_and_block_is_in_one_patch(self):
        cover, parts = series.series_parts()
        self.assertEqual(cover['files'], [])
        entries = [e for p in parts for e in p['files']]
        self.assertIn('kernel/mm/vmalloc_sync_kunit.c', entries)
        self.assertIn('kernel/mm/memory.c.edit', entries)
        for p in parts:
            self.assertTrue(p['subject'] and p['body'].strip(), p['name'])

    def test_part_header(self):
        path = os.path.join(self.tmp, '1-x.txt')
        write(path, 'Files: a b\n       c\nSubject: mm: do\n  it\n\nBody.\n')
        part = series.parse_part(path)
        self.assertEqual(part['files'], ['a', 'b', 'c'])
        self.assertEqual(part['subject'], 'mm: do it')
        self.assertEqual(part['body'], 'Body.\n')
        write(path, 'Subject: x\nFrom: me\n\nBody.\n')
        with self.assertRaises(Fail):
            series.parse_part(path)

    def test_entry_blocks(self):
        self.assertEqual(series.series_entry('kernel/mm/memory.c.edit', 't'),
                         ('kernel/mm/memory.c.edit', [1, 2, 3]))
        self.assertEqual(series.series_entry('kernel/mm/memory.c.edit#2', 't')[1], [2])
        for bad in ('kernel/mm/memory.c.edit#4', 'kernel/mm/nonexistent.c',
                    'kernel/mm/vmalloc_sync_kunit.c#1'):
            with self.assertRaises(Fail):
                series.series_entry(bad, 't')
        self.assertEqual(series.series_target('series/MAINTAINERS.edit'), 'MAINTAINERS')
        self.assertEqual(series.series_target('kernel/mm/Kconfig.debug.edit'), 'mm/Kconfig.debug')

    def test_refuses_kernels_that_need_backports(self):
        for kernel in ('6.1', '6.12'):
            with self.assertRaises(Fail) as e:
                series.do_series(kernel=kernel)
            self.assertIn('backports', str(e.exception))


if __name__ == '__main__':
    unittest.main()
