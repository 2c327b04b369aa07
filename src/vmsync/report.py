"""What a run prints, and its exit code."""

from .util import say


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
