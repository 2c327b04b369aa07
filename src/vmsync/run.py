"""./vmsync run: the suite on one kernel, on one or more arches."""

import contextlib
import email.parser
import email.policy
import json
import os
import re
import shutil
import tempfile
import time

from .util import Fail, say, fmt_s, cache_lock, run_cmd
from .paths import ROOT, SUITE_DIR, BACKPORTS_DIR, KUNITCONFIG, cache_dir
from .arches import ARCHES, parse_arches
from .debian import BUILD_PACKAGES, ensure_packages
from .tree import prepare_tree
from .sources import check_kernel_spec, get_source
from .kunit_run import run_arch
from . import results
from . import faults
from .report import exit_code, print_report


def split_mboxes(patches, tmp):
    """An mbox of several mails becomes one patch per mail (git mailsplit),
    cover letters and other mails without a diff left out, so that a patch
    that does not apply is named.  Returns (patches, {split file: 'mail N
    of MBOX ("Subject")'})."""
    out, names = [], {}
    for p in patches:
        with open(p, errors='replace') as f:
            text = f.read()
        if not text.startswith('From ') or len(re.findall(r'^From ', text, re.M)) < 2:
            out.append(p)
            continue
        d = tempfile.mkdtemp(prefix='mbox-', dir=tmp)
        run_cmd(['git', 'mailsplit', '-o' + d, p], what='git mailsplit ' + p)
        mails = sorted(os.listdir(d))
        for i, m in enumerate(mails, 1):
            path = os.path.join(d, m)
            with open(path, errors='replace') as f:
                mail = f.read()
            if not re.search(r'^(diff |--- |\+\+\+ )', mail, re.M):
                continue
            subject = email.parser.Parser(policy=email.policy.default).parsestr(
                mail, headersonly=True).get('Subject', '')
            names[path] = 'mail %d of %d of %s (%s)' % (i, len(mails), p,
                                                       ' '.join(str(subject).split()))
            out.append(path)
    return out, names


def version_key(version):
    """(major, minor) of '6.1.192', '6.12' or '7.2.13-rc1'; None if it is not one."""
    m = re.match(r'(\d+)\.(\d+)', version)
    return (int(m.group(1)), int(m.group(2))) if m else None


def backports_for(version, backports_dir=BACKPORTS_DIR):
    """The backports/X.Y directories a kernel of `version` takes: each one
    holds what kernels up to X.Y lack, so every X.Y at or above the kernel's
    applies, the newest first (an older one may build on a newer one)."""
    key = version_key(version)
    try:
        names = os.listdir(backports_dir)
    except OSError:
        return []
    dirs = [(version_key(n), n) for n in names
            if version_key(n) and os.path.isdir(os.path.join(backports_dir, n))]
    return [os.path.join(backports_dir, n) for k, n in sorted(dirs, reverse=True)
            if key and k >= key]


def prepare_suite_tree(kern, suite_dir=SUITE_DIR, patches=(), unmatched=None):
    """The cached tree of kern, back to pristine, then patches (mboxes
    split), the version's backports and the suite.  Returns the manifest;
    the suite's replace edits the patches left nothing to match for go to
    the list unmatched."""
    t0 = time.time()
    say('[tree] prepare ...')
    shown = os.path.relpath(suite_dir, ROOT)
    overlays = [(d, os.path.relpath(d, ROOT)) for d in backports_for(kern['version'])]
    with tempfile.TemporaryDirectory(prefix='vmsync-patches-') as tmp:
        split, names = split_mboxes(patches, tmp)
        try:
            manifest = prepare_tree(kern['tree'], suite_dir, split,
                                    shown=suite_dir if shown.startswith('..') else shown,
                                    overlays=overlays, unmatched=unmatched)
        except Fail as e:
            msg = str(e)
            for path, name in names.items():
                msg = msg.replace('patch %s ' % path, 'patch %s ' % name)
            raise Fail(msg, e.code)
    say('[tree] prepare ... %s' % fmt_s(time.time() - t0))
    if not os.path.isfile(os.path.join(kern['tree'], KUNITCONFIG)):
        raise Fail('%s is missing: kernel/%s must provide it' % (KUNITCONFIG, KUNITCONFIG))
    return manifest


# The suite sees the walkers' syncs only through pgtbl_sync_kernel_mappings(),
# which the series makes them call; a direct arch_sync_kernel_mappings() call
# in these files (beyond the helper's own) is a sync the suite cannot see.
DIRECT_SYNC_CALL = re.compile(r'\barch_sync_kernel_mappings\s*\(')
OBSERVED_FILES = ('mm/memory.c', 'mm/vmalloc.c')


def direct_sync_calls(tree):
    """{file: number of direct arch_sync_kernel_mappings() calls} in OBSERVED_FILES."""
    counts = {}
    for rel in OBSERVED_FILES:
        with contextlib.suppress(OSError), open(os.path.join(tree, rel), errors='replace') as f:
            counts[rel] = len(DIRECT_SYNC_CALL.findall(f.read()))
    return counts


def do_run(kernel='6.12', arch='um', patches=(), json_file=None, jobs=None,
           suite_dir=SUITE_DIR, kconfig_add=(), reuse=False, fault_injection=False):
    """The whole 'run' command.  Returns (exit code, report dict)."""
    arches = parse_arches(arch)
    check_kernel_spec(kernel)
    if fault_injection:
        faults.check_arches(arches)
    patches = [os.path.abspath(p) for p in patches]
    for p in patches:
        if not os.path.isfile(p):
            raise Fail('--patch %s: no such file' % p)
    for k in kconfig_add:
        if not re.match(r'^CONFIG_[A-Za-z0-9_]+=\S*$', k):
            raise Fail('--kconfig_add %s: expected CONFIG_NAME=VALUE' % k)
    if jobs is not None and jobs < 1:
        raise Fail('--jobs must be at least 1')
    if json_file and not os.path.isdir(os.path.dirname(os.path.abspath(json_file))):
        raise Fail('--json %s: no such directory' % json_file)
    jobs = jobs or os.cpu_count() or 1
    cache = cache_dir()
    packages = list(BUILD_PACKAGES)
    for a in arches:
        packages += ARCHES[a].packages
    with cache_lock(cache):
        t_start = time.time()
        ensure_packages(packages)
        for a in arches:
            q = ARCHES[a].qemu
            if q and not shutil.which(q):
                raise Fail('%s not found (needed for --arch %s)' % (q, a))
            c = ARCHES[a].cross
            if c and not shutil.which(c + 'gcc'):
                raise Fail('%sgcc not found (needed for --arch %s)' % (c, a))
        kern = get_source(kernel, cache)
        say('vmsync: kernel %s (%s), tree %s' % (kern['version'], kern['source'],
                                              kern['tree']))
        unmatched = []
        if fault_injection:
            patches = [faults.kunit_fix(kern['version'])] + patches
        manifest = prepare_suite_tree(kern, suite_dir, patches, unmatched)
        sync_calls = direct_sync_calls(kern['tree'])
        runs = []
        for a in arches:
            kc = tuple(kconfig_add) + (faults.kconfig(a) if fault_injection else ())
            key = results.result_key(kern, manifest, a, kc +
                                     (faults.key_parts() if fault_injection else ()))
            r = results.load(cache, key) if reuse else None
            if r:
                say('[%s] reusing the result of an identical earlier run (inputs %s)'
                    % (a, key[:12]))
            else:
                r = run_arch(kern, a, cache, jobs, kc)
                if fault_injection and r['status'] != 'build-error':
                    faults.run_faults(r, a)
                results.store(cache, key, r)
            runs.append(r)
        say('vmsync: done in %s (not counting waits for the lock)' % fmt_s(time.time() - t_start))
    report = {'kernel': {'source': kern['source'], 'version': kern['version']},
              'runs': [{k: x for k, x in r.items() if k != 'error_tail'} for r in runs]}
    report['direct_sync_calls'] = sync_calls
    if unmatched:
        report['unmatched_edits'] = unmatched
    if json_file:
        with open(json_file, 'w') as f:
            json.dump(report, f, indent=2)
            f.write('\n')
    print_report(runs)
    return exit_code(runs), report
