"""--fault-injection's merge of a tools/rerun boot into a run result, on real
consoles of tools/rerun/run.sh --fail boots (6.12.118, tests/data/rerun/)."""

import contextlib
import gzip
import io
import json
import os
import shutil
import tempfile
import unittest

from support import DATA, load_tool
from vmsync import faults

split = load_tool('tools/rerun/split.py', 'rerun_split_for_faults')

CASE = 'vmalloc_sync.table_alloc_failure_still_syncs.'


class TestMerge(unittest.TestCase):
    def split_json(self, name, edit=None):
        """split.py's JSON of console NAME.gz (edited by edit(text) if given)."""
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        path = os.path.join(tmp, name)
        with gzip.open(os.path.join(DATA, 'rerun', name + '.gz'), 'rt', errors='replace') as f:
            text = f.read()
        with open(path, 'w') as g:
            g.write(edit(text) if edit else text)
        with contextlib.redirect_stdout(io.StringIO()):
            split.main(['split.py', path, '--json', path + '.json'])
        with open(path + '.json') as f:
            return json.load(f)

    def merged(self, rerun):
        """A run result whose cases are run 0 (what kunit.py saw in the same
        kind of boot), after merge()."""
        res = {'status': 'pass', 'cases': [
            {'name': n, 'status': c['status'], 'log': c['log']}
            for n, c in rerun['runs']['0'].items()]}
        faults.merge(res, rerun)
        return res, {c['name']: c for c in res['cases']}

    def test_fault_cases_take_the_second_run(self):
        rerun = self.split_json('um-fail.console')
        res, cases = self.merged(rerun)
        self.assertEqual(res['status'], 'pass')
        self.assertEqual(res['fault_injection_cases'], 12)
        self.assertNotIn('vmsync.fault_injection', cases)
        c = cases[CASE + 'vmap_pages_range_PTE_tables']
        self.assertEqual(rerun['runs']['0'][c['name']]['status'], 'SKIP')
        self.assertEqual(c['status'], 'PASS')
        self.assertIn('run again with fail_page_alloc on', c['log'])
        self.assertIn('walks 1 to 2 failed their Nth table allocation', c['log'])
        # UML folds PUD and P4D: those parameters skip for that reason, truly
        self.assertEqual(cases[CASE + 'vmap_pages_range_PUD_tables']['status'], 'SKIP')
        # every other case keeps its first-run result
        for name, c in cases.items():
            if not name.startswith(CASE):
                self.assertEqual(c['status'], rerun['runs']['0'][name]['status'], name)

    def test_corpus_04_fails_the_fault_cases(self):
        # tools/rerun/run.sh --fail --patch corpus/04-revert-3685024edd27-...
        res, cases = self.merged(self.split_json('um-fail-04.console'))
        self.assertEqual(res['status'], 'fail')
        failed = sorted(n for n, c in cases.items() if c['status'] == 'FAIL')
        self.assertEqual(failed, [CASE + 'vmap_pages_range_PMD_tables',
                                  CASE + 'vmap_pages_range_PTE_tables'])
        self.assertIn('no pgtbl_sync_kernel_mappings() call covering it reported PMD',
                      cases[CASE + 'vmap_pages_range_PTE_tables']['log'])

    def test_stock_kunit_is_an_error_not_a_pass(self):
        # without the KUnit fix the cases skipped at boot are never run again
        res, cases = self.merged(self.split_json('um-stock.console'))
        self.assertEqual(res['status'], 'fail')
        self.assertEqual(cases['vmsync.fault_injection']['status'], 'ERROR')
        self.assertIn('not run again (KUnit kept its skip)',
                      cases['vmsync.fault_injection']['log'])

    def test_knobs_not_set_is_an_error(self):
        # /init could not turn fail_page_alloc on: nothing ran with it
        res, cases = self.merged(self.split_json('um-fail.console', lambda t: t.replace(
            'ignore-gfp-wait = N', 'ignore-gfp-wait: cannot write')))
        self.assertEqual(res['status'], 'fail')
        self.assertIn('none ran with it', cases['vmsync.fault_injection']['log'])

    def test_report_in_the_second_run_is_an_error(self):
        warning = [l for l in gzip.open(os.path.join(DATA, 'rerun', 'um-fail.console.gz'), 'rt')
                   if 'WARNING: CPU: 0 PID: 1 at arch/um/drivers/virt-pci.c' in l][0]
        res, cases = self.merged(self.split_json('um-fail.console', lambda t: t.replace(
            '=== run 2 end ===\n', '=== run 2 end ===\n' + warning, 1)))
        self.assertEqual(res['status'], 'fail')
        self.assertIn('the kernel printed a report while the suite ran: WARNING',
                      cases['vmsync.fault_injection']['log'])

    def test_no_result_is_an_error(self):
        res = {'status': 'pass', 'cases': []}
        faults.merge(res, None)
        self.assertEqual(res['status'], 'fail')
        self.assertEqual(res['cases'][-1]['name'], 'vmsync.fault_injection')


class TestOptions(unittest.TestCase):
    def test_unknown_arch_and_kernel_are_one_line_errors(self):
        with self.assertRaisesRegex(faults.Fail, 'no fault-injection boot for x86_64'):
            faults.check_arches(['um', 'x86_64'])
        with self.assertRaisesRegex(faults.Fail, 'no KUnit re-run fix for Linux 6.1.192'):
            faults.kunit_fix('6.1.192')
        self.assertTrue(os.path.isfile(faults.kunit_fix('6.12.118')))
        self.assertTrue(os.path.isfile(faults.kunit_fix('7.2.13')))

    def test_kconfig_is_run_sh_s(self):
        self.assertIn('CONFIG_FAIL_PAGE_ALLOC=y', faults.kconfig('um'))
        self.assertIn('CONFIG_VFP=y', faults.kconfig('arm'))


if __name__ == '__main__':
    unittest.main()
