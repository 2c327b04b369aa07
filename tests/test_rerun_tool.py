"""tools/rerun/split.py on real consoles of tools/rerun/run.sh boots (6.12.118)."""

import gzip
import io
import os
import shutil
import tempfile
import unittest
from contextlib import redirect_stdout

from support import load_tool

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, 'data', 'rerun')
split = load_tool('tools/rerun/split.py', 'rerun_split')

FAIL_CASE = 'vmalloc_sync.table_alloc_failure_still_syncs.'


class TestSplit(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)

    def run_split(self, name, edit=None, args=()):
        """(exit status, stdout) of split.py ARGS on console NAME.gz, edited
        by edit(text) if given."""
        path = os.path.join(self.tmp, name)
        with gzip.open(os.path.join(DATA, name + '.gz'), 'rt', errors='replace') as f:
            text = f.read()
        with open(path, 'w') as g:
            g.write(edit(text) if edit else text)
        out = io.StringIO()
        self.addCleanup(setattr, split, 'ENTRY', split.ENTRY)  # --entry-kib sets the global
        with redirect_stdout(out):
            rc = split.main(['split.py', path] + list(args))
        return rc, out.getvalue()

    def test_fixed_kunit_with_fault_injection_agrees(self):
        # KUnit patched (kunit-rerun-skipped), fail_page_alloc on after run 0
        rc, out = self.run_split('um-fail.console')
        self.assertEqual(rc, 0, out)
        self.assertIn('fail_page_alloc on from run 1: 12 case(s)', out)
        self.assertIn('every run equals run 0', out)
        table = out.split('\n(SKIP*')[0]
        self.assertNotRegex(table, r' (skip0|\(0\))( |\n|$)')
        self.assertRegex(out, r'\ntable_alloc_failure_still_syncs.vmap_pages_range_PTE_tables +skip +pass +pass +pass\n')

    def test_report_during_a_rerun_is_a_difference(self):
        # UML's boot WARNING (um_pci_init) is the boot's; the same line
        # printed during run 2 is the suite's
        warning = [l for l in gzip.open(os.path.join(DATA, 'um-fail.console.gz'), 'rt')
                   if 'WARNING: CPU: 0 PID: 1 at arch/um/drivers/virt-pci.c' in l][0]
        rc, out = self.run_split('um-fail.console')
        self.assertIn("report before the suite started (the boot's, not counted)", out)
        self.assertEqual(rc, 0, out)
        rc, out = self.run_split('um-fail.console', lambda t: t.replace(
            '=== run 2 end ===\n', '=== run 2 end ===\n' + warning, 1))
        self.assertEqual(rc, 1, out)
        self.assertIn('the kernel printed a report while the suite ran: WARNING: CPU: 0 PID: 1 '
                      'at arch/um/drivers/virt-pci.c:1005', out)

    def test_i386_needs_fresh_entries_for_fault_injection(self):
        # vmalloc=256M (run.sh --fail): 48 fresh PMD entries after boot, 20 per run
        rc, out = self.run_split('i386-fail.console')
        self.assertEqual(rc, 0, out)
        self.assertIn('after run 0: 196 MiB empty in 1 range(s) 0xf3000000-0xff400000, 48 usable', out)
        self.assertRegex(out, r'\ntable_alloc_failure_still_syncs.vmap_pages_range_PTE_tables +skip +pass +pass\n')

    def test_arm_runs_out_after_five_runs(self):
        # arm's default 240 MiB vmalloc area: 5 whole runs, then "used them up"
        rc, out = self.run_split('arm-fail-12.console')
        self.assertEqual(rc, 0, out)
        self.assertIn('run 5: 18 pass, 0 fail, 22 skip, 0 error', out)
        self.assertIn('run 6: 11 case(s) skipped as "earlier runs used them up"', out)
        self.assertIn('VmallocTotal 245760 kB', out)

    def test_i386_pae_counts_2_mib_entries(self):
        # run.sh passes --entry-kib 2048 for PAE; 21 entries (42 MiB) per run
        rc, out = self.run_split('i386-pae-fail-5.console', args=('--entry-kib', '2048'))
        self.assertEqual(rc, 0, out)
        self.assertIn('after run 1: 182 MiB empty in 1 range(s) 0xf4000000-0xff600000, '
                      '90 usable 2048 KiB entries, -42 MiB vs run 0', out)

    def test_arm64_runs_the_pud_table_parameters(self):
        # 5 levels with LPA2: a new PUD table under an empty P4D entry
        rc, out = self.run_split('arm64-fail-3.console')
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r'\ntable_alloc_failure_still_syncs.vmap_pages_range_PUD_tables +skip +pass +pass +pass\n')
        self.assertIn('run 3: 32 pass, 0 fail, 8 skip, 0 error', out)

    def test_revert_of_error_path_fix_is_caught_on_i386(self):
        rc, out = self.run_split('i386-fail-04.console')
        self.assertEqual(rc, 1, out)
        self.assertIn('run 1 %svmap_pages_range_PTE_tables: FAIL' % FAIL_CASE, out)
        self.assertNotIn('run 1 %sapply_to_page_range_PTE_tables' % FAIL_CASE, out)

    def test_revert_of_error_path_fix_is_caught(self):
        # the same, with corpus/04 (revert of 3685024edd27) applied
        rc, out = self.run_split('um-fail-04.console')
        self.assertEqual(rc, 1, out)
        self.assertIn('run 1 %svmap_pages_range_PTE_tables: FAIL' % FAIL_CASE, out)
        self.assertIn('no pgtbl_sync_kernel_mappings() call covering it reported PMD', out)
        self.assertNotIn('run 1 %svmap_page_range_PTE_tables' % FAIL_CASE, out)

    def test_stock_kunit_does_not_rerun_skipped_cases(self):
        # KUnit as 6.12.118 ships it: what skipped in run 0 is "# SKIP" with
        # no reason afterwards, and that is a difference, never agreement
        rc, out = self.run_split('um-stock.console')
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r'\ntable_alloc_failure_still_syncs.vmap_pages_range_PTE_tables +skip +\(0\) +\(0\)\n')
        self.assertIn('run 1 vmalloc_sync.table_alloc_failure_still_syncs: not run, "# SKIP" without a reason', out)


if __name__ == '__main__':
    unittest.main()
