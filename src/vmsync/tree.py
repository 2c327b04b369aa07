"""The kernel work tree: a git repo whose tag vmsync-pristine is the untouched
source, and putting the suite (kernel/, backports/X.Y/) and patches into it."""

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time

from .util import Fail, say, fmt_s, last_line, run_cmd, write_if_changed
from .edit import apply_edit


PRISTINE = 'refs/tags/vmsync-pristine'


def git(tree, *args, check=True):
    cmd = ['git', '-C', tree, '-c', 'core.autocrlf=false',
           '-c', 'user.name=vmsync', '-c', 'user.email=vmsync@localhost'] + list(args)
    return run_cmd(cmd, check=check, what='git ' + args[0])[1]


def make_pristine(tree):
    """Turn a freshly unpacked tree into a git repo with a pristine tag."""
    git(tree, 'init', '-q')
    git(tree, 'config', 'gc.auto', '0')
    git(tree, 'config', 'core.looseCompression', '1')
    snapshot(tree)


def snapshot(tree):
    """Commit the tree as it is (the kernel's own .gitignore is ignored) and
    point the pristine tag at it.  Returns True if something changed."""
    git(tree, 'add', '-A', '-f')
    has_head = run_cmd(['git', '-C', tree, 'rev-parse', '-q', '--verify', 'HEAD'],
                       check=False)[0] == 0
    if has_head and run_cmd(['git', '-C', tree, 'diff', '--cached', '--quiet'],
                            check=False)[0] == 0:
        return False
    git(tree, 'commit', '-q', '--no-verify', '--allow-empty', '-m', 'vmsync pristine')
    git(tree, 'update-ref', PRISTINE, 'HEAD')
    return True


def manifest_path(tree):
    return os.path.join(tree, '.git', 'vmsync-manifest.json')


def reset_tree(tree):
    """Back to pristine.  Only changed files are rewritten, so unchanged
    files keep their mtimes and kbuild rebuilds incrementally."""
    git(tree, 'reset', '-q', '--hard', PRISTINE)
    git(tree, 'clean', '-fdxq')


def file_sha(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def suite_files(suite_dir):
    """Sorted relative paths of all files under suite_dir."""
    out = []
    for dirpath, dirnames, filenames in os.walk(suite_dir):
        dirnames.sort()
        for f in filenames:
            out.append(os.path.relpath(os.path.join(dirpath, f), suite_dir))
    return sorted(out)


def apply_suite(tree, suite_dir, shown='kernel', unmatched=None):
    """Copy suite files into tree, then apply the .edit files (unmatched:
    see apply_edit).  Returns the tree-relative paths written."""
    written = []
    files = suite_files(suite_dir) if os.path.isdir(suite_dir) else []
    for rel in files:
        if rel.endswith('.edit'):
            continue
        with open(os.path.join(suite_dir, rel), 'rb') as f:
            data = f.read()
        dst = os.path.join(tree, rel)
        write_if_changed(dst, data)
        shutil.copymode(os.path.join(suite_dir, rel), dst)
        written.append(rel)
    for rel in files:
        if not rel.endswith('.edit'):
            continue
        target = rel[:-len('.edit')]
        name = os.path.join(shown, rel)
        dst = os.path.join(tree, target)
        if not os.path.isfile(dst):
            raise Fail('%s: %s does not exist in the kernel tree' % (name, target))
        with open(os.path.join(suite_dir, rel), errors='surrogateescape') as f:
            edit = f.read()
        with open(dst, errors='surrogateescape') as f:
            text = f.read()
        new = apply_edit(text, edit, name, target, unmatched=unmatched)
        write_if_changed(dst, new.encode(errors='surrogateescape'))
        written.append(target)
    return written


def prepare_tree(tree, suite_dir, patches, shown='kernel', overlays=(),
                 unmatched=None):
    """pristine + patches + suite.  Patches under test are written against
    an unmodified tree, so they go first and apply as they would upstream;
    the suite's .edit blocks are anchored and go on top.  The replace blocks
    that found nothing to rewrite in the patched tree are appended to the
    list unmatched.  Files whose content is the same as in
    the previous prepared state get their previous mtime back (so the reset
    and re-apply does not make kbuild rebuild them); every other changed file
    has a new mtime.  A failure leaves the tree pristine."""
    try:
        with open(manifest_path(tree)) as f:
            old = json.load(f)
    except (OSError, ValueError):
        old = {}
    with contextlib.suppress(OSError):
        os.remove(manifest_path(tree))
    reset_tree(tree)
    try:
        for p in patches:
            rc, out = run_cmd(['patch', '-p1', '--batch', '--forward',
                               '--no-backup-if-mismatch', '-r', '-',
                               '-d', tree, '-i', p], check=False)
            if rc != 0:
                why, target = '', ''
                for l in out.splitlines():
                    if l.startswith('patching file '):
                        target = l[len('patching file '):].strip()
                    elif not why and re.search(r'FAILED|Reversed|Skipping|'
                                               r"can't find|malformed|Only garbage", l):
                        why = l.strip() + (' (%s)' % target if target else '')
                raise Fail('patch %s does not apply: %s' % (
                    p, why or last_line(out) or 'exit %d' % rc))
            if 'with fuzz' in out:
                say('vmsync: note: %s applied with fuzz' % p)
        if not patches:
            unmatched = None        # then a replace that matches nothing is an error
        elif unmatched is None:
            unmatched = []
        written = apply_suite(tree, suite_dir, shown, unmatched)
        for odir, oshown in overlays:     # e.g. backports/6.1, same format
            written += apply_suite(tree, odir, oshown, unmatched)
    except BaseException:
        reset_tree(tree)
        raise
    out = git(tree, 'ls-files', '-z', '-m', '-o')
    changed = sorted(set(written) | set(x for x in out.split('\0') if x))
    new = {}
    for rel in changed:
        path = os.path.join(tree, rel)
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        sha = file_sha(path)
        if rel in old and old[rel][0] == sha:
            os.utime(path, ns=(old[rel][1], old[rel][1]))
        new[rel] = [sha, os.stat(path).st_mtime_ns]
    tmp = manifest_path(tree) + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(new, f)
    os.replace(tmp, manifest_path(tree))
    return new


def is_kernel_tree(path):
    mk = os.path.join(path, 'Makefile')
    if not os.path.isfile(os.path.join(path, 'tools/testing/kunit/kunit.py')):
        return False
    try:
        with open(mk, errors='replace') as f:
            return re.search(r'^VERSION\s*=', f.read(), re.M) is not None
    except OSError:
        return False


def kernel_version(tree):
    vals = {}
    with open(os.path.join(tree, 'Makefile'), errors='replace') as f:
        for line in f:
            m = re.match(r'(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(\S*)', line)
            if m and m.group(1) not in vals:
                vals[m.group(1)] = m.group(2)
    v = '.'.join(vals[k] for k in ('VERSION', 'PATCHLEVEL', 'SUBLEVEL')
                 if vals.get(k))
    return v + vals.get('EXTRAVERSION', '')


def unpack_tarball(tarball, dest, cache):
    """Unpack a linux-source tarball to dest as a pristine git tree,
    atomically (tmp dir + rename)."""
    parent = os.path.dirname(dest)
    for d in os.listdir(parent):          # left by an interrupted unpack
        if d.startswith('.unpack-'):
            shutil.rmtree(os.path.join(parent, d), ignore_errors=True)
    tmp = tempfile.mkdtemp(prefix='.unpack-', dir=parent)
    try:
        t0 = time.time()
        say('[source] unpack %s ...' % tarball)
        run_cmd(['tar', '-xf', tarball, '-C', tmp], what='tar -xf ' + tarball)
        subdirs = [d for d in os.listdir(tmp) if os.path.isdir(os.path.join(tmp, d))]
        if len(subdirs) != 1 or not is_kernel_tree(os.path.join(tmp, subdirs[0])):
            raise Fail('%s does not hold one kernel tree' % tarball)
        tree = os.path.join(tmp, subdirs[0])
        make_pristine(tree)
        os.rename(tree, dest)
        say('[source] unpack ... %s' % fmt_s(time.time() - t0))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def prune(cache, prefix, keep):
    """Remove older trees (and their build dirs) of the same source."""
    for sub in ('trees', 'build'):
        d = os.path.join(cache, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if name.startswith(prefix) and name != keep:
                say('[source] removing old %s/%s' % (sub, name))
                shutil.rmtree(os.path.join(d, name), ignore_errors=True)
