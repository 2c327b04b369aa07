"""./vmsync check: what patches change in the suite's results (pre-merge)."""

import json
import os

from .util import Fail, say
from .arches import parse_arches
from .sources import check_kernel_spec
from .run import do_run


FAILING = ('FAIL', 'ERROR')
CANNOT_ASSESS = 4       # exit status: the patches sync where the suite cannot see it


def case_table(report):
    """{(arch, case): status} and {arch: run status} of a run report."""
    cases, runs = {}, {}
    for r in report['runs']:
        runs[r['arch']] = r['status']
        for c in r['cases']:
            cases[r['arch'], c['name']] = c['status']
    return cases, runs


def compare_reports(base, patched):
    """What the patches changed: newly failing/passing cases, broken builds."""
    bcases, bruns = case_table(base)
    pcases, pruns = case_table(patched)
    diff = {'newly_failing': [], 'newly_passing': [], 'other_changes': [],
            'build_broken': [a for a in pruns
                             if pruns[a] == 'build-error' and bruns.get(a) != 'build-error']}
    for key in sorted(set(bcases) | set(pcases)):
        if key[0] in diff['build_broken']:
            continue
        b, p = bcases.get(key, 'ABSENT'), pcases.get(key, 'ABSENT')
        if b == p:
            continue
        item = {'arch': key[0], 'case': key[1], 'base': b, 'patched': p}
        if p in FAILING and b not in FAILING:
            diff['newly_failing'].append(item)
        elif b in FAILING and p == 'PASS':
            diff['newly_passing'].append(item)
        else:
            diff['other_changes'].append(item)
    return diff


def unobserved_syncs(base, patched):
    """{file: (base, patched)} where the patched tree calls
    arch_sync_kernel_mappings() directly more often than the base: syncs
    that bypass pgtbl_sync_kernel_mappings(), which the suite observes."""
    b, p = base.get('direct_sync_calls', {}), patched.get('direct_sync_calls', {})
    return {f: (b.get(f, 0), n) for f, n in sorted(p.items()) if n > b.get(f, 0)}


def verdict_text(diff, kern, arches, patches, ncases, unmatched=(), unobserved=None,
                 fault_injection=False):
    names = ', '.join(os.path.basename(p) for p in patches)
    head = 'vmsync check of %s on Linux %s (%s), arches %s%s:' % (
        names, kern['version'], kern['source'], ', '.join(arches),
        ', with fault injection' if fault_injection else '')
    lines = [head]
    if unobserved:
        lines.append('CANNOT ASSESS: with the patches, %s call arch_sync_kernel_mappings() '
                     'directly, not through pgtbl_sync_kernel_mappings(), so the suite '
                     'cannot observe those syncs; rebase the patches on the series.' %
                     ', '.join('%s %d time(s) (series: %d)' % (f, n, b)
                               for f, (b, n) in unobserved.items()))
    if unmatched:
        lines.append('The series\' edits that found nothing to rewrite in the patched tree:')
        lines += ['  ' + u for u in unmatched]
    if unobserved:
        lines.append('The case results below follow from that and are no verdict:')
    if diff['build_broken']:
        lines.append('BUILD BROKEN on %s with the patches applied.' %
                     ', '.join(diff['build_broken']))
    if diff['newly_failing']:
        lines.append('%s%d case(s) newly fail:' % ('' if unobserved else 'REGRESSION: ',
                                                   len(diff['newly_failing'])))
    for i in diff['newly_failing']:
        lines.append('  [%s] %s: %s -> %s' % (i['arch'], i['case'], i['base'], i['patched']))
    if diff['newly_passing']:
        lines.append('%d case(s) newly pass:' % len(diff['newly_passing']))
    for i in diff['newly_passing']:
        lines.append('  [%s] %s: %s -> %s' % (i['arch'], i['case'], i['base'], i['patched']))
    for i in diff['other_changes']:
        lines.append('  changed [%s] %s: %s -> %s' % (i['arch'], i['case'], i['base'],
                                                     i['patched']))
    if not (diff['build_broken'] or diff['newly_failing'] or diff['newly_passing']
            or unobserved):
        lines.append('No change: the %d case results are the same with and without '
                     'the patches.' % ncases)
    return '\n'.join(lines)


def do_check(patches, kernel='6.12', arch='um', json_file=None, jobs=None,
             fault_injection=False, kconfig_add=()):
    if not patches:
        raise Fail('check needs at least one PATCH or MBOX')
    arches = parse_arches(arch)
    check_kernel_spec(kernel)
    for p in patches:       # before the base run, not an hour later
        if not os.path.isfile(p):
            raise Fail('%s: no such file' % p)
    if json_file and not os.path.isdir(os.path.dirname(os.path.abspath(json_file))):
        raise Fail('--json %s: no such directory' % json_file)
    say('== base: the suite alone')
    bcode, base = do_run(kernel=kernel, arch=arch, jobs=jobs, reuse=True,
                         fault_injection=fault_injection, kconfig_add=kconfig_add)
    broken = [r['arch'] for r in base['runs'] if r['status'] == 'build-error']
    if broken:
        raise Fail('the base (the suite without the patches) does not build or boot '
                   'on %s: nothing to compare' % ', '.join(broken), 3)
    say()
    say('== patched: the suite and %s' % ' '.join(patches))
    pcode, patched = do_run(kernel=kernel, arch=arch, patches=patches, jobs=jobs,
                            fault_injection=fault_injection, kconfig_add=kconfig_add)
    diff = compare_reports(base, patched)
    kern = base['kernel']
    ncases = len(case_table(patched)[0])
    unmatched = patched.get('unmatched_edits', [])
    unobserved = unobserved_syncs(base, patched)
    text = verdict_text(diff, kern, arches, patches, ncases, unmatched, unobserved,
                        fault_injection)
    code = (CANNOT_ASSESS if unobserved else 3 if diff['build_broken']
            else 1 if diff['newly_failing'] else 0)
    if json_file:
        with open(json_file, 'w') as f:
            json.dump(dict(diff, verdict=text, exit=code, kernel=kern, arches=arches,
                           fault_injection=fault_injection,
                           unmatched_edits=unmatched,
                           unobserved_syncs={f: {'series': b, 'patched': n}
                                             for f, (b, n) in unobserved.items()},
                           patches=[os.path.abspath(p) for p in patches],
                           base=base, patched=patched), f, indent=2)
            f.write('\n')
    say()
    say(text)
    return code
