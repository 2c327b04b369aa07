"""./vmsync check (vmsync.check)."""

import glob
import json
import os
import unittest

from support import write, write_ktap, KTAP_PASS, KTAP_FAIL, KTAP_CRASH, MUTANT, CommandLine
from vmsync import check


class TestCompare(unittest.TestCase):
    def report(self, status, cases):
        return {'runs': [{'arch': 'um', 'status': status,
                          'cases': [{'name': n, 'status': s} for n, s in cases]}]}

    def test_build_broken(self):
        d = check.compare_reports(self.report('pass', [('a', 'PASS')]),
                                  self.report('build-error', []))
        self.assertEqual(d['build_broken'], ['um'])
        self.assertEqual(d['newly_failing'], [])

    def test_newly_passing(self):
        d = check.compare_reports(self.report('fail', [('a', 'FAIL'), ('b', 'ERROR')]),
                                  self.report('pass', [('a', 'PASS'), ('b', 'PASS')]))
        self.assertEqual([i['case'] for i in d['newly_passing']], ['a', 'b'])


class TestCheck(CommandLine):
    def check(self, ktap_patched=None, *extra):
        kdir = self.fake()
        patch = os.path.join(self.tmp, 'm.patch')
        write(patch, MUTANT)
        write_ktap(os.path.join(self.tmp, 'ktap'), KTAP_PASS)
        env = dict(FAKE_KUNIT='pass', FAKE_KTAP=os.path.join(self.tmp, 'ktap'))
        if ktap_patched:
            write_ktap(os.path.join(self.tmp, 'ktap2'), ktap_patched)
            env['FAKE_KTAP_PATCHED'] = os.path.join(self.tmp, 'ktap2')
        out_json = os.path.join(self.tmp, 'check.json')
        rc, out, err = self.vmsync('check', '--kernel', kdir, '--json', out_json,
                                   patch, *extra, **env)
        self.assertNotIn('Traceback', err)
        with open(out_json) as f:
            return rc, out, json.load(f)

    def test_no_change(self):
        rc, out, rep = self.check()
        self.assertEqual(rc, 0, out)
        self.assertIn('No change: the 2 case results are the same', out)
        self.assertEqual(rep['newly_failing'], [])

    def passing_check(self):
        """(kernel dir, check(*opts) -> (base output, patched output)): check
        of MUTANT on a fake kernel whose every run passes."""
        kdir = self.fake()
        patch = os.path.join(self.tmp, 'm.patch')
        write(patch, MUTANT)
        write_ktap(os.path.join(self.tmp, 'ktap'), KTAP_PASS)
        env = dict(FAKE_KUNIT='pass', FAKE_KTAP=os.path.join(self.tmp, 'ktap'))

        def check(*opts):
            rc, out, err = self.vmsync('check', '--kernel', kdir, patch, *opts, **env)
            self.assertEqual(rc, 0, out + err)
            return out.split('== patched')
        return kdir, check

    def test_base_result_is_reused_only_while_unchanged(self):
        kdir, check = self.passing_check()
        base, patched = check()
        self.assertNotIn('reusing', base)
        base, patched = check()
        self.assertIn('[um] reusing the result of an identical earlier run', base)
        self.assertNotIn('reusing', patched)       # the patched run is always real
        write(os.path.join(self.tmp, 'suite', 'mm', 'vmalloc_sync_kunit.c'), 'int changed;\n')
        base, patched = check()
        self.assertNotIn('reusing', base)
        write(os.path.join(kdir, 'mm', 'other.c'), 'int changed;\n')   # the user's tree
        base, patched = check()
        self.assertNotIn('reusing', base)

    def test_fault_injection_where_it_cannot_run_is_one_line(self):
        kdir, check = self.passing_check()          # a fake Linux 6.99
        base, patched = check()
        self.assertNotIn('with fault injection', patched)
        patch = os.path.join(self.tmp, 'm.patch')
        rc, out, err = self.vmsync('check', '--kernel', kdir, patch, '--fault-injection')
        self.assertUsageError(rc, err, '--fault-injection: no KUnit re-run fix for Linux 6.99')
        rc, out, err = self.vmsync('check', '--kernel', kdir, patch, '--fault-injection',
                                   '--arch', 'um,x86_64')
        self.assertUsageError(rc, err, 'no fault-injection boot for x86_64')

    def test_kconfig_add_reaches_both_runs(self):
        kdir, check = self.passing_check()
        check('--kconfig_add', 'CONFIG_KASAN=y')
        calls = []
        for path in glob.glob(os.path.join(self.tmp, 'cache', 'build', '*', 'um+*', 'fake-calls')):
            with open(path) as f:
                calls += [json.loads(l) for l in f]
        builds = [c for c in calls if c[0] == 'build']
        self.assertEqual(len(builds), 2, calls)             # the base and the patched kernel
        for c in builds:
            self.assertIn('CONFIG_KASAN=y', c)
        base, patched = check('--kconfig_add', 'CONFIG_KASAN=y')
        self.assertIn('[um] reusing', base)
        base, patched = check()                 # another configuration: its own base
        self.assertNotIn('reusing', base)
        rc, out, err = self.vmsync('check', '--kernel', kdir, os.path.join(self.tmp, 'm.patch'),
                                   '--kconfig_add', 'KASAN')
        self.assertEqual((rc, err.strip()),
                         (2, 'vmsync: --kconfig_add KASAN: expected CONFIG_NAME=VALUE'))

    UNOBSERVED = (
        'diff --git a/mm/vmalloc.c b/mm/vmalloc.c\n'
        '--- a/mm/vmalloc.c\n'
        '+++ b/mm/vmalloc.c\n'
        '@@ -1,4 +1,5 @@\n'
        ' int vmalloc(void)\n'
        ' {\n'
        '-\treturn 0;\n'
        '+\tarch_sync_kernel_mappings(0, 0);\n'
        '+\treturn 1;\n'
        ' }\n')

    def check_observed_line(self, patch_text):
        """check with a suite that rewrites 'return 0;', the line both
        patches change; the patched run fails a case"""
        kdir = self.fake()
        write(os.path.join(self.tmp, 'suite', 'mm', 'vmalloc.c.edit'),
              '@@ replace ^\\treturn 0;$\n\treturn observed(0);\n')
        patch = os.path.join(self.tmp, 'm.patch')
        write(patch, patch_text)
        write_ktap(os.path.join(self.tmp, 'ktap'), KTAP_PASS)
        write_ktap(os.path.join(self.tmp, 'ktap2'), KTAP_FAIL)
        out_json = os.path.join(self.tmp, 'check.json')
        rc, out, err = self.vmsync('check', '--kernel', kdir, '--json', out_json, patch,
                                   FAKE_KUNIT='pass', FAKE_KTAP=os.path.join(self.tmp, 'ktap'),
                                   FAKE_KTAP_PATCHED=os.path.join(self.tmp, 'ktap2'))
        self.assertNotIn('Traceback', err)
        with open(out_json) as f:
            rep = json.load(f)
        self.assertEqual(len(rep['unmatched_edits']), 1)
        self.assertTrue(rep['unmatched_edits'][0].endswith(
            "mm/vmalloc.c.edit: '^\\treturn 0;$'"), rep['unmatched_edits'])
        return rc, out, rep

    def test_cannot_assess_a_sync_call_the_suite_cannot_see(self):
        rc, out, rep = self.check_observed_line(self.UNOBSERVED)
        self.assertEqual(rc, check.CANNOT_ASSESS, out)
        self.assertIn('CANNOT ASSESS: with the patches, mm/vmalloc.c 1 time(s) (series: 0)', out)
        self.assertNotIn('REGRESSION', out)
        self.assertEqual(rep['unobserved_syncs'], {'mm/vmalloc.c': {'series': 0, 'patched': 1}})
        self.assertEqual(rep['exit'], check.CANNOT_ASSESS)

    def test_a_removed_sync_call_is_a_regression(self):
        # like a revert of e80d3909be42: the line is gone, no direct call left
        rc, out, rep = self.check_observed_line(MUTANT)
        self.assertEqual(rc, 1, out)
        self.assertIn('REGRESSION: 1 case(s) newly fail', out)
        self.assertNotIn('CANNOT ASSESS', out)
        self.assertEqual(rep['unobserved_syncs'], {})

    def test_regression(self):
        rc, out, rep = self.check(KTAP_FAIL)
        self.assertEqual(rc, 1, out)
        self.assertIn('REGRESSION: 1 case(s) newly fail:', out)
        self.assertIn('[um] vmalloc_sync.test_a: PASS -> FAIL', out)
        self.assertEqual([(i['case'], i['base'], i['patched']) for i in rep['newly_failing']],
                         [('vmalloc_sync.test_a', 'PASS', 'FAIL')])
        # test_b went from SKIP to PASS: a change, but not a newly passing case
        self.assertEqual([i['case'] for i in rep['other_changes']], ['vmalloc_sync.test_b'])

    def test_crash_is_a_regression(self):
        rc, out, rep = self.check(KTAP_CRASH)
        self.assertEqual(rc, 1, out)
        self.assertIn('ERROR', [i['patched'] for i in rep['newly_failing']])

    def test_base_that_does_not_build(self):
        kdir = self.fake()
        patch = os.path.join(self.tmp, 'm.patch')
        write(patch, MUTANT)
        write_ktap(os.path.join(self.tmp, 'ktap'), KTAP_PASS)
        rc, out, err = self.vmsync('check', '--kernel', kdir, patch, FAKE_KUNIT='build-error',
                                   FAKE_KTAP=os.path.join(self.tmp, 'ktap'))
        self.assertEqual(rc, 3, err)
        self.assertIn('nothing to compare', err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_bad_input_before_any_build(self):
        kdir = self.fake()
        rc, out, err = self.vmsync('check', '--kernel', kdir, '/nonexistent.mbox')
        self.assertUsageError(rc, err, 'no such file')
        self.assertNotIn('[um] build', out)
        rc, out, err = self.vmsync('check', '--kernel', kdir)
        self.assertUsageError(rc, err, 'at least one PATCH')


if __name__ == '__main__':
    unittest.main()
