"""Earlier run results, reused by `check` for its base run only when
nothing that decides them has changed: the pristine tree (a git commit, so
content-addressed), every file the suite, backports and patches changed
(by content), the arch's description and --kconfig_add options, the
compiler and QEMU versions, and vmsync's own code (which reads the
output).  Anything else that could change a result is not an input."""

import hashlib
import json
import os
import subprocess

from .arches import ARCHES
from .tree import PRISTINE, git

SRC_DIR = os.path.dirname(os.path.abspath(__file__))


def _version(cmd):
    try:
        out = subprocess.run([cmd, '--version'], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, universal_newlines=True).stdout
    except OSError:
        return 'missing'
    return out.splitlines()[0] if out else 'missing'


def result_key(kern, manifest, arch, kconfig_add=()):
    a = ARCHES[arch]
    h = hashlib.sha256()

    def put(*parts):
        for p in parts:
            h.update(str(p).encode())
            h.update(b'\0')

    put('pristine', git(kern['tree'], 'rev-parse', PRISTINE).strip(), kern['version'])
    for rel in sorted(manifest):
        put('file', rel, manifest[rel][0])
    put('arch', repr(a), 'kconfig_add', *kconfig_add)
    put('gcc', _version(a.cross + 'gcc'))
    if a.qemu:
        put('qemu', _version(a.qemu))
    for name in sorted(os.listdir(SRC_DIR)):
        if name.endswith('.py'):
            with open(os.path.join(SRC_DIR, name), 'rb') as f:
                put('src', name, hashlib.sha256(f.read()).hexdigest())
    return h.hexdigest()


def _path(cache, key):
    return os.path.join(cache, 'results', key + '.json')


def load(cache, key):
    try:
        with open(_path(cache, key)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def store(cache, key, res):
    """Keep a finished run's result (a build error is never reused)."""
    if res['status'] == 'build-error':
        return
    os.makedirs(os.path.join(cache, 'results'), exist_ok=True)
    tmp = _path(cache, key) + '.tmp'
    with open(tmp, 'w') as f:
        json.dump({k: v for k, v in res.items() if k != 'error_tail'}, f)
    os.replace(tmp, _path(cache, key))
