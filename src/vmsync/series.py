"""./vmsync series: the suite as a patch series for linux-mm, and its checks
(--check, ./vmsync test)."""

import os
import re
import subprocess
import tempfile

from .util import Fail, say, last_line, run_cmd, cache_lock
from .paths import ROOT, SUITE_DIR, SERIES_DIR, cache_dir
from .debian import BUILD_PACKAGES, ensure_packages
from .edit import parse_edit, apply_edit
from .tree import PRISTINE, git, reset_tree, suite_files
from .sources import get_source
from .kunit_run import build_dir_for, kunit_cmd
from .patchcheck import (compile_warnings, checkpatch, kernel_doc, rst_problems, print_checks,
                         DOCS_PACKAGES, sphinx_dir, htmldocs_warnings)


# 6.12 and 6.1 need backports/ (6.12: no kunit_warning_suppress()): not upstream
SERIES_KERNELS = ('newest',)
# checkpatch, C=2, docutils (where Sphinx cannot run), make htmldocs
SERIES_PACKAGES = ['perl', 'sparse', 'python3-docutils'] + DOCS_PACKAGES
# what a patch's header-only edit is compiled through
HEADER_CONSUMERS = {'mm/internal.h': ['mm/memory.o', 'mm/vmalloc.o'],
                    'include/linux/pgtable.h': ['mm/vmalloc.o']}


def parse_part(path):
    """A series/N-*.txt file: 'Files:' and 'Subject:' headers, a blank line,
    the commit message body.  Returns dict(files, subject, body)."""
    with open(path) as f:
        head, _, body = f.read().partition('\n\n')
    name = os.path.relpath(path, ROOT)
    part = {'name': name, 'files': [], 'subject': '', 'body': body.strip('\n') + '\n'}
    key = None
    for line in head.splitlines():
        m = re.match(r'^(Files|Subject):\s*(.*)$', line)
        if m:
            key, val = m.group(1), m.group(2)
        elif line[:1].isspace() and key:
            val = line.strip()
        else:
            raise Fail('%s: unexpected header line %r' % (name, line))
        if key == 'Files':
            part['files'] += val.split()
        else:
            part['subject'] = (part['subject'] + ' ' + val).strip()
    if not part['subject']:
        raise Fail('%s: no Subject: line' % name)
    return part


def series_parts():
    """(cover, [patch parts]) from series/; checks that every suite file and
    every .edit block under kernel/ is in exactly one patch."""
    names = sorted((f for f in os.listdir(SERIES_DIR) if re.match(r'^\d+-.*\.txt$', f)),
                   key=lambda f: int(f.split('-')[0]))
    parts = [parse_part(os.path.join(SERIES_DIR, f)) for f in names]
    if not parts or not names[0].startswith('0-') or parts[0]['files']:
        raise Fail('series/: 0-*.txt must be the cover letter (no Files:)')
    seen = {}
    for p in parts[1:]:
        for entry in p['files']:
            src, blocks = series_entry(entry, p['name'])
            for b in blocks:
                if (src, b) in seen:
                    raise Fail('series/: %s is in %s and %s' % (
                        entry, seen[src, b], p['name']))
                seen[src, b] = p['name']
    suite = SUITE_DIR if os.path.isdir(SUITE_DIR) else None
    for rel in suite_files(suite) if suite else []:
        src = os.path.join(os.path.relpath(suite, ROOT), rel)
        _, blocks = series_entry(src, 'kernel/')
        for b in blocks:
            if (src, b) not in seen:
                raise Fail('series/: %s%s is in no patch' % (
                    src, '#%d' % b if b else ''))
    return parts[0], parts[1:]


def series_entry(entry, where):
    """'kernel/mm/X.edit#2' -> ('kernel/mm/X.edit', [2]); a whole .edit is
    all its blocks, any other file is block 0."""
    src, _, num = entry.partition('#')
    path = os.path.join(ROOT, src)
    if not os.path.isfile(path):
        raise Fail('%s: %s: no such file' % (where, src))
    if not src.endswith('.edit'):
        if num:
            raise Fail('%s: %s: only .edit files have #blocks' % (where, entry))
        return src, [0]
    with open(path) as f:
        n = len(parse_edit(f.read(), src))
    if not num:
        return src, list(range(1, n + 1))
    if not num.isdigit() or not 1 <= int(num) <= n:
        raise Fail('%s: %s: %s has %d @@ blocks' % (where, entry, src, n))
    return src, [int(num)]


def series_target(src):
    """kernel/mm/Makefile.edit -> mm/Makefile; series/MAINTAINERS.edit ->
    MAINTAINERS"""
    rel = src.split('/', 1)[1]
    return rel[:-len('.edit')] if rel.endswith('.edit') else rel


def git_identity():
    """Author of the series: the user's git configuration, never invented."""
    ident = []
    for key in ('user.name', 'user.email'):
        p = subprocess.run(['git', 'config', '--get', key], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, universal_newlines=True)
        if not p.stdout.strip():
            raise Fail('git config %s is not set: the series is authored and '
                       'signed off by you (git config --global %s ...)' % (key, key))
        ident.append(p.stdout.strip())
    return ident


def git_env(ident, **extra):
    name, email = ident
    return dict(os.environ, GIT_AUTHOR_NAME=name, GIT_AUTHOR_EMAIL=email,
                GIT_COMMITTER_NAME=name, GIT_COMMITTER_EMAIL=email, **extra)


def git_io(tree, args, env=None, data=None):
    p = subprocess.run(['git', '-C', tree] + args, input=data, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode:
        raise Fail('git %s failed: %s' % (args[0], last_line(
            p.stderr.decode(errors='replace'))))
    return p.stdout


def make_series(kern, out_dir, ident):
    """Commit the patches on top of the pristine tree (plumbing only: the
    work tree is not touched) and format-patch them into out_dir.
    Returns the list of files written, cover letter first."""
    cover, parts = series_parts()
    tree = kern['tree']
    files = {}      # tree path -> current text

    def current(target):
        if target not in files:
            blob = git_io(tree, ['cat-file', 'blob', '%s:%s' % (PRISTINE, target)])
            files[target] = blob.decode(errors='surrogateescape')
        return files[target]

    with tempfile.TemporaryDirectory(prefix='vmsync-series-') as tmp:
        env = git_env(ident, GIT_INDEX_FILE=os.path.join(tmp, 'index'))
        git_io(tree, ['read-tree', PRISTINE], env=env)
        parent = git_io(tree, ['rev-parse', PRISTINE + '^{commit}']).decode().strip()
        first = parent
        for p in parts:
            for entry in p['files']:
                src, blocks = series_entry(entry, p['name'])
                target = series_target(src)
                with open(os.path.join(ROOT, src), errors='surrogateescape') as f:
                    text = f.read()
                if src.endswith('.edit'):
                    text = apply_edit(current(target), text, src, target, only=blocks)
                files[target] = text
                sha = git_io(tree, ['hash-object', '-w', '--stdin'],
                             data=text.encode(errors='surrogateescape')).decode().strip()
                mode = '100%o' % (os.stat(os.path.join(ROOT, src)).st_mode & 0o777
                                  if not src.endswith('.edit') else 0o644)
                git_io(tree, ['update-index', '--add', '--cacheinfo',
                              '%s,%s,%s' % (mode, sha, target)], env=env)
            tree_sha = git_io(tree, ['write-tree'], env=env).decode().strip()
            msg = '%s\n\n%s\nSigned-off-by: %s <%s>\n' % (p['subject'], p['body'], *ident)
            parent = git_io(tree, ['commit-tree', tree_sha, '-p', parent],
                            env=env, data=msg.encode()).decode().strip()
        os.makedirs(out_dir, exist_ok=True)
        for old in os.listdir(out_dir):
            if re.match(r'^\d{4}-.*\.patch$', old):
                os.remove(os.path.join(out_dir, old))
        out = git_io(tree, ['format-patch', '--cover-letter', '-o', out_dir,
                            '%s..%s' % (first, parent)], env=env).decode()
    written = out.split()
    blurb = '%s\n\n%s\n' % (cover['body'].rstrip('\n'), base_line(kern))
    with open(written[0]) as f:
        text = f.read()
    text = text.replace('*** SUBJECT HERE ***', cover['subject'])
    text = text.replace('*** BLURB HERE ***', blurb.rstrip('\n'))
    with open(written[0], 'w') as f:
        f.write(text)
    return written, parent


def base_line(kern):
    """How the cover letter names the base: base-commit: where the user's
    tree is a clean git checkout, else the version and where it came from
    (Debian's source packages have no upstream history to name)."""
    src = kern['source']
    if os.path.isdir(src):
        rc, head = run_cmd(['git', '-C', src, 'rev-parse', '--verify', '-q', 'HEAD'],
                           check=False)
        rc2, dirty = run_cmd(['git', '-C', src, 'status', '--porcelain',
                              '--untracked-files=no'], check=False)
        if rc == 0 and rc2 == 0 and not dirty.strip():
            return 'base-commit: %s' % head.strip()
        return 'Based on Linux %s (%s, not a clean git checkout).' % (kern['version'], src)
    return 'Based on Linux %s (%s; no base-commit: that source has no upstream history).' % (
        kern['version'], src)


def do_series(kernel='newest', out=None, check=False):
    if kernel not in SERIES_KERNELS and (re.match(r'^\d+\.\d+$', kernel) or
                                         not os.path.isdir(kernel)):
        raise Fail('the series is for mainline-era trees (%s, or your own); 6.12, '
                   '6.1 and other trees need the backports in backports/, which '
                   'are not for upstream' % ', '.join(SERIES_KERNELS))
    ident = git_identity()
    cache = cache_dir()
    out = os.path.abspath(out or 'vmsync-series')
    with cache_lock(cache):
        ensure_packages(BUILD_PACKAGES)
        kern = get_source(kernel, cache)
        written, _ = make_series(kern, out, ident)
    for w in written:
        say(w)
    if check:
        say()
        return 1 if print_checks(check_series(kernel)) else 0
    return 0


def check_series(kernel):
    """./vmsync test's series checks on one kernel: the series applies with
    git am and each patch on its own is clean.  Returns [(what, problems)]."""
    ident = git_identity()
    cache = cache_dir()
    results = []
    with cache_lock(cache):
        ensure_packages(BUILD_PACKAGES + SERIES_PACKAGES)
        kern = get_source(kernel, cache)
        tree = kern['tree']
        out = os.path.join(cache, 'series', kern['key'])
        bdir = build_dir_for(cache, kern, 'series-um')
        env = git_env(ident, CCACHE_DIR=os.path.join(cache, 'ccache'))
        patches, _ = make_series(kern, out, ident)
        patches = patches[1:]
        # the manifest stays: the next prepare_tree() gives the suite's
        # files their old mtimes back, so no build dir rebuilds everything
        head = git(tree, 'symbolic-ref', '-q', 'HEAD', check=False).strip() or \
            git(tree, 'rev-parse', 'HEAD').strip()
        reset_tree(tree)
        git(tree, 'checkout', '-q', '--detach', PRISTINE)
        try:
            rc, msg = run_cmd(['git', '-C', tree, 'am', '-q', '--whitespace=error'] +
                              patches, env=env, check=False)
            results.append(('git am of the series on %s' % kern['version'],
                            [last_line(msg)] if rc else []))
            if rc:
                return results
            commits = git(tree, 'rev-list', '--reverse', '%s..HEAD' % PRISTINE).split()
            # the tip's kunit config, kept for every state
            run_cmd(kunit_cmd(kern, 'um', 'config', bdir), env=env, check=True,
                    what='kunit.py config')
            with open(os.path.join(bdir, '.config')) as f:
                seed = f.read()

            def state(rev):
                git(tree, 'checkout', '-q', '--detach', rev)
                with open(os.path.join(bdir, '.config'), 'w') as f:
                    f.write(seed)
                run_cmd(['make', '-C', tree, 'O=' + bdir, 'ARCH=um', 'olddefconfig'],
                        env=env, what='make olddefconfig')

            touched = []
            for c in commits:
                touched.append(git(tree, 'diff-tree', '--no-commit-id', '--name-only',
                                   '-r', c).split())
            objs = sorted(set(o for t in touched for f in t
                              for o in HEADER_CONSUMERS.get(f, [])))
            state(PRISTINE)
            base_warn = compile_warnings(tree, bdir, objs, env) if objs else set()
            # kernel-doc's complaints about what the base already has are not new
            base_doc = {f: kernel_doc(tree, f) for t in touched for f in t
                        if f.endswith(('.c', '.h')) and os.path.isfile(os.path.join(tree, f))}
            # the docs: built as the kernel builds them, base against patched
            docs_out = os.path.join(cache, 'series', kern['key'] + '-htmldocs')
            base_html, no_sphinx = {}, None
            for d in sorted(set(sphinx_dir(f) for t in touched for f in t
                                if f.endswith('.rst')) - {None}):
                base_html[d], no_sphinx = htmldocs_warnings(tree, d, docs_out, env)
                if no_sphinx:
                    break
            for i, (c, files, patch) in enumerate(zip(commits, touched, patches), 1):
                name = os.path.basename(patch)
                state(c)
                results.append(('%s: checkpatch --strict' % name, checkpatch(tree, patch)))
                objs = sorted(set([f[:-2] + '.o' for f in files if f.endswith('.c')] +
                                  [o for f in files for o in HEADER_CONSUMERS.get(f, [])]))
                if objs:
                    new = compile_warnings(tree, bdir, objs, env) - base_warn
                    results.append(('%s: W=1 C=2 (sparse) ARCH=um %s' % (name, ' '.join(objs)),
                                    ['%s: %s' % w for w in sorted(new)]))
                for f in files:
                    if f.endswith(('.c', '.h')):
                        doc = kernel_doc(tree, f) - base_doc.get(f, set())
                        results.append(('%s: kernel-doc -Wall -none %s' % (name, f), sorted(doc)))
                    if not f.endswith('.rst') or os.path.basename(f) == 'index.rst':
                        continue
                    d = sphinx_dir(f)
                    if d and not no_sphinx:
                        new, why = htmldocs_warnings(tree, d, docs_out, env)
                        if why:
                            results.append(('%s: make htmldocs SPHINXDIRS=%s' % (name, d), [why]))
                        else:
                            results.append(('%s: make htmldocs SPHINXDIRS=%s (new warnings)'
                                            % (name, d), sorted(new - base_html[d])))
                    else:
                        results.append(('%s: docutils %s (make htmldocs cannot run: %s)'
                                        % (name, f, no_sphinx or 'not under Documentation/'),
                                        rst_problems(tree, f)))
        finally:
            run_cmd(['git', '-C', tree, 'am', '--abort'], check=False)
            git(tree, 'checkout', '-q', '-f', head.replace('refs/heads/', ''))
            reset_tree(tree)
    return results
