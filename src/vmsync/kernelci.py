"""Run KernelCI's own kunit job on kunit.py's real results.

This module drives unmodified KernelCI code, read from the pinned copies in
<repo>/../shared/kernelci-upstream/ (see its PROVENANCE.md):

- kernelci-pipeline config/ with the job entries of kernelci/jobs.yaml and
  kernelci/scheduler.yaml pasted in (paste()), optionally with
  kernelci/*.patch applied (scratch_pipeline());
- kernelci-core's config loader (kernelci.config.load) or, where pydantic v2
  is missing (Debian bookworm has 1.10), the same per-section loaders without
  the pydantic validation step (load_configs());
- kernelci-core's Kubernetes runtime, which renders config/runtime/kunit.jinja2
  into a Kubernetes Job manifest exactly as the pipeline's scheduler does
  (Runtime.get_params() then Kubernetes.generate()) (render());
- the Python program in that manifest, run as the container would run it
  (`python3 -c PROGRAM`), against a stand-in KernelCI API and storage on
  127.0.0.1 and a kernel source tarball whose tools/testing/kunit/kunit.py
  replays one real kunit.py run: its kunit.json, its console log and its exit
  status (run_job()).

What the job submits to the API (the node tree) and uploads to storage is
recorded and returned.  Nothing here re-implements the job: the result mapping,
the node tree and the submission are the template's and kernelci-core's code.

Only the standard library is imported at module level; KernelCI's own modules
(and through them yaml, jinja2, requests, kubernetes, pydantic) are imported
when a function needs them, from the pinned kernelci-core.
"""

import contextlib
import email.parser
import email.policy
import http.server
import io
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tarfile
import tempfile
import threading

# Debian packages (bookworm) the KernelCI checks need, by the Python module
# that needs them.  kernelci-core imports pydantic (config/job.py) and the
# Kubernetes runtime imports kubernetes; the rendered job imports requests,
# yaml and, through kernelci.runtime, jinja2; kernelci.config.load() imports
# kernelci.legacy, hence kernelci/elf.py, hence elftools.  git applies the
# patch.
APT_PACKAGES = {
    'yaml': 'python3-yaml',
    'jinja2': 'python3-jinja2',
    'requests': 'python3-requests',
    'kubernetes': 'python3-kubernetes',
    'pydantic': 'python3-pydantic',
    'elftools': 'python3-pyelftools',
}
APT_TOOLS = {'git': 'git'}

JOBS = {'kunit-vmalloc-sync-i386': 'i386', 'kunit-vmalloc-sync-x86_64': 'x86_64'}
RUNTIME = 'k8s-gke-eu-west4'        # where upstream's kunit-x86_64 runs
TREE = 'vmsync'                     # the tree name the job rules allow

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
KERNELCI_DIR = os.path.join(REPO, 'kernelci')
PATCH = os.path.join(KERNELCI_DIR,
                     '0001-kunit-report-crashed-cases-and-runs-without-results.patch')


def upstream_dir(repo=REPO):
    """<repo>/../shared/kernelci-upstream, where CI and sessions have it."""
    return os.path.join(os.path.dirname(os.path.abspath(repo)), 'shared',
                        'kernelci-upstream')


def missing():
    """What the KernelCI checks cannot run without, as a list of
    'module (apt package)' strings; [] when everything is there."""
    out = []
    for mod, pkg in APT_PACKAGES.items():
        try:
            __import__(mod)
        except ImportError:
            out.append('%s (apt: %s)' % (mod, pkg))
    for tool, pkg in APT_TOOLS.items():
        if not shutil.which(tool):
            out.append('%s (apt: %s)' % (tool, pkg))
    return out


DEBIAN_PYTHON = '/usr/bin/python3'     # the interpreter apt installs python3-* for


def debian_python_has_all():
    """True if this interpreter is not Debian's python3 but Debian's python3
    has every module in APT_PACKAGES (e.g. python3 is a pyenv one)."""
    if not os.path.exists(DEBIAN_PYTHON) or \
       os.path.realpath(sys.executable) == os.path.realpath(DEBIAN_PYTHON):
        return False
    code = 'import %s' % ', '.join(APT_PACKAGES)
    return subprocess.run([DEBIAN_PYTHON, '-c', code], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


def pydantic_v2():
    """True if the installed pydantic has the v2 API kernelci-core uses."""
    try:
        import pydantic
    except ImportError:
        return False
    return hasattr(pydantic.BaseModel, 'model_validate')


def core_on_path(upstream):
    core = os.path.join(upstream, 'kernelci-core')
    if core not in sys.path:
        sys.path.insert(0, core)
    return core


# ---------------------------------------------------------------------------
# pasting the job entries into a scratch copy of kernelci-pipeline

def _entries(path):
    """The paste-ready lines of kernelci/jobs.yaml or scheduler.yaml: what
    follows the '# --- paste below ---' marker."""
    with open(path) as f:
        text = f.read()
    marker = '# --- paste below this line ---\n'
    if marker not in text:
        raise ValueError('%s: no %r line' % (path, marker.strip()))
    return text.split(marker, 1)[1].rstrip('\n') + '\n'


def paste(config_dir, kernelci_dir=KERNELCI_DIR):
    """Paste the entries into config_dir (a copy of kernelci-pipeline's
    config/) where kernelci/README.md says: the jobs right before
    `kunit-x86_64:` in jobs.yaml, the scheduler entries right before
    `- job: kunit-x86_64` in scheduler.yaml."""
    for name, anchor in (('jobs.yaml', '  kunit-x86_64:\n'),
                         ('scheduler.yaml', '  - job: kunit-x86_64\n')):
        path = os.path.join(config_dir, name)
        with open(path) as f:
            text = f.read()
        if text.count(anchor) != 1:
            raise ValueError('%s: %r found %d times, want once'
                             % (path, anchor, text.count(anchor)))
        text = text.replace(anchor, _entries(os.path.join(kernelci_dir, name))
                            + '\n' + anchor)
        with open(path, 'w') as f:
            f.write(text)


def scratch_pipeline(upstream, dest, patch=None, with_jobs=True):
    """Copy kernelci-pipeline to dest, apply `patch` (git format-patch
    output, applied with git apply) and paste the jobs.  Returns dest."""
    shutil.copytree(os.path.join(upstream, 'kernelci-pipeline'), dest)
    if patch:
        subprocess.run(['git', 'apply', '--verbose', patch], cwd=dest,
                       check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if with_jobs:
        paste(os.path.join(dest, 'config'))
    return dest


# ---------------------------------------------------------------------------
# configuration objects

def load_configs(upstream, config_dir):
    """(configs, how): kernelci-core's configuration objects for config_dir.

    With pydantic v2 this is kernelci.config.load(), as the pipeline does.
    With pydantic 1.x (Debian bookworm) kernelci.config.job.from_yaml() cannot
    run (JobsConfig.model_validate is v2 API), so the sections the kunit job
    needs are built by kernelci-core's own per-section from_yaml() and Job
    class, without the pydantic validation of the job keys."""
    core_on_path(upstream)
    import kernelci.config
    if pydantic_v2():
        return kernelci.config.load(config_dir), 'kernelci.config.load'
    import importlib
    from kernelci.config.base import default_filters_from_yaml
    from kernelci.config.job import Job
    data = kernelci.config.load_yaml([config_dir])
    filters = default_filters_from_yaml(data)
    configs = {}
    for mod in ('api', 'platform', 'runtime', 'scheduler', 'storage'):
        module = importlib.import_module('kernelci.config.' + mod)
        configs.update(module.from_yaml(data, filters))
    configs['jobs'] = {name: Job(name=name, **entry)
                       for name, entry in data.get('jobs', {}).items()}
    return configs, 'per-section from_yaml (pydantic %s: no v2 validation)' % (
        __import__('pydantic').VERSION)


def get_runtime(upstream, configs, name=RUNTIME):
    core_on_path(upstream)
    import kernelci.runtime
    return kernelci.runtime.get_runtime(
        configs['runtimes'][name],
        custom_template_dir=os.path.join(upstream, 'kernelci-core', 'config',
                                         'runtime'))


def schedule(upstream, configs, checkout):
    """Names of the jobs kernelci-core's Scheduler starts for a checkout
    node that became available, and whose rules accept it
    (APIHelper.should_create_node), as the pipeline's scheduler does."""
    core_on_path(upstream)
    import kernelci.api.helper
    import kernelci.scheduler
    runtimes = {name: get_runtime(upstream, configs, name)
                for name in configs['runtimes']
                if configs['runtimes'][name].lab_type == 'kubernetes'}
    sched = kernelci.scheduler.Scheduler(configs, runtimes)
    helper = kernelci.api.helper.APIHelper(None)
    event = dict(checkout, op='updated')
    started = []
    with contextlib.redirect_stdout(io.StringIO()):
        for job, runtime, platform, rules in sched.get_schedule(event):
            if helper.should_create_node(job.rules, checkout) and \
               (not rules or helper.should_create_node(rules, checkout)):
                started.append(job.name)
    return started


# ---------------------------------------------------------------------------
# the stand-in KernelCI API and storage

class FakeKernelCI:
    """The parts of the KernelCI API and storage the kunit job talks to, on
    127.0.0.1: GET /latest/node/<id>, PUT /latest/nodes/<id> (the node
    tree), POST /upload (artifacts, as kernelci.storage.backend sends them),
    GET /<tarball> (the kernel source)."""

    def __init__(self):
        self.nodes = {}
        self.tarball = None         # (name, bytes)
        self.submitted = []         # bodies of PUT /latest/nodes/<id>
        self.uploads = {}           # path/name -> bytes
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, code, body=b'', ctype='application/json'):
                self.send_response(code)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self):
                return self.rfile.read(int(self.headers.get('Content-Length', 0)))

            def do_GET(self):
                path = self.path.split('?')[0]
                if path.startswith('/latest/node/'):
                    node = owner.nodes.get(path.rsplit('/', 1)[1])
                    if node is None:
                        return self._send(404, b'{"detail": "not found"}')
                    return self._send(200, json.dumps(node).encode())
                if owner.tarball and path == '/' + owner.tarball[0]:
                    return self._send(200, owner.tarball[1],
                                      'application/octet-stream')
                self._send(404, b'{}')

            def do_PUT(self):
                body = self._body()
                if self.path.startswith('/latest/nodes/'):
                    owner.submitted.append(json.loads(body))
                    return self._send(200, body)
                self._send(404, b'{}')

            def do_POST(self):
                body = self._body()
                if self.path.rstrip('/') == '/upload':
                    msg = email.parser.BytesParser(
                        policy=email.policy.HTTP).parsebytes(
                            b'Content-Type: ' + self.headers['Content-Type'].encode()
                            + b'\r\n\r\n' + body)
                    fields = {}
                    for part in msg.iter_parts():
                        fields[part.get_param('name', header='content-disposition')] = (
                            part.get_filename(), part.get_payload(decode=True))
                    dest = fields.pop('path', (None, b''))[1].decode()
                    for fname, data in fields.values():
                        owner.uploads['%s/%s' % (dest, fname)] = data
                    return self._send(200, b'{}')
                self._send(404, b'{}')

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = 'http://127.0.0.1:%d/' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------------------
# the kernel tarball whose kunit.py replays a real run

REPLAY_KUNIT_PY = r'''#!/usr/bin/env python3
# Test stand-in for tools/testing/kunit/kunit.py (vmsync src/vmsync/kernelci.py):
# replays one real kunit.py run of the suite -- the kunit.json it wrote, its
# console log (.kunit/test.log) and the exit status of `kunit.py exec` -- and
# records every command line the KernelCI job gives it.
import json, os, shutil, sys
data = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'replay')
with open(os.path.join(data, 'calls.jsonl'), 'a') as f:
    f.write(json.dumps(sys.argv[1:]) + '\n')
if sys.argv[1:2] == ['exec']:
    for arg in sys.argv[2:]:
        if arg.startswith('--json=') and os.path.exists(os.path.join(data, 'kunit.json')):
            shutil.copy(os.path.join(data, 'kunit.json'), arg[len('--json='):])
    os.makedirs('.kunit', exist_ok=True)
    shutil.copy(os.path.join(data, 'test.log'), os.path.join('.kunit', 'test.log'))
    print('replayed a real run: kunit.json and .kunit/test.log')
    sys.exit(int(open(os.path.join(data, 'exit_status')).read()))
sys.exit(0)
'''


def make_tarball(name, kunit_json, test_log, exit_status):
    """A .tar.gz of directory `name` holding only the replaying kunit.py."""
    files = {
        'tools/testing/kunit/kunit.py': (REPLAY_KUNIT_PY.encode(), 0o755),
        'tools/testing/kunit/replay/test.log': (test_log, 0o644),
        'tools/testing/kunit/replay/exit_status': (b'%d\n' % exit_status, 0o644),
    }
    if kunit_json is not None:
        files['tools/testing/kunit/replay/kunit.json'] = (kunit_json, 0o644)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as tar:
        for path, (data, mode) in files.items():
            info = tarfile.TarInfo('%s/%s' % (name, path))
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# ---------------------------------------------------------------------------
# render and run

def render(upstream, pipeline_dir, configs, job_name, job_node, api_url,
           storage_url):
    """The Kubernetes Job manifest (parsed YAML) for job_name, rendered by
    kernelci-core's Kubernetes runtime from pipeline_dir/config/runtime."""
    core_on_path(upstream)
    import yaml
    import kernelci.config.api
    import kernelci.config.storage
    import kernelci.runtime
    runtime = get_runtime(upstream, configs)
    job = kernelci.runtime.Job(job_node, configs['jobs'][job_name])
    job.platform_config = configs['platforms'][runtime.config.lab_type]
    job.storage_config = kernelci.config.storage.StorageFactory.from_yaml(
        'test-storage', {'storage_type': 'backend', 'base_url': storage_url,
                         'api_url': storage_url})
    api_config = kernelci.config.api.API('test-api', api_url)
    cwd = os.getcwd()
    os.chdir(pipeline_dir)      # Runtime.TEMPLATES has 'config/runtime'
    try:
        params = runtime.get_params(job, api_config)
        manifest = runtime.generate(job, params)
    finally:
        os.chdir(cwd)
    return yaml.safe_load(manifest), params


def program(manifest):
    """The container's command line and the Python program it runs."""
    container = manifest['spec']['template']['spec']['containers'][0]
    return container['command'], container['args'][0]


# Runs PROGRAM as the container does (python3 -c PROGRAM, __name__ ==
# '__main__').  The one change: main() first waits until www.google.com
# resolves (a workaround for container DNS); this machine has no network,
# so the name resolves to 127.0.0.1 and nothing is sent to it.
WRAPPER = r'''
import socket, sys
_real = socket.gethostbyname
socket.gethostbyname = lambda host: '127.0.0.1' if host == 'www.google.com' else _real(host)
path = sys.argv[1]
sys.argv = ['-c']
exec(compile(open(path).read(), '<string>', 'exec'), {'__name__': '__main__'})
'''


def checkout_node(tarball_url, tree=TREE):
    revision = {'tree': tree, 'branch': 'master', 'url': 'https://example.invalid/linux.git',
                'commit': '0' * 40, 'describe': 'v6.12',
                'version': {'version': 6, 'patchlevel': 12, 'extra': ''}}
    return {'id': 'checkout0000000000000001', 'kind': 'checkout', 'name': 'checkout',
            'path': ['checkout'], 'group': None, 'parent': None,
            'state': 'available', 'result': None, 'treeid': 'tree0001',
            'artifacts': {'tarball': tarball_url},
            'data': {'kernel_revision': revision}}


def job_node(job_name, checkout):
    return {'id': 'job000000000000000000001', 'kind': 'job', 'name': job_name,
            'path': ['checkout', job_name], 'group': job_name,
            'parent': checkout['id'], 'state': 'running', 'result': None,
            'artifacts': {}, 'data': {'kernel_revision': checkout['data']['kernel_revision'],
                                      'runtime': RUNTIME}}


def run_job(upstream, pipeline_dir, configs, job_name, run, timeout=300):
    """Render job_name and run its program against `run`, a dict with
    kunit_json (bytes or None), test_log (bytes), exit_status (int): one
    real kunit.py run.  Returns a dict: rc, output, submitted (the node tree
    PUT to the API, or None), uploads (names), calls (kunit.py command lines),
    command (the container command), params."""
    name = 'linux-vmsync-kci-' + ''.join(random.sample(string.ascii_lowercase, 10))
    with FakeKernelCI() as api, tempfile.TemporaryDirectory() as tmp:
        api.tarball = (name + '.tar.gz',
                       make_tarball(name, run['kunit_json'], run['test_log'],
                                    run['exit_status']))
        checkout = checkout_node(api.url + api.tarball[0])
        node = job_node(job_name, checkout)
        api.nodes = {checkout['id']: checkout, node['id']: node}
        manifest, params = render(upstream, pipeline_dir, configs, job_name,
                                  node, api.url, api.url)
        command, prog = program(manifest)
        path = os.path.join(tmp, 'job.py')
        with open(path, 'w') as f:
            f.write(prog)
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in ('http_proxy', 'https_proxy', 'all_proxy')}
        env.update(PYTHONPATH=os.path.join(upstream, 'kernelci-core'),
                   KCI_API_TOKEN='test-token', KCI_STORAGE_CREDENTIALS='test-cred',
                   NO_PROXY='127.0.0.1,localhost', no_proxy='127.0.0.1,localhost')
        src = os.path.join('/tmp/kci', name)     # WORKSPACE in base/python.jinja2
        try:
            proc = subprocess.run([sys.executable, '-c', WRAPPER, path], env=env,
                                  cwd=tmp, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=timeout)
            calls = []
            with contextlib.suppress(OSError):
                with open(os.path.join(src, 'tools/testing/kunit/replay/calls.jsonl')) as f:
                    calls = [json.loads(line) for line in f]
        finally:
            shutil.rmtree(src, ignore_errors=True)
        return {'rc': proc.returncode,
                'output': proc.stdout.decode(errors='replace'),
                'submitted': api.submitted[-1] if api.submitted else None,
                'uploads': sorted(api.uploads), 'calls': calls,
                'command': command, 'params': params}


def results(tree):
    """{path: result} for every node of a submitted node tree, the path
    being the node names below the job node joined with '.', e.g.
    'exec.vmalloc_sync.other_mm_sees_new_tables'; the job node is ''."""
    out = {}

    def walk(t, prefix):
        name = t['node']['name']
        path = '' if prefix is None else (prefix + '.' + name if prefix else name)
        out[path] = t['node'].get('result')
        for child in t.get('child_nodes', []):
            walk(child, path)
    walk(tree, None)
    return out


def cases(kunit_json):
    """{'vmalloc_sync.<case>[.<param>]': status} from kunit.py's JSON."""
    out = {}

    def walk(g, prefix):
        for c in g.get('test_cases', []):
            out[prefix + c['name']] = c['status']
        for s in g.get('sub_groups', []):
            walk(s, prefix + s['name'] + '.')
    walk(kunit_json, '')
    return out
