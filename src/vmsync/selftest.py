"""./vmsync test: the project's own tests (unit tests, series checks, the suite,
the mutants, check's examples)."""

import contextlib
import json
import os
import re
import sys
import tempfile

from .util import Fail, say
from .paths import ROOT, MUTANTS_DIR, TESTS_DIR
CORPUS_DIR = os.path.join(ROOT, 'corpus')
from .arches import ARCHES
from .debian import BUILD_PACKAGES, ensure_packages
from .run import do_run
from .check import do_check, CANNOT_ASSESS
from .patchcheck import print_checks
from .series import SERIES_KERNELS, SERIES_PACKAGES, git_identity, check_series
from . import kernelci
from . import faults


# ./vmsync test: the arches where the mutants are killed, on 6.12.  Every
# mutant is killed on one of them; x86_64 kills none that arm64 does not,
# and its cold build (9 min measured) would take CI past 60 minutes, so it
# runs in --full with the other Kill-On arches.  CI runs each mutant once,
# on the first arch of its Kill-On line that is in TEST_ARCHES, so that the
# corpus fits; --full runs it on every arch its Kill-On line names.
TEST_ARCHES = ['um', 'i386', 'arm', 'arm64', 'arm-smp']
# ./vmsync test runs the suite, the mutants and check with --fault-injection
# wherever it can (faults.ARCHES, 6.12), so the error-path case runs for real
# ./vmsync test --full adds --arch all on these kernels
FULL_KERNELS = ['6.1', '6.12', 'newest']
def parse_kill_on(text):
    """Arches from the 'Kill-On:' header line of a mutant patch, or None."""
    for line in text.splitlines():
        if line.startswith('---') or line.startswith('diff '):
            break
        m = re.match(r'\s*Kill-On:\s*(.*)$', line)
        if m:
            return m.group(1).split()
    return None


def mutant_arches(kill_on, arches, full):
    """The arches of `arches` that ./vmsync test runs a mutant on."""
    named = [a for a in kill_on or [] if a in arches]
    return sorted(named, key=arches.index) if full else named[:1]


def run_unit_tests():
    import unittest
    sys.dont_write_bytecode = True      # no __pycache__ in the work tree
    say('== unit tests (%s)' % os.path.relpath(TESTS_DIR, ROOT))
    suite = unittest.defaultTestLoader.discover(TESTS_DIR, top_level_dir=TESTS_DIR)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=1).run(suite)
    bad = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    return result.testsRun - bad, bad


# The unit test that compares vmsync's KTAP parser with each cached tree's
# kunit_parser skips without trees, and on a fresh machine (CI) the unit
# tests run before any tree is unpacked: do_test runs it again once the
# series checks (newest) and the suite runs (6.12) have unpacked them, and
# there a skip is a failure.
AGREEMENT_TEST = 'test_ktap.TestAgreesWithKunitParser'


def run_agreement_test(lines):
    """AGREEMENT_TEST on the trees that now exist: (passed, failed)."""
    import unittest
    sys.dont_write_bytecode = True
    say()
    say('== parser agreement: vmsync vs each cached tree\'s kunit_parser')
    if TESTS_DIR not in sys.path:
        sys.path.insert(0, TESTS_DIR)
    suite = unittest.defaultTestLoader.loadTestsFromName(AGREEMENT_TEST)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    bad = len(result.failures) + len(result.errors)
    if result.skipped or bad or not result.testsRun:
        lines.append('parser agreement: %d failed, %d skipped (%s)' % (
            bad, len(result.skipped), '; '.join(r for _, r in result.skipped) or
            'see above'))
        return 0, 1
    return 1, 0


def guarded_run(**kw):
    """do_run, but a Fail is a result (exit code) instead of an exception."""
    try:
        return do_run(**kw)
    except Fail as e:
        print('vmsync: %s' % e, file=sys.stderr, flush=True)
        return e.code, None


def failed_cases(report):
    if not report:
        return []
    return [c['name'] for r in report['runs'] for c in r['cases']
            if c['status'] in ('FAIL', 'ERROR')]


@contextlib.contextmanager
def test_identity():
    """The series checks need an author.  Without one in the user's git
    configuration, use a placeholder that says what it is."""
    try:
        git_identity()
        yield
        return
    except Fail:
        pass
    say('vmsync: no git identity configured; the series checks use '
        '"vmsync test <vmsync-test@invalid>"')
    keys = ('GIT_CONFIG_COUNT', 'GIT_CONFIG_KEY_0', 'GIT_CONFIG_VALUE_0',
            'GIT_CONFIG_KEY_1', 'GIT_CONFIG_VALUE_1')
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(dict(zip(keys, ('2', 'user.name', 'vmsync test', 'user.email',
                                      'vmsync-test@invalid'))))
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_series(kernel, lines):
    """The series on one kernel: (passed, failed)."""
    say()
    say('== series: --kernel %s' % kernel)
    try:
        with test_identity():
            results = check_series(kernel)
    except Fail as e:
        print('vmsync: %s' % e, file=sys.stderr, flush=True)
        lines.append('series on %s: %s' % (kernel, e))
        return 0, 1
    bad = print_checks(results)
    lines += ['series on %s: %s' % (kernel, what) for what, p in results if p]
    return len(results) - bad, bad


# corpus.json's verdicts and the exit status of ./vmsync check that gives them
CORPUS_EXIT = {'no change': 0, 'regression': 1, 'cannot assess': CANNOT_ASSESS}


def rebuilds_most(entry):
    """Does the entry's patch change a header?  Then its build recompiles
    most of the kernel (corpus 10 on um: 256 s, against about 20 s for a
    patch to mm/*.c), which CI's time cannot pay for."""
    with open(os.path.join(CORPUS_DIR, entry['file']), errors='replace') as f:
        return any(re.match(r'\+\+\+ b/(.*/)?include/', line) for line in f)


def check_kernels(e):
    """The kernels ./vmsync test checks a corpus entry on: its own
    'check_kernels', else 6.12 where it applies, else the first it names."""
    return e.get('check_kernels') or (['6.12'] if '6.12' in e['kernels']
                                      else e['kernels'][:1])


def corpus_checks(entries, everything):
    """(entry, kernel, arches, fault_injection) for each check ./vmsync test
    runs.  By default every entry checked on 6.12 runs on the builds CI
    already has (the arches it names that are in TEST_ARCHES,
    --fault-injection, unless it needs kconfig_add or changes a header), so
    each check is a short incremental build; `everything` (--corpus, --full)
    adds its other arches and options, and its checks on other kernels."""
    out = []
    for e in entries:
        for kernel in check_kernels(e):
            if kernel != '6.12':
                if everything:
                    out.append((e, kernel, e['arches'],
                                e.get('fault_injection', False)))
                continue
            ci = [] if e.get('kconfig_add') or rebuilds_most(e) else \
                [a for a in e['arches'] if a in TEST_ARCHES]
            if ci:
                out.append((e, kernel, ci, all(a in faults.ARCHES for a in ci)))
            rest = [a for a in e['arches'] if a not in ci]
            if everything and rest:
                out.append((e, kernel, rest, e.get('fault_injection', False)))
    return out


def corpus_outcome(e, kernel, code, newly):
    """'pass', 'known miss' or the reason the entry fails on `kernel`."""
    known = e.get('known_miss', {}).get(kernel)
    missing = [c for c in e.get('must_fail', []) if not any(
        n.endswith('] ' + c) or n == c for n in newly)]
    if code == CORPUS_EXIT[e['expected']] and not missing:
        if known:
            return ('caught now: drop "known_miss" %s from corpus.json and record '
                    'what catches it' % kernel)
        return 'pass'
    if known and code == CORPUS_EXIT[known]:
        return 'known miss'
    return 'exit %d (want %d)%s' % (code, CORPUS_EXIT[e['expected']],
                                    ', not regressed: ' + ', '.join(missing)
                                    if missing else '')


def test_corpus(lines, everything=False):
    """./vmsync check on corpus/ entries (corpus_checks): the verdict
    must be the expected one, and every case in must_fail must newly fail.
    An entry marked known_miss must give that verdict instead, and counts
    as neither passed nor failed: (passed, failed, known misses)."""
    with open(os.path.join(CORPUS_DIR, 'corpus.json')) as f:
        entries = json.load(f)
    passed = failed = 0
    misses = []
    table = []
    for e, kernel, arches, fi in corpus_checks(entries, everything):
        arches = ','.join(arches)
        say()
        say('== corpus %s --kernel %s --arch %s%s%s (expect %s)' % (
            e['file'], kernel, arches, ' --fault-injection' if fi else '',
            ''.join(' --kconfig_add ' + k for k in e.get('kconfig_add', [])),
            e['expected']))
        out = os.path.join(tempfile.mkdtemp(prefix='vmsync-corpus-'), 'check.json')
        try:
            code = do_check([os.path.join(CORPUS_DIR, e['file'])], kernel=kernel,
                            arch=arches, json_file=out, fault_injection=fi,
                            kconfig_add=e.get('kconfig_add', []))
            with open(out) as f:
                newly = sorted(set('[%s] %s' % (i['arch'], i['case'])
                                   for i in json.load(f)['newly_failing']))
        except Fail as err:
            print('vmsync: %s' % err, file=sys.stderr, flush=True)
            code, newly = err.code, []
        outcome = corpus_outcome(e, kernel, code, newly)
        where = '%s %s' % (kernel, arches)
        table.append((e['file'], where, e['expected'], code, outcome, newly))
        if outcome == 'pass':
            passed += 1
        elif outcome == 'known miss':
            misses.append('corpus %s on %s' % (e['file'], where))
        else:
            failed += 1
            lines.append('corpus %s on %s: %s' % (e['file'], where, outcome))
    say()
    say('Corpus verdicts')
    for name, where, expected, code, outcome, newly in table:
        say('  %-58s %-20s expected %-13s exit %d %s%s' % (
            name, where, expected, code, outcome.upper() if outcome in (
                'pass', 'known miss') else 'FAILED',
            (': ' + '; '.join(newly)) if newly else ''))
    return passed, failed, misses


def do_test(full=False, corpus=False):
    # install up front, so what gets installed shows here and not inside a
    # unit test's captured output
    # device-tree-compiler: tests/test_kunit_run.py edits a device tree as
    # riscv64-sv57 boots do
    ensure_packages(BUILD_PACKAGES + ['rsync', 'device-tree-compiler'] + SERIES_PACKAGES +
                    [p for a in TEST_ARCHES for p in ARCHES[a].packages] +
                    sorted(set(kernelci.APT_PACKAGES.values()) |
                           set(kernelci.APT_TOOLS.values())))
    passed, failed = run_unit_tests()
    lines = []
    for kernel in SERIES_KERNELS:
        p, f = test_series(kernel, lines)
        passed, failed = passed + p, failed + f
    mutants = sorted(f for f in os.listdir(MUTANTS_DIR) if f.endswith('.patch')) \
        if os.path.isdir(MUTANTS_DIR) else []
    kill_on = {}
    for m in mutants:
        with open(os.path.join(MUTANTS_DIR, m), errors='replace') as f:
            kill_on[m] = parse_kill_on(f.read())
        if kill_on[m] is None:      # 'Kill-On:' with no arch is fine: run nowhere
            lines.append('%s: no Kill-On line' % m)
            failed += 1
        for a in kill_on[m] or []:
            if a not in ARCHES:
                lines.append('%s: Kill-On names unknown arch %s' % (m, a))
                failed += 1
    kernels = ['6.12']
    # TEST_ARCHES; --full: also every other arch a Kill-On line names
    arches = [a for a in ARCHES if a in TEST_ARCHES or
              (full and any(a in (k or []) for k in kill_on.values()))]
    table = {}
    base = {}
    for kernel in kernels:
        for arch in arches:
            say()
            fi = arch in faults.ARCHES
            say('== suite: --kernel %s --arch %s%s' % (kernel, arch,
                                                      ' --fault-injection' if fi else ''))
            code, _ = guarded_run(kernel=kernel, arch=arch, fault_injection=fi)
            base[arch] = code
            if code == 0:
                passed += 1
            else:
                failed += 1
                lines.append('suite on %s %s: exit %d' % (kernel, arch, code))
            for m in mutants:
                if arch not in mutant_arches(kill_on[m], arches, full):
                    continue
                if base[arch] != 0:
                    table[m, arch] = ('not run', [])
                    failed += 1
                    lines.append('mutant %s on %s: not run (the suite failed there)'
                                 % (m, arch))
                    continue
                say()
                say('== mutant %s: --kernel %s --arch %s%s' % (
                    m, kernel, arch, ' --fault-injection' if fi else ''))
                code, report = guarded_run(kernel=kernel, arch=arch, fault_injection=fi,
                                           patches=[os.path.join(MUTANTS_DIR, m)])
                if code == 1:
                    table[m, arch] = ('killed', failed_cases(report))
                    passed += 1
                else:
                    table[m, arch] = ({0: 'SURVIVED', 3: 'build-error'}.get(
                        code, 'error (exit %d)' % code), [])
                    failed += 1
                    lines.append('mutant %s on %s: %s' % (m, arch, table[m, arch][0]))
    p, f = run_agreement_test(lines)    # the series and the suite unpacked the trees
    passed, failed = passed + p, failed + f
    p, f, misses = test_corpus(lines, everything=corpus or full)
    passed, failed = passed + p, failed + f
    if full:
        for kernel in FULL_KERNELS:
            rest = [a for a in ARCHES if kernel != '6.12' or a not in base]
            say()
            say('== full matrix: --kernel %s --arch %s' % (kernel, ','.join(rest)))
            code, report = guarded_run(kernel=kernel, arch=','.join(rest))
            for r in (report or {'runs': []})['runs']:
                if r['status'] == 'pass':
                    passed += 1
                else:
                    failed += 1
                    lines.append('suite on %s %s: %s' % (kernel, r['arch'], r['status']))
            if report is None:
                failed += 1
                lines.append('suite on %s: exit %d' % (kernel, code))
    if mutants:
        arches = [a for a in arches if any(a in (kill_on[m] or []) for m in mutants)]
        w = max(len(m) for m in mutants + ['mutant']) + 2
        say()
        say('Kill table')
        say('%-*s' % (w, 'mutant') + ''.join('%-14s' % a for a in arches))
        for m in mutants:
            named = kill_on[m] or []
            say('%-*s' % (w, m) + ''.join(
                '%-14s' % table.get((m, a), ('--full' if a in named else '-',))[0]
                for a in arches))
        for (m, a), (status, cases) in sorted(table.items()):
            if cases:
                say('  %s [%s] killed by: %s' % (m, a, ', '.join(cases)))
    if lines:
        say()
        for l in lines:
            say('FAILED: ' + l)
    if misses:
        say()
        for m in misses:
            say('KNOWN MISS: %s (the suite cannot see this real bug on that kernel: '
                'corpus/README.md)' % m)
    say()
    say('%d passed, %d failed%s' % (passed, failed, ', %d known misses' % len(misses)
                                    if misses else ''))
    return 0 if failed == 0 else 1
