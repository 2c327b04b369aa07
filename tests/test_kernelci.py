"""KernelCI checks: the job entries in kernelci/, KernelCI's real kunit job
template run on kunit.py's real results, and the upstream patch.

Everything KernelCI here is KernelCI's own code, from the pinned copies in
<repo>/../shared/kernelci-upstream/ (kernelci-pipeline and kernelci-core at
the commits in its PROVENANCE.md); src/vmsync/kernelci.py only pastes, renders
and runs it.  The kunit.json inputs in tests/data/kernelci/ come from real
kunit.py runs of the suite (see tests/data/kernelci/README.md).

Run: python3 -m unittest tests.test_kernelci -v
Needs the Debian packages in vmsync.kernelci.APT_PACKAGES / APT_TOOLS.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'src'))
from vmsync import kernelci as kci  # noqa: E402

UPSTREAM = kci.upstream_dir(REPO)
DATA = os.path.join(REPO, 'tests', 'data', 'kernelci')
KUNITCONFIG = '--kunitconfig=mm'
BOOT_ARGS = ['--kernel_args=mem=896M',
             '--kernel_args=vmalloc_sync_kunit.spare_ram=0x3c000000']
# What a right node tree says for each kunit.py status.
RIGHT = {'PASS': 'pass', 'FAIL': 'fail', 'SKIP': 'skip', 'ERROR': 'fail'}

ELSEWHERE = False
if not os.path.isdir(UPSTREAM):
    SKIP = 'no pinned KernelCI sources at %s' % UPSTREAM
elif kci.missing() and kci.debian_python_has_all():
    ELSEWHERE = True
    SKIP = 'run under %s by UnderDebianPython (this Python, %s, lacks %s)' % (
        kci.DEBIAN_PYTHON, sys.executable, ', '.join(kci.missing()))
elif kci.missing():
    SKIP = 'missing: %s' % ', '.join(kci.missing())
else:
    SKIP = None
    kci.core_on_path(UPSTREAM)

# On Debian bookworm python3-pydantic is 1.10; kernelci-core's job config
# (kernelci/config/job.py: JobsConfig.model_validate) needs pydantic 2.
NO_PYDANTIC2 = None if SKIP or kci.pydantic_v2() else (
    'kernelci.config.load() needs pydantic >= 2 (kernelci-core '
    'kernelci/config/job.py uses JobsConfig.model_validate); this Python has '
    'pydantic %s (Debian bookworm: python3-pydantic 1.10.4, no v2 package)'
    % __import__('pydantic').VERSION)


def fixture(name):
    """One real kunit.py run: tests/data/kernelci/<name>/."""
    d = os.path.join(DATA, name)
    with open(os.path.join(d, 'run.json')) as f:
        meta = json.load(f)
    with open(os.path.join(d, 'test.log'), 'rb') as f:
        log = f.read()
    path = os.path.join(d, 'kunit.json')
    kunit = None
    if os.path.exists(path):
        with open(path, 'rb') as f:
            kunit = f.read()
    return {'kunit_json': kunit, 'test_log': log,
            'exit_status': meta['kunit_exec_exit_status'], 'meta': meta}


def expected_cases(run):
    """{'exec.<suite>.<case>[.<param>]': right result} from the run's kunit.json."""
    data = json.loads(run['kunit_json'])
    return {'exec.' + k: RIGHT[v] for k, v in kci.cases(data).items()}


@unittest.skipIf(SKIP, SKIP)
class JobEntries(unittest.TestCase):
    """kernelci/jobs.yaml and scheduler.yaml pasted into a scratch copy of the
    pinned kernelci-pipeline."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.pipeline = kci.scratch_pipeline(UPSTREAM, os.path.join(cls.tmp.name, 'p'))
        cls.configs, cls.how = kci.load_configs(UPSTREAM, os.path.join(cls.pipeline, 'config'))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_upstream_validate_yaml_passes(self):
        """kernelci-pipeline's own tests/validate_yaml.py on the pasted config."""
        proc = subprocess.run([sys.executable, 'tests/validate_yaml.py', '-d', 'config'],
                              cwd=self.pipeline, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertIn('All yaml files are valid', proc.stdout)
        for job in kci.JOBS:
            self.assertNotIn('Job %s is not used' % job, proc.stdout)

    def test_upstream_ordering_check_passes(self):
        """kernelci.sort_check(), the order `kci config validate` checks.
        Upstream's own jobs.yaml already fails it elsewhere ('cvehound' is
        before 'baseline-arm'), so the check is on the entries around ours;
        scheduler.yaml (a list) passes kernelci.config.validate_yaml()."""
        import kernelci
        import kernelci.config
        import yaml
        config = os.path.join(self.pipeline, 'config')
        with open(os.path.join(config, 'jobs.yaml')) as f:
            keys = list(yaml.safe_load(f)['jobs'])
        i = keys.index('kunit')
        self.assertEqual(keys[i:i + 4], ['kunit', 'kunit-vmalloc-sync-i386',
                                         'kunit-vmalloc-sync-x86_64', 'kunit-x86_64'])
        self.assertIsNone(kernelci.sort_check(keys[i - 3:i + 7]), keys[i - 3:i + 7])
        self.assertIsNone(kernelci.config.validate_yaml(
            os.path.join(config, 'scheduler.yaml'), ['jobs', 'runtimes', 'scheduler']))

    @unittest.skipIf(NO_PYDANTIC2, NO_PYDANTIC2)
    def test_kernelci_config_load(self):
        """kernelci.config.load() (with its pydantic validation) loads the
        pasted config."""
        import kernelci.config
        configs = kernelci.config.load(os.path.join(self.pipeline, 'config'))
        for job in kci.JOBS:
            self.assertIn(job, configs['jobs'])

    def test_jobs_are_built_on_the_kunit_anchor(self):
        jobs = self.configs['jobs']
        kunit = jobs['kunit']
        for name, arch in kci.JOBS.items():
            job = jobs[name]
            self.assertEqual((job.template, job.kind, job.image, job.priority),
                             (kunit.template, kunit.kind, kunit.image, kunit.priority))
            self.assertIn('gcc-14:x86-kunit-kernelci', job.image)
            self.assertEqual(job.params['arch'], arch)
            self.assertEqual(job.params['args'], KUNITCONFIG)
            self.assertEqual(job.params['kernel_args'],
                             'mem=896M vmalloc_sync_kunit.spare_ram=0x3c000000')
            self.assertEqual(job.kcidb_test_suite, 'kunit.vmalloc_sync')
            self.assertNotEqual(job.kcidb_test_suite, jobs['kunit-x86_64'].kcidb_test_suite)
            self.assertEqual(job.rules, {'tree': [kci.TREE]})

    def test_scheduled_only_for_the_tree_that_carries_the_suite(self):
        """kernelci-core's Scheduler and APIHelper.should_create_node() on a
        checkout event: the jobs start for tree `vmsync` only."""
        for tree, want in ((kci.TREE, set(kci.JOBS)), ('mainline', set()),
                           ('next', set()), ('stable-rc', set())):
            started = kci.schedule(UPSTREAM, self.configs, kci.checkout_node('x', tree))
            self.assertEqual(set(started) & set(kci.JOBS), want, tree)
            if tree == 'mainline':      # upstream's own kunit job, as a control
                self.assertIn('kunit-x86_64', started)


class KernelArgs(unittest.TestCase):
    """Why the boot arguments cannot go into params.args: the real kunit.py
    (from the kernel tree ./vmsync unpacked) rejects --kernel_args in
    `config` and `build`, to which kunit.jinja2 also passes args."""

    def test_kunit_py_config_rejects_kernel_args(self):
        trees = os.path.expanduser('~/.cache/vmsync/trees')
        found = sorted(os.path.join(trees, t, 'tools/testing/kunit/kunit.py')
                       for t in (os.listdir(trees) if os.path.isdir(trees) else []))
        found = [p for p in found if os.path.exists(p)]
        if not found:
            self.skipTest('no kernel tree with kunit.py in %s (./vmsync unpacks one)' % trees)
        for kunit_py in found:
            for cmd in ('config', 'build'):
                proc = subprocess.run([sys.executable, kunit_py, cmd, KUNITCONFIG, BOOT_ARGS[0],
                                       '--arch=i386'], stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, universal_newlines=True)
                self.assertEqual(proc.returncode, 2, proc.stdout)
                self.assertIn('unrecognized arguments: ' + BOOT_ARGS[0], proc.stdout)


class _TemplateRuns:
    """Render kunit.jinja2 with kernelci-core's Kubernetes runtime and run
    the rendered program on each real kunit.py run in tests/data/kernelci/."""

    PATCH = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.pipeline = kci.scratch_pipeline(UPSTREAM, os.path.join(cls.tmp.name, 'p'),
                                            patch=cls.PATCH)
        cls.configs, _ = kci.load_configs(UPSTREAM, os.path.join(cls.pipeline, 'config'))
        cls.runs = {}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_fixture(self, name, job='kunit-vmalloc-sync-i386'):
        if (name, job) not in self.runs:
            run = fixture(name)
            out = kci.run_job(UPSTREAM, self.pipeline, self.configs, job, run)
            out['run'] = run
            self.runs[name, job] = out
        return self.runs[name, job]

    def assert_tree(self, out, job_result, exec_result, cases):
        tree = out['submitted']
        self.assertIsNotNone(tree, 'the job submitted nothing:\n' + out['output'][-3000:])
        got = kci.results(tree)
        self.assertEqual(tree['node']['name'], 'kunit-vmalloc-sync-i386')
        self.assertEqual(got[''], job_result)
        self.assertEqual((got['config'], got['build'], got['exec']), ('pass', 'pass', exec_result))
        for path, result in cases.items():
            self.assertIn(path, got)
            self.assertEqual(got[path], result, path)
        leaves = {p for p in got if p.startswith('exec.') and p not in
                  {q.rsplit('.', 1)[0] for q in got}}
        self.assertEqual(leaves, set(cases), 'cases in the tree != cases in kunit.json')

    def assert_command_lines(self, out):
        calls = out['calls']
        self.assertEqual([c[0] for c in calls], ['config', 'build', 'exec'])
        for c in calls:
            self.assertIn(KUNITCONFIG, c)
            self.assertIn('--arch=i386', c)
        self.assertIn('--json=kunit.json', calls[2])
        for c in calls[:2]:
            self.assertFalse([a for a in c if a.startswith('--kernel_args')], c)

    # -- the four real runs; results that both templates get right ----------

    def test_all_passing(self):
        out = self.run_fixture('pass')
        want = expected_cases(out['run'])
        self.assertGreater(len(want), 20)
        self.assertEqual(set(want.values()), {'pass', 'skip'})   # skips: not on i386
        self.assert_tree(out, 'pass', 'pass', want)
        self.assertEqual(kci.results(out['submitted'])['exec.vmalloc_sync'], 'pass')
        self.assert_command_lines(out)

    def test_uploads_job_log_kunit_json_and_console(self):
        out = self.run_fixture('pass')
        self.assertEqual({u.rsplit('/', 1)[1] for u in out['uploads']},
                         {'job_txt', 'kunit_json', 'test_log'})
        self.assertEqual(set(out['submitted']['node']['artifacts']),
                         {'job_txt', 'kunit_json', 'test_log'})

    def test_failing_case_mutant(self):
        """apply-no-sync.patch: the cases that catch it fail, the suite node
        fails; the job node is the exec step's result ('pass': kunit.py ran
        and reported), as for upstream's kunit-x86_64."""
        out = self.run_fixture('fail')
        want = expected_cases(out['run'])
        self.assertIn('fail', want.values())
        self.assert_tree(out, 'pass', 'pass', want)
        self.assertEqual(kci.results(out['submitted'])['exec.vmalloc_sync'], 'fail')

    def test_container_runs_python3_dash_c(self):
        out = self.run_fixture('pass')
        self.assertEqual(out['command'], ['/usr/bin/env', 'python3', '-c'])
        self.assertEqual(out['rc'], 0)


@unittest.skipIf(SKIP, SKIP)
class PinnedTemplate(_TemplateRuns, unittest.TestCase):
    """kernelci-pipeline's config/runtime/kunit.jinja2 as pinned."""

    def test_exec_gets_no_boot_arguments(self):
        """The pinned template does not read params.kernel_args."""
        out = self.run_fixture('pass')
        self.assertFalse([a for a in out['calls'][2] if a.startswith('--kernel_args')])

    @unittest.expectedFailure
    def test_crashed_case_is_a_failure__UPSTREAM_BUG_keyerror_loses_every_result(self):
        """Upstream bug: kunit.py writes status ERROR for a crashed case;
        RESULT_MAP has no 'ERROR', so _parse_results raises KeyError, main()
        prints it and submits nothing: every result of the run is lost and
        the node is left to time out."""
        out = self.run_fixture('crash')
        want = expected_cases(out['run'])
        self.assertIn('fail', want.values())
        self.assert_tree(out, 'pass', 'pass', want)

    def test_crashed_case_today_keyerror_and_nothing_submitted(self):
        """What the pinned template does with the crash run (the reason the
        test above is an expected failure)."""
        out = self.run_fixture('crash')
        self.assertIn('ERROR', kci.cases(json.loads(out['run']['kunit_json'])).values())
        self.assertIsNone(out['submitted'])
        self.assertRegex(out['output'], r"KeyError: 'ERROR'")
        self.assertEqual(out['rc'], 0)     # kubernetes-python: always_exit_0

    @unittest.expectedFailure
    def test_no_ktap_is_a_failed_job__UPSTREAM_BUG_reported_as_pass(self):
        """Upstream bug: a kernel that boots but prints no KTAP gives a
        kunit.json with no test; the template still sets exec to 'pass', so
        the job passes with no test result at all."""
        out = self.run_fixture('noktap')
        self.assert_tree(out, 'fail', 'fail', {})

    def test_no_ktap_today_reported_as_pass(self):
        out = self.run_fixture('noktap')
        self.assertEqual(expected_cases(out['run']), {})
        got = kci.results(out['submitted'])
        self.assertEqual((got[''], got['exec']), ('pass', 'pass'))
        self.assertFalse([p for p in got if p.startswith('exec.')])


@unittest.skipIf(SKIP, SKIP)
class PatchedTemplate(_TemplateRuns, unittest.TestCase):
    """The same template with kernelci/0001-*.patch applied."""

    PATCH = kci.PATCH

    def test_exec_gets_the_boot_arguments(self):
        out = self.run_fixture('pass')
        self.assertEqual([a for a in out['calls'][2] if a.startswith('--kernel_args')], BOOT_ARGS)

    def test_x86_64_job_command_lines(self):
        """Only the command lines: the replayed run is the i386 one."""
        out = self.run_fixture('pass', job='kunit-vmalloc-sync-x86_64')
        self.assertEqual([c[0] for c in out['calls']], ['config', 'build', 'exec'])
        for c in out['calls']:
            self.assertIn(KUNITCONFIG, c)
            self.assertIn('--arch=x86_64', c)
        self.assertEqual([a for a in out['calls'][2] if a.startswith('--kernel_args')], BOOT_ARGS)
        self.assertEqual(out['submitted']['node']['name'], 'kunit-vmalloc-sync-x86_64')

    def test_crashed_case_is_a_failure(self):
        out = self.run_fixture('crash')
        want = expected_cases(out['run'])
        self.assertIn('fail', want.values())
        self.assert_tree(out, 'pass', 'pass', want)
        self.assertEqual(kci.results(out['submitted'])['exec.vmalloc_sync'], 'fail')

    def test_no_ktap_is_a_failed_job(self):
        out = self.run_fixture('noktap')
        self.assert_tree(out, 'fail', 'fail', {})


@unittest.skipIf(SKIP, SKIP)
class UpstreamPatch(unittest.TestCase):
    def test_is_a_format_patch_that_applies_to_the_pinned_pipeline(self):
        with open(kci.PATCH) as f:
            text = f.read()
        self.assertRegex(text, r'^From [0-9a-f]{40} ')
        self.assertRegex(text, r'\nSubject: \[PATCH\] ')
        self.assertRegex(text, r'\nSigned-off-by: ')
        self.assertEqual(re.findall(r'^diff --git a/(\S+)', text, re.M),
                         ['config/runtime/kunit.jinja2'])
        with tempfile.TemporaryDirectory() as tmp:
            # scratch_pipeline() runs git apply and fails if it does not apply
            kci.scratch_pipeline(UPSTREAM, os.path.join(tmp, 'p'), patch=kci.PATCH,
                                 with_jobs=False)


@unittest.skipUnless(ELSEWHERE, 'this Python has what the KernelCI tests need')
class UnderDebianPython(unittest.TestCase):
    """The python3-* Debian packages are for Debian's python3; when the tests
    run under another one (e.g. pyenv's), run them all under Debian's."""

    def test_all_kernelci_tests_under_debian_python3(self):
        proc = subprocess.run([kci.DEBIAN_PYTHON, '-m', 'unittest', '-v', 'tests.test_kernelci'],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True,
                              env=dict(os.environ, PYTHONDONTWRITEBYTECODE='1'))
        # the child's summary, and every test that did not simply pass
        sys.stdout.write(''.join('    ' + l for l in proc.stdout.splitlines(True)
                                 if re.search(r'^Ran |^OK|^FAILED', l) or
                                 (' ... ' in l and not l.rstrip().endswith(' ok'))))
        self.assertEqual(proc.returncode, 0, proc.stdout[-5000:])


class Fixtures(unittest.TestCase):
    def test_every_fixture_is_described(self):
        with open(os.path.join(DATA, 'README.md')) as f:
            readme = f.read()
        for name in ('pass', 'fail', 'crash', 'noktap'):
            self.assertTrue(os.path.exists(os.path.join(DATA, name, 'test.log')), name)
            self.assertIn('`%s/`' % name, readme)
            meta = fixture(name)['meta']
            self.assertIn('./vmsync run', meta['command'])


if __name__ == '__main__':
    unittest.main()
