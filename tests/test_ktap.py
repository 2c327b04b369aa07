"""KTAP parsing (vmsync.ktap)."""

import textwrap
import unittest

from support import data, KTAP_PASS, KTAP_FAIL, KTAP_CRASH
from vmsync import ktap


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


if __name__ == '__main__':
    unittest.main()
