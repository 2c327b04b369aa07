"""./vmsync run end to end, with a fake kernel tree and kunit.py (vmsync.run)."""

import json
import os
import unittest

from support import write, write_ktap, read, KTAP_PASS, KTAP_FAIL, KTAP_CRASH, KUNIT_JSON, MUTANT, BAD_PATCH, CommandLine, TempDirTest
from vmsync import run, sources


class TestRun(CommandLine):
    def test_missing_patch_file(self):
        rc, out, err = self.vmsync('run', '--kernel', self.fake(), '--patch', '/nonexistent.patch')
        self.assertUsageError(rc, err, 'no such file')

    def test_patch_does_not_apply(self):
        kdir = self.fake()
        bad = os.path.join(self.tmp, 'bad.patch')
        write(bad, BAD_PATCH)
        rc, out, err = self.vmsync('run', '--kernel', kdir, '--patch', bad)
        self.assertUsageError(rc, err, 'does not apply')
        self.assertEqual(read(os.path.join(kdir, 'mm/vmalloc.c')),
                         'int vmalloc(void)\n{\n\treturn 0;\n}\n')

    def test_mbox_names_the_mail_that_does_not_apply(self):
        kdir = self.fake()
        mbox = os.path.join(self.tmp, 'series.mbox')
        cover = ('From 0000 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 0/2] cover\n\n'
                 'Two patches.\n\n')
        second = BAD_PATCH.replace('Subject: [PATCH] mutant: vmalloc returns 1',
                                   'Subject: [PATCH 2/2] mm: the one that does not apply')
        write(mbox, cover + MUTANT + '\n' + second)
        rc, out, err = self.vmsync('run', '--kernel', kdir, '--patch', mbox)
        self.assertUsageError(rc, err, 'does not apply')
        self.assertIn('patch mail 3 of 3 of %s ([PATCH 2/2] mm: the one that does not apply)'
                      % mbox, err)
        self.assertEqual(read(os.path.join(kdir, 'mm/vmalloc.c')),
                         'int vmalloc(void)\n{\n\treturn 0;\n}\n')

    def test_mbox_with_cover_letter_applies(self):
        kdir = self.fake()
        mbox = os.path.join(self.tmp, 'series.mbox')
        write(mbox, 'From 0000 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 0/1] cover\n\n'
                    'One patch.\n\n' + MUTANT)
        write_ktap(os.path.join(self.tmp, 'ktap'), KTAP_PASS)
        rc, out, err = self.vmsync('run', '--kernel', kdir, '--patch', mbox, FAKE_KUNIT='pass',
                                   FAKE_KTAP=os.path.join(self.tmp, 'ktap'))
        self.assertEqual(rc, 0, err)
        copy = os.path.join(self.tmp, 'cache', 'trees', sources.path_key(kdir))
        self.assertIn('return 1', read(os.path.join(copy, 'mm/vmalloc.c')))

    def run_fake(self, mode, ktap=KTAP_PASS, *extra, kunit_json=None):
        kdir = self.fake()
        write_ktap(os.path.join(self.tmp, 'ktap'), ktap, kunit_json)
        out_json = os.path.join(self.tmp, 'out.json')
        rc, out, err = self.vmsync('run', '--kernel', kdir, '--json', out_json, *extra,
                                   FAKE_KUNIT=mode, FAKE_KTAP=os.path.join(self.tmp, 'ktap'))
        self.assertNotIn('Traceback', err)
        with open(out_json) as f:
            return rc, out, json.load(f)

    def test_pass(self):
        rc, out, rep = self.run_fake('pass', KTAP_PASS, '--jobs', '3')
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.strip().splitlines()[-1], '1 passed, 0 failed, 1 skipped')
        self.assertIn('[um] build ...', out)
        self.assertEqual(rep['kernel']['version'], '6.99.7-fake')
        self.assertEqual(rep['kernel']['source'], os.path.join(self.tmp, 'linux'))
        run = rep['runs'][0]
        self.assertEqual((run['arch'], run['status']), ('um', 'pass'))
        self.assertEqual(run['cases'], [
            {'name': 'vmalloc_sync.test_a', 'status': 'PASS', 'log': ''},
            {'name': 'vmalloc_sync.test_b', 'status': 'SKIP', 'log': '# SKIP not on this arch'}])
        self.assertIsInstance(run['build_s'], float)
        self.assertIsInstance(run['run_s'], float)
        # config, build and exec are separate kunit.py calls, with ccache
        with open(os.path.join(run['build_dir'], 'fake-calls')) as f:
            calls = [json.loads(l) for l in f]
        self.assertEqual([c[0] for c in calls], ['config', 'build', 'exec'])
        for c in calls:
            for opt in ('--build_dir', '--arch', '--kunitconfig', '--make_options'):
                self.assertIn(opt, c)
            self.assertEqual(c[c.index('--make_options') + 1], 'CC=ccache gcc')
            self.assertTrue(c[c.index('--kunitconfig') + 1].endswith(
                'mm/.kunitconfig'))
        self.assertEqual(calls[1][calls[1].index('--jobs') + 1], '3')
        self.assertTrue(os.path.exists(os.path.join(run['build_dir'], 'kunit.json')))

    def test_backport_for_this_version_only(self):
        kdir = self.fake()
        bps = os.path.join(self.tmp, 'backports')
        write(os.path.join(bps, '6.99/mm/vmalloc_sync_kunit.c.edit'), '@@ end\nint bp699;\n')
        write(os.path.join(bps, '6.1/mm/vmalloc_sync_kunit.c.edit'), '@@ end\nint bp61;\n')
        write_ktap(os.path.join(self.tmp, 'ktap'), KTAP_PASS)
        rc, out, err = self.vmsync('run', '--kernel', kdir, VMSYNC_BACKPORTS=bps,
                                   FAKE_KUNIT='pass', FAKE_KTAP=os.path.join(self.tmp, 'ktap'))
        self.assertEqual(rc, 0, err)
        copy = os.path.join(self.tmp, 'cache', 'trees', sources.path_key(kdir))
        self.assertEqual(read(os.path.join(copy, 'mm/vmalloc_sync_kunit.c')),
                         'int t;\nint bp699;\n')

    def test_fail(self):
        rc, out, rep = self.run_fake('fail', KTAP_FAIL)
        self.assertEqual(rc, 1)
        self.assertEqual(rep['runs'][0]['status'], 'fail')
        self.assertIn('FAIL [um] vmalloc_sync.test_a', out)
        self.assertIn('EXPECTATION FAILED', out)
        self.assertEqual(out.strip().splitlines()[-1], '1 passed, 1 failed, 0 skipped')

    def test_crash(self):
        rc, out, rep = self.run_fake('fail', KTAP_CRASH)
        self.assertEqual(rc, 1)
        statuses = [c['status'] for c in rep['runs'][0]['cases']]
        self.assertEqual(statuses, ['PASS', 'ERROR', 'ERROR', 'FAIL'])
        # the oops is also a report printed while the suite ran
        self.assertEqual(rep['runs'][0]['cases'][-1]['name'], 'vmsync.splat')

    def test_kunit_py_disagrees(self):
        # kunit.py read the crash as passes: never a pass, the run fails
        rc, out, rep = self.run_fake('pass', KTAP_CRASH, kunit_json=KUNIT_JSON[KTAP_PASS])
        self.assertEqual(rc, 1, out)
        case = [c for c in rep['runs'][0]['cases'] if c['name'] == 'vmsync.parser_agreement'][0]
        self.assertEqual(case['status'], 'FAIL')
        # vmsync's ERRORs kunit.json lacks are stricter, not a disagreement
        self.assertIn('vmalloc_sync.test_b: vmsync ABSENT, kunit.py SKIP', case['log'])
        self.assertIn('FAIL [um] vmsync.parser_agreement', out)
        # and where vmsync sees a pass kunit.py does not
        rc, out, rep = self.run_fake('pass', KTAP_PASS, kunit_json=KUNIT_JSON[KTAP_FAIL])
        self.assertEqual(rc, 1, out)
        self.assertIn('vmalloc_sync.test_a: vmsync PASS, kunit.py FAIL',
                      rep['runs'][0]['cases'][-1]['log'])

    def test_kunit_py_wrote_no_json(self):
        rc, out, rep = self.run_fake('pass', KTAP_PASS, kunit_json='not json')
        self.assertEqual(rc, 1, out)
        self.assertEqual(rep['runs'][0]['cases'][-1]['name'], 'vmsync.parser_agreement')
        self.assertIn('no kunit.py result', out)

    def test_wrong_page_table_setup(self):
        rc, out, rep = self.run_fake('wrong-setup', KTAP_PASS)
        self.assertEqual(rc, 1)
        self.assertEqual(rep['runs'][0]['cases'][-1]['name'], 'vmsync.boot_log')
        self.assertIn('not the page-table setup --arch um is for', out)
        self.assertIn('(the suite said: nothing)', out)

    def test_build_error(self):
        rc, out, rep = self.run_fake('build-error')
        self.assertEqual(rc, 3)
        self.assertEqual(rep['runs'][0]['status'], 'build-error')
        self.assertIn('expected something', out)

    def test_no_boot(self):
        rc, out, rep = self.run_fake('noboot')
        self.assertEqual(rc, 3)
        self.assertEqual(rep['runs'][0]['status'], 'build-error')

    def test_user_tree_is_never_modified_and_resynced(self):
        kdir = self.fake()
        before = {p: read(os.path.join(kdir, p)) for p in ('mm/Makefile', 'mm/vmalloc.c')}
        patch = os.path.join(self.tmp, 'm.patch')
        write(patch, MUTANT)
        write_ktap(os.path.join(self.tmp, 'ktap'), KTAP_PASS)
        env = dict(FAKE_KUNIT='pass', FAKE_KTAP=os.path.join(self.tmp, 'ktap'))
        rc, out, err = self.vmsync('run', '--kernel', kdir, '--patch', patch, **env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(before, {p: read(os.path.join(kdir, p)) for p in before})
        self.assertFalse(os.path.exists(os.path.join(kdir, 'mm/vmalloc_sync_kunit.c')))
        # the user changes the tree: the next run's copy has the change
        write(os.path.join(kdir, 'mm/vmalloc.c'), 'int vmalloc(void) { return 2; }\n')
        rc, out, err = self.vmsync('run', '--kernel', kdir, **env)
        self.assertEqual(rc, 0, err)
        copy = os.path.join(self.tmp, 'cache', 'trees', sources.path_key(kdir))
        self.assertEqual(read(os.path.join(copy, 'mm/vmalloc.c')),
                         'int vmalloc(void) { return 2; }\n')
        self.assertTrue(os.path.exists(os.path.join(copy, 'mm/vmalloc_sync_kunit.c')))


if __name__ == '__main__':
    unittest.main()


class TestBackportsFor(TempDirTest):
    def test_every_version_at_or_above_the_kernels_newest_first(self):
        for d in ('6.1', '6.12', '6.6'):
            os.makedirs(os.path.join(self.tmp, d))
        write(os.path.join(self.tmp, 'README'), 'not a version\n')
        got = lambda v: [os.path.basename(d) for d in run.backports_for(v, self.tmp)]
        self.assertEqual(got('6.1.192'), ['6.12', '6.6', '6.1'])
        self.assertEqual(got('6.6.60'), ['6.12', '6.6'])
        self.assertEqual(got('6.12.118'), ['6.12'])
        self.assertEqual(got('7.2.13'), [])
        self.assertEqual(got('6.13-rc1'), [])

    def test_the_real_backports(self):
        got = [os.path.basename(d) for d in run.backports_for('6.1.192')]
        self.assertEqual(got, ['6.12', '6.1'])
        self.assertEqual(run.backports_for('7.2.13'), [])
