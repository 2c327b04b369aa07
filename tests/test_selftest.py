"""./vmsync test's own logic (vmsync.selftest)."""

import io
import json
import os
import unittest
from unittest import mock

from support import MUTANT, TempDirTest
from vmsync import selftest


class TestKillOn(unittest.TestCase):
    def test_format_patch(self):
        self.assertEqual(selftest.parse_kill_on(MUTANT), ['um', 'i386'])

    def test_plain_diff(self):
        self.assertEqual(selftest.parse_kill_on('Kill-On: x86_64\ndiff --git a/x b/x\n'),
                         ['x86_64'])

    def test_empty(self):
        self.assertEqual(selftest.parse_kill_on('Subject: x\nKill-On: \n\nwhy\n---\n'), [])

    def test_missing_or_after_diff(self):
        self.assertIsNone(selftest.parse_kill_on('Subject: x\n---\nKill-On: um\n'))
        self.assertIsNone(selftest.parse_kill_on('diff --git a/x b/x\n+Kill-On: um\n'))


class TestMutantArches(unittest.TestCase):
    ARCHES = ['um', 'i386', 'arm', 'arm64']

    def test_ci_runs_each_mutant_once_on_its_first_ci_arch(self):
        self.assertEqual(selftest.mutant_arches(['x86_64', 'arm', 'um'], self.ARCHES, False),
                         ['arm'])
        self.assertEqual(selftest.mutant_arches(['x86_64'], self.ARCHES, False), [])
        self.assertEqual(selftest.mutant_arches([], self.ARCHES, False), [])
        self.assertEqual(selftest.mutant_arches(None, self.ARCHES, False), [])

    def test_full_runs_every_named_arch(self):
        self.assertEqual(selftest.mutant_arches(['arm64', 'x86_64', 'um'],
                                                self.ARCHES + ['x86_64'], True),
                         ['um', 'arm64', 'x86_64'])


def entry(**kw):
    e = {'file': 'x.patch', 'kernels': ['6.12'], 'arches': ['um', 'i386', 'arm'],
         'expected': 'regression'}
    e.update(kw)
    return e


@mock.patch('vmsync.selftest.rebuilds_most', lambda e: e.get('header', False))
class TestCorpusChecks(unittest.TestCase):
    def test_default_uses_ci_builds_only(self):
        es = [entry(), entry(arches=['i386', 'i386-pae']), entry(arches=['x86_64']),
              entry(arches=['arm'], kconfig_add=['CONFIG_KASAN=y']),
              entry(kernels=['newest']), entry(arches=['um'], header=True)]
        got = [(e['arches'], k, a, fi) for e, k, a, fi in selftest.corpus_checks(es, False)]
        self.assertEqual(got, [(['um', 'i386', 'arm'], '6.12', ['um', 'i386', 'arm'], True),
                               (['i386', 'i386-pae'], '6.12', ['i386'], True)])

    def test_everything_adds_the_rest_with_the_entrys_options(self):
        es = [entry(arches=['i386', 'i386-pae']), entry(arches=['x86_64']),
              entry(arches=['arm'], kconfig_add=['CONFIG_KASAN=y'], fault_injection=True),
              entry(kernels=['newest'], arches=['um', 'arm64']),
              entry(arches=['um'], header=True)]
        got = [(k, a, fi) for e, k, a, fi in selftest.corpus_checks(es, True)]
        self.assertEqual(got, [('6.12', ['i386'], True), ('6.12', ['i386-pae'], False),
                               ('6.12', ['x86_64'], False), ('6.12', ['arm'], True),
                               ('newest', ['um', 'arm64'], False), ('6.12', ['um'], False)])

    def test_check_kernels_adds_a_kernel_outside_ci(self):
        es = [entry(kernels=['6.12', 'newest'], check_kernels=['6.12', 'newest'],
                    arches=['um', 'arm64'])]
        self.assertEqual([(k, a) for e, k, a, fi in selftest.corpus_checks(es, False)],
                         [('6.12', ['um', 'arm64'])])
        self.assertEqual([(k, a) for e, k, a, fi in selftest.corpus_checks(es, True)],
                         [('6.12', ['um', 'arm64']), ('newest', ['um', 'arm64'])])


class TestRealCorpus(unittest.TestCase):
    def test_a_header_change_rebuilds_most(self):
        self.assertTrue(selftest.rebuilds_most({'file': '10-sync-mask-vmalloc-conditional.patch'}))
        self.assertFalse(selftest.rebuilds_most(
            {'file': '01-revert-e80d3909be42-apply-to-page-range-sync.patch'}))
        self.assertFalse(selftest.rebuilds_most(
            {'file': '14-revert-8e998fc24de4-x86-sync-unmappings.patch'}))

    def test_the_real_corpus(self):
        with open(os.path.join(selftest.CORPUS_DIR, 'corpus.json')) as f:
            entries = json.load(f)
        self.assertGreaterEqual(len(entries), 15)
        for e in entries:
            self.assertTrue(os.path.isfile(os.path.join(selftest.CORPUS_DIR, e['file'])),
                            e['file'])
            self.assertIn(e['expected'], selftest.CORPUS_EXIT, e['file'])
            for kernel, verdict in e.get('known_miss', {}).items():
                self.assertIn(kernel, selftest.check_kernels(e), e['file'])
                self.assertIn(verdict, selftest.CORPUS_EXIT, e['file'])
                self.assertNotEqual(verdict, e['expected'], e['file'])
            self.assertLessEqual(set(selftest.check_kernels(e)), set(e['kernels']),
                                 e['file'])
        # CI checks most of it: every entry that CI's builds can run
        ci = {e['file'] for e, _, _, _ in selftest.corpus_checks(entries, False)}
        self.assertGreaterEqual(len(ci), 10)


class TestCorpusOutcome(unittest.TestCase):
    def test_expected_verdict_and_cases(self):
        e = entry(must_fail=['vmalloc_sync.a'])
        self.assertEqual(selftest.corpus_outcome(e, '6.12', 1, ['[um] vmalloc_sync.a']),
                         'pass')
        self.assertIn('not regressed: vmalloc_sync.a',
                      selftest.corpus_outcome(e, '6.12', 1, ['[um] vmalloc_sync.b']))
        self.assertIn('exit 0 (want 1)', selftest.corpus_outcome(e, '6.12', 0, []))

    def test_known_miss(self):
        e = entry(known_miss={'6.12': 'no change'})
        self.assertEqual(selftest.corpus_outcome(e, '6.12', 0, []), 'known miss')
        # any other wrong verdict (a build error) still fails
        self.assertIn('exit 3 (want 1)', selftest.corpus_outcome(e, '6.12', 3, []))
        # caught now: the record must be corrected, not kept
        self.assertIn('caught now', selftest.corpus_outcome(e, '6.12', 1, []))

    def test_known_miss_is_per_kernel(self):
        e = entry(known_miss={'6.12': 'no change'}, must_fail=['vmalloc_sync.a'])
        self.assertIn('exit 0 (want 1)', selftest.corpus_outcome(e, 'newest', 0, []))
        self.assertEqual(selftest.corpus_outcome(e, 'newest', 1, ['[um] vmalloc_sync.a']),
                         'pass')


class TestAgreementStep(TempDirTest):
    def test_runs_after_the_series_and_a_skip_fails(self):
        # with an empty cache the comparison skips: ./vmsync test must count
        # that as a failure, not as a pass
        lines = []
        with mock.patch.dict(os.environ, VMSYNC_CACHE=self.tmp), \
                mock.patch('sys.stdout', io.StringIO()), \
                mock.patch('vmsync.selftest.say'):
            self.assertEqual(selftest.run_agreement_test(lines), (0, 1))
        self.assertIn('skipped', lines[0])

    def test_order_in_do_test(self):
        import inspect
        src = inspect.getsource(selftest.do_test)
        self.assertLess(src.index('test_series(kernel'), src.index('run_agreement_test('))
        self.assertLess(src.index('guarded_run(kernel=kernel'),
                        src.index('run_agreement_test('))


if __name__ == '__main__':
    unittest.main()
