"""What a run prints, its exit code, and kunit.py's JSON as KernelCI wants it."""

import json
import os

from .util import say
from .arches import ARCHES


def exit_code(runs):
    if any(r['status'] == 'build-error' for r in runs):
        return 3
    if any(r['status'] == 'fail' for r in runs):
        return 1
    return 0


def print_report(runs):
    say()
    say('%-12s %7s %7s %8s %8s  %s' % ('arch', 'passed', 'failed', 'skipped',
                                       'suite_s', 'status'))
    tot = [0, 0, 0]
    for r in runs:
        n = [sum(c['status'] == 'PASS' for c in r['cases']),
             sum(c['status'] in ('FAIL', 'ERROR') for c in r['cases']),
             sum(c['status'] == 'SKIP' for c in r['cases'])]
        tot = [x + y for x, y in zip(tot, n)]
        t = r.get('suite_s')
        say('%-12s %7d %7d %8d %8s  %s' % (r['arch'], n[0], n[1], n[2],
                                           '-' if t is None else '%.3f' % t,
                                           r['status']))
    for r in runs:
        if r.get('boot_reports'):
            say()
            say('note [%s]: the kernel printed %d report(s) while booting, before the '
                'suite started (not counted against it):' % (r['arch'], len(r['boot_reports'])))
            for l in r['boot_reports']:
                say('    ' + l)
        if r['status'] == 'build-error':
            say()
            say('BUILD ERROR [%s]: %s' % (r['arch'], r.get('error', '')))
            for l in r.get('error_tail', []):
                say('    ' + l)
        for c in r['cases']:
            if c['status'] in ('FAIL', 'ERROR'):
                say()
                say('%s [%s] %s' % (c['status'], r['arch'], c['name']))
                for l in c['log'].splitlines():
                    say('    ' + l)
    say()
    say('%d passed, %d failed, %d skipped' % tuple(tot))


def kernelci_json(kunit, run):
    """kunit.py's JSON for KernelCI, whose kunit template maps only PASS,
    FAIL and SKIP: a crashed case (kunit.py says ERROR) becomes FAIL, and
    what vmsync found wrong outside the cases (no boot, wrong paging mode)
    is a failed case of its own."""
    def fix(group):
        for c in group.get('test_cases', []):
            if c.get('status') not in ('PASS', 'FAIL', 'SKIP'):
                c['status'] = 'FAIL'
        for g in group.get('sub_groups', []):
            fix(g)
    kunit = kunit or {'name': 'KUnit Test Group', 'sub_groups': [], 'test_cases': [],
                      'arch': ARCHES[run['arch']].kunit_arch}
    fix(kunit)
    extra = [{'name': c['name'], 'status': 'FAIL'} for c in run['cases']
             if c['name'].startswith('vmsync.')]
    if run['status'] == 'build-error':
        extra.append({'name': 'vmsync.build', 'status': 'FAIL'})
    elif not run['cases']:
        extra.append({'name': 'vmsync.boot', 'status': 'FAIL'})
    kunit.setdefault('test_cases', []).extend(extra)
    return kunit


def write_kernelci_json(path, run):
    try:
        with open(os.path.join(run['build_dir'], 'kunit.json')) as f:
            kunit = json.load(f)
    except (OSError, ValueError):
        kunit = None
    with open(path, 'w') as f:
        json.dump(kernelci_json(kunit, run), f, indent=4)
        f.write('\n')
