"""KTAP parsing (vmsync.ktap)."""

import contextlib
import glob
import importlib
import inspect
import io
import os
import sys
import textwrap
import unittest

from support import data, DATA, KTAP_PASS, KTAP_FAIL, KTAP_CRASH
from vmsync import ktap
from vmsync.paths import cache_dir


class TestKtap(unittest.TestCase):
    def parse(self, text):
        cases, saw = ktap.parse_ktap(textwrap.dedent(text))
        return {c['name']: (c['status'], c['log']) for c in cases}, saw

    def test_pass_skip_fail(self):
        cases, saw = self.parse(KTAP_FAIL)
        self.assertTrue(saw)
        self.assertEqual(cases['vmalloc_sync.test_b'], ('PASS', ''))
        status, log = cases['vmalloc_sync.test_a']
        self.assertEqual(status, 'FAIL')
        self.assertIn('EXPECTATION FAILED at mm/vmalloc_sync_kunit.c:42', log)
        self.assertIn('    calls == 0 (0x0)', log)
        cases, _ = self.parse(KTAP_PASS)
        self.assertEqual(cases['vmalloc_sync.test_b'], ('SKIP', '# SKIP not on this arch'))
        self.assertEqual(len(cases), 2)

    def test_params_and_printk_prefix(self):
        text = data('ktap/printk-params.ktap')
        cases, _ = self.parse(text)
        self.assertEqual(sorted(cases), ['s.case_p.p4d level', 's.case_p.pgd level',
                                         's.case_p.pud level', 's.plain'])
        self.assertEqual(cases['s.case_p.p4d level'][0], 'FAIL')
        self.assertEqual(cases['s.case_p.pud level'], ('SKIP', '# SKIP folded'))

    def test_6_1_skipped_param(self):
        text = data('ktap/6.1-skipped-param.ktap')
        cases, _ = self.parse(text)
        self.assertEqual(cases['s.case_p.pgd level'][0], 'PASS')
        self.assertEqual(cases['s.case_p.p4d level'][0], 'SKIP')
        self.assertIn('folded here', cases['s.case_p.p4d level'][1])

    def test_6_1_first_param_skipped(self):
        # real 6.1.192 UML output: the first parameter's marker follows the
        # case's "# Subtest:" header, where kunit_parser files it under the case
        cases, _ = self.parse(data('ktap/6.1.192-um-suite.log'))
        first = cases['vmalloc_sync.table_alloc_failure_still_syncs.apply_to_page_range_PTE_tables']
        self.assertEqual(first[0], 'SKIP')
        self.assertIn('cannot be made to fail', first[1])
        self.assertEqual(cases['vmalloc_sync.apply_to_page_range_syncs_new_levels.new_PTE_table'][0],
                         'PASS')
        statuses = [st for st, _ in cases.values()]
        self.assertEqual((statuses.count('PASS'), statuses.count('SKIP')), (16, 24))

    def test_crash_is_error(self):
        cases, saw = self.parse(KTAP_CRASH)
        self.assertTrue(saw)
        self.assertEqual(cases['vmalloc_sync.test_a'][0], 'PASS')
        self.assertEqual(cases['vmalloc_sync.#2'][0], 'ERROR')
        self.assertIn('NULL pointer dereference', cases['vmalloc_sync.#2'][1])
        self.assertEqual(cases['vmalloc_sync.#3'][0], 'ERROR')

    def test_hang_without_plan(self):
        text = 'KTAP version 1\n    KTAP version 1\n    # Subtest: s\n    ok 1 a\n'
        cases, _ = self.parse(text)
        self.assertEqual(cases['s.#2'][0], 'ERROR')

    def test_suite_that_never_started(self):
        cases, _ = self.parse(KTAP_PASS.replace('1..1\n', '1..2\n', 1))
        self.assertEqual(cases['suite#2'][0], 'ERROR')

    def test_try_faulted_is_error(self):
        text = KTAP_FAIL.replace('Expected calls == 1, but', 'test_a: try faulted')
        cases, _ = self.parse(text)
        self.assertEqual(cases['vmalloc_sync.test_a'][0], 'ERROR')

    def test_suite_init_failure(self):
        text = data('ktap/suite-init-failure.ktap')
        cases, _ = self.parse(text)
        self.assertEqual(cases['s'][0], 'FAIL')
        self.assertIn('failed to initialize', cases['s'][1])

    def test_no_ktap(self):
        self.assertEqual(ktap.parse_ktap('Booting...\nKernel panic\n'), ([], False))

    def test_no_top_level_plan_is_an_error(self):
        cases, _ = self.parse(KTAP_PASS.replace('1..1\n', '', 1))
        self.assertEqual(cases['vmsync.ktap'][0], 'ERROR')
        self.assertIn('no test plan', cases['vmsync.ktap'][1])
        self.assertEqual(cases['vmalloc_sync.test_a'][0], 'PASS')

    def test_ktap_without_tests_is_an_error(self):
        cases, saw = self.parse('KTAP version 1\n1..0\n')
        self.assertTrue(saw)
        self.assertEqual(list(cases), ['vmsync.ktap'])
        self.assertIn('ran no test', cases['vmsync.ktap'][1])

    def test_result_out_of_order_is_an_error(self):
        cases, _ = self.parse(KTAP_PASS.replace('ok 2 test_b', 'ok 5 test_b'))
        self.assertIn('expected test number 2', cases['vmsync.ktap'][1])

    def test_nesting_by_headers_not_indentation(self):
        # tabs, two spaces, no indentation at all: the same cases
        for indent in ('\t', '  ', ''):
            text = KTAP_CRASH.replace('    ', indent)
            cases, _ = self.parse(text)
            self.assertEqual({n: s for n, (s, _) in cases.items()},
                             {'vmalloc_sync.test_a': 'PASS', 'vmalloc_sync.#2': 'ERROR',
                              'vmalloc_sync.#3': 'ERROR'}, repr(indent))


class TestDisagreements(unittest.TestCase):
    def test_statuses_and_deliberate_differences(self):
        cases = [{'name': 's.a', 'status': 'PASS', 'log': ''},
                 {'name': 's.b', 'status': 'ERROR', 'log': '# b: try faulted'},
                 {'name': 's.c', 'status': 'SKIP', 'log': '# c: vmsync-6.1-skip: x'},
                 {'name': 's.#4', 'status': 'ERROR', 'log': ktap.UNFINISHED},
                 {'name': 'vmsync.boot_log', 'status': 'ERROR', 'log': ''}]
        theirs = [('s.a', 'PASS'), ('s.b', 'FAIL'), ('s.c', 'PASS'), ('s.#4', 'ERROR')]
        self.assertEqual(ktap.disagreements(cases, theirs), [])
        self.assertEqual(ktap.disagreements(cases, [('s.a', 'ERROR')] + theirs[1:]),
                         ['s.a: vmsync PASS, kunit.py ERROR'])
        self.assertEqual(ktap.disagreements(cases[1:], theirs),
                         ['s.a: vmsync ABSENT, kunit.py PASS'])
        # kunit.json: unnamed cases, no status of a test with subtests
        json = {'name': 'KUnit Test Group', 'test_cases': [], 'sub_groups': [
            {'name': 's', 'sub_groups': [], 'test_cases': [
                {'name': 'a', 'status': 'PASS'}, {'name': 'b', 'status': 'FAIL'},
                {'name': 'c', 'status': 'PASS'}, {'name': '', 'status': 'ERROR'}]}]}
        theirs = ktap.json_cases(json)
        self.assertIn(('s.#?', 'ERROR'), theirs)
        extra = cases + [{'name': 't', 'status': 'FAIL', 'log': ''}]
        self.assertEqual(ktap.disagreements(extra, theirs, unnamed=True, strict=False), [])
        self.assertEqual(ktap.disagreements(extra, theirs, unnamed=True),
                         ['t: vmsync FAIL, kunit.py ABSENT'])


def trees():
    """kunit_parser.py of every cached tree, looked up at each call: ./vmsync
    test runs the comparison again once it has unpacked trees."""
    return sorted(glob.glob(os.path.join(cache_dir(), 'trees', '*', 'tools', 'testing',
                                         'kunit', 'kunit_parser.py')))


def kunit_parser_of(kdir):
    """A fresh import of one tree's kunit_parser (they differ between
    versions), printing nothing."""
    for m in [m for m in sys.modules if m.startswith('kunit_')]:
        del sys.modules[m]
    sys.path.insert(0, kdir)
    try:
        kp = importlib.import_module('kunit_parser')
        printer = importlib.import_module('kunit_printer')
    finally:
        sys.path.remove(kdir)
        for m in [m for m in sys.modules if m.startswith('kunit_')]:
            del sys.modules[m]
    quiet = printer.Printer(output=io.StringIO())
    if hasattr(kp, 'stdout'):           # 6.12: one module-wide printer
        kp.stdout = quiet
    extra = [quiet] if len(inspect.signature(kp.parse_run_tests).parameters) > 1 else []

    def parse(text):
        with contextlib.redirect_stdout(io.StringIO()):
            return kp.parse_run_tests(text.splitlines(True), *extra)
    return parse


class TestAgreesWithKunitParser(unittest.TestCase):
    """vmsync's parser and the tree's kunit_parser on the tree's own fixture
    logs (tools/testing/kunit/test_data/*.log): the same cases, the same
    statuses (kunit.py's crashes as ERROR); the only differences allowed are
    disagreements()'s deliberate ones, and vmsync's own 'vmsync.ktap'."""

    def test_fixture_logs_of_every_cached_tree(self):
        if not trees():
            self.skipTest('no kernel tree in %s/trees (./vmsync test compares '
                          'again once it has unpacked them)' % cache_dir())
        for path in trees():
            kdir = os.path.dirname(path)
            parse = kunit_parser_of(kdir)
            logs = sorted(glob.glob(os.path.join(kdir, 'test_data', '*.log')))
            self.assertTrue(logs, kdir)
            # and vmsync's own fixtures (6.1's marker: a deliberate SKIP)
            logs += sorted(glob.glob(os.path.join(DATA, 'ktap', '*.ktap')))
            for log in logs:
                with self.subTest(tree=kdir.split(os.sep)[-4], log=os.path.basename(log)):
                    with open(log, errors='replace') as f:
                        text = f.read()
                    theirs = ktap.kunit_cases(parse(text))
                    cases, _ = ktap.parse_ktap(text)
                    self.assertEqual(ktap.disagreements(cases, theirs), [])
                    if any(s == 'ERROR' for _, s in theirs):
                        self.assertTrue(any(c['status'] == 'ERROR' for c in cases))

    def test_kernel_panic_interrupt(self):
        """The log the issue named: kunit.py reports 2 crashed."""
        if not trees():
            self.skipTest('no kernel tree in %s/trees' % cache_dir())
        log = os.path.join(os.path.dirname(trees()[0]), 'test_data',
                           'test_kernel_panic_interrupt.log')
        with open(log) as f:
            cases, _ = ktap.parse_ktap(f.read())
        st = {c['name']: c['status'] for c in cases}
        self.assertEqual(st['string-stream-test.#2'], 'ERROR')
        self.assertEqual(st['string-stream-test.#3'], 'ERROR')
        self.assertEqual(sum(s == 'PASS' for s in st.values()), 8)


if __name__ == '__main__':
    unittest.main()
