"""Which kernel tree a --kernel value means: a Debian version, newest, or a
copy of the user's own tree."""

import hashlib
import os
import re
import shutil
import time

from .util import Fail, say, fmt_s, run_cmd, safe_key
from .debian import ensure_packages, debian_source, newest_source
from .tree import make_pristine, snapshot, is_kernel_tree, kernel_version


def path_key(path):
    """Cache key of a user's tree: keyed by its absolute path."""
    ap = os.path.abspath(path)
    return 'path-%s-%s' % (safe_key(os.path.basename(ap.rstrip('/')) or 'root'),
                           hashlib.sha256(ap.encode()).hexdigest()[:12])


def check_kernel_spec(spec):
    """Validate --kernel before taking the lock."""
    if spec == 'newest' or re.match(r'^\d+\.\d+$', spec):
        return
    if not is_kernel_tree(spec):
        raise Fail('--kernel %s: not a kernel tree (need a Makefile with '
                   'VERSION = and tools/testing/kunit/kunit.py)' % spec)


def user_source(path, cache):
    """A copy of the user's tree, re-synced every run (the original is never
    touched).  rsync --checksum without -t: only files whose content differs
    are rewritten and they get a new mtime, so kbuild sees every change."""
    ensure_packages(['rsync'])
    src = os.path.abspath(path)
    key = path_key(src)
    tree = os.path.join(cache, 'trees', key)
    t0 = time.time()
    say('[source] sync %s ...' % src)
    if not os.path.isdir(os.path.join(tree, '.git')):
        shutil.rmtree(tree, ignore_errors=True)
        os.makedirs(tree)
        fresh = True
    else:
        fresh = False
    excludes = ['/.git', '/.config', '/.config.old', '/include/config/',
                '/include/generated/', '/arch/*/include/generated/', '/.kunit/',
                '*.o', '*.cmd', '*.a', '*.ko']
    cmd = ['rsync', '-rlpDc', '--delete']
    for e in excludes:
        cmd += ['--exclude', e]
    run_cmd(cmd + [src + '/', tree + '/'], what='rsync of ' + src)
    if fresh:
        make_pristine(tree)
    else:
        snapshot(tree)
    say('[source] sync ... %s' % fmt_s(time.time() - t0))
    return dict(key=key, tree=tree, source=src)


def get_source(spec, cache):
    if spec == 'newest':
        k = newest_source(cache)
    elif re.match(r'^\d+\.\d+$', spec):
        k = debian_source(spec, cache)
    else:
        k = user_source(spec, cache)
    k['version'] = kernel_version(k['tree'])
    return k
