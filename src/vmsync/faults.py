"""--fault-injection: the cases that need page-table allocations to fail,
run for real after kunit.py's run.

table_alloc_failure_still_syncs fails the Nth page-table allocation of a
walker through current->fail_nth.  fail_page_alloc fails order-0 sleeping
allocations only once debugfs sets its min-order 0 and ignore-gfp-wait N
(6.12 and 7.2 mm/fail_page_alloc.c; no boot option sets them), so the
boot-time run kunit.py makes always skips the case.  With this option the
runner builds the kernel with fail_page_alloc and the KUnit fix that lets a
skipped case run again (tools/rerun/kunit-rerun-skipped-*.patch), and after
kunit.py's run boots it once more through tools/rerun/run.sh --fail: its
/init sets the two knobs and runs the suite again through debugfs.  The
fault-injection cases take their result from that run; everything else
keeps kunit.py's.
"""

import json
import os
import shutil
import time

from .util import Fail, say, fmt_s, run_cmd
from .paths import ROOT
from .kunit_run import EXEC_TIMEOUT

RERUN_DIR = os.path.join(ROOT, 'tools', 'rerun')
RUN_SH = os.path.join(RERUN_DIR, 'run.sh')
ARCHES = ('um', 'i386', 'i386-pae', 'arm', 'arm64')       # what run.sh boots
# the KUnit fix for each VERSION.PATCHLEVEL it was written for
KUNIT_FIX = {'6.12': 'kunit-rerun-skipped-6.12.118.patch',
             '7.2': 'kunit-rerun-skipped-7.2.13.patch'}
# a skip for want of fail_page_alloc (the case's own reason)
NO_FAULTS = 'cannot be made to fail'


def check_arches(arches):
    bad = [a for a in arches if a not in ARCHES]
    if bad:
        raise Fail('--fault-injection: no fault-injection boot for %s (only %s)'
                   % (', '.join(bad), ', '.join(ARCHES)))


def kunit_fix(version):
    """The KUnit re-run fix for this kernel version."""
    name = KUNIT_FIX.get('.'.join(version.split('.')[:2]))
    if not name:
        raise Fail('--fault-injection: no KUnit re-run fix for Linux %s (have %s; 6.1\'s '
                   'KUnit cannot run a suite again at all: it has no debugfs run file)'
                   % (version, ', '.join(sorted(KUNIT_FIX))))
    return os.path.join(RERUN_DIR, name)


def kconfig(arch):
    """The options the fault-injection boot needs on arch (run.sh's list)."""
    _, out = run_cmd(['bash', RUN_SH, '--print-kconfig', '--fail', arch],
                     what='tools/rerun/run.sh --print-kconfig')
    return tuple(out.split())


def key_parts():
    """What goes into a result's key besides the kernel: the tool's files."""
    parts = ['fault-injection']
    for name in sorted(os.listdir(RERUN_DIR)):
        with open(os.path.join(RERUN_DIR, name), 'rb') as f:
            parts += [name, f.read().decode(errors='replace')]
    return tuple(parts)


def parent(name):
    return name.rsplit('.', 1)[0]


def merge(res, rerun):
    """Put run 1 of tools/rerun (split.py's JSON, or None) into the run
    result res: the fault-injection cases (and their parameterised case)
    take run 1's result; anything wrong with that boot is an ERROR case
    'vmsync.fault_injection'."""
    problems = []
    run0 = (rerun or {}).get('runs', {}).get('0', {})
    run1 = (rerun or {}).get('runs', {}).get('1', {})
    faulty = set((rerun or {}).get('fail_page_alloc_cases', []))
    if rerun is None:
        problems.append('tools/rerun/run.sh gave no result')
    elif not run1:
        problems.append('the suite did not run again after /init turned fail_page_alloc on')
    elif not faulty:
        problems.append('no case skipped for want of fail_page_alloc in the boot-time '
                        'run, so none ran with it')
    names = faulty | set(parent(c) for c in faulty if parent(c) in run1)
    for c in sorted(names):
        r = run1.get(c)
        if r is None:
            problems.append('%s: not in the run with fail_page_alloc on' % c)
        elif r['status'] == 'SKIP' and NO_FAULTS in r['log']:
            problems.append('%s: skipped again with fail_page_alloc on: %s' % (c, r['log']))
    for c, r in sorted(run1.items()):
        if c not in names and r['status'] in ('FAIL', 'ERROR') and \
                run0.get(c, {}).get('status') not in ('FAIL', 'ERROR'):
            problems.append('%s: %s in the second run, %s in the first:\n%s' % (
                c, r['status'], run0.get(c, {}).get('status', 'absent'), r['log']))
    for c in sorted(set(c for cs in (rerun or {}).get('not_rerun', {}).values()
                        for c in cs)):
        problems.append('%s: not run again (KUnit kept its skip)' % c)
    for rep in (rerun or {}).get('reports', []):
        problems.append('the kernel printed a report while the suite ran: %s' % rep)
    for case in res['cases']:
        r = run1.get(case['name'])
        if case['name'] in names and r:
            case['status'] = r['status']
            case['log'] = ('[run again with fail_page_alloc on, tools/rerun]\n' +
                           r['log'])
    if problems:
        res['cases'].append({'name': 'vmsync.fault_injection', 'status': 'ERROR',
                             'log': '\n'.join(problems)})
    res['fault_injection_cases'] = len(faulty)
    bad = any(c['status'] in ('FAIL', 'ERROR') for c in res['cases'])
    res['status'] = 'fail' if bad else 'pass'


def run_faults(res, arch):
    """Boot res's kernel again through tools/rerun/run.sh --fail and merge
    its second run into res."""
    out = os.path.join(res['build_dir'], 'vmsync-faults')
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    log = os.path.join(out, 'run.log')
    say('[%s] fault injection (tools/rerun/run.sh --fail) ...' % arch)
    t0 = time.time()
    run_cmd(['bash', RUN_SH, '--fail', arch, '1'], log=log, check=False,
            env=dict(os.environ, BDIR=res['build_dir'], OUT=out,
                     TIMEOUT=str(EXEC_TIMEOUT)))
    dt = time.time() - t0
    try:
        with open(os.path.join(out, arch + '.json')) as f:
            rerun = json.load(f)
    except (OSError, ValueError):
        rerun = None
    merge(res, rerun)
    if rerun is None:
        res['cases'][-1]['log'] += ' (see %s)' % log
    res['fault_s'] = round(dt, 1)
    say('[%s] fault injection ... %s, %d case(s) with fail_page_alloc on' % (
        arch, fmt_s(dt), res['fault_injection_cases']))
