#!/usr/bin/env python3
"""Split the console of one tools/rerun boot into runs and compare them.

    python3 tools/rerun/split.py CONSOLE_LOG [--json OUT]

CONSOLE_LOG is what tools/rerun/init.c printed: for each run N (0 = the
boot-time run, as /sys/kernel/debug/kunit/vmalloc_sync/results showed it
before the first re-run) the results file with every line prefixed "[rN] ",
and, where the kernel has CONFIG_PTDUMP_DEBUGFS, the kernel page tables with
"[pN] ".  Each run's KTAP goes through vmsync's own parser
(src/vmsync/ktap.py parse_ktap).

Prints a table run x case status, and says whether every run equals run 0
except for cases that turned into SKIP with the suite's "no vmalloc range
... earlier runs used them up" reason.  A case KUnit reported without
running it ("# SKIP" with no reason: stock 6.12 and 7.2 KUnit, fixed by
kunit-rerun-skipped-*.patch) is a difference.  When init let
fail_page_alloc fail page-table allocations after run 0 (--fail), a case
that skipped in run 0 because they could not fail is compared with run 1
instead, and must have run there: neither failed nor skipped for that
reason again.  A kernel report (WARNING, BUG, lockdep, KASAN, ...: vmsync's
splat.py) printed after the suite first started is a difference too.  With a page-table dump, it also
counts the empty PMD entries of the vmalloc area after each run, and checks
that such a skip is true: the entries only ever go from empty to populated
(a PTE table is never freed), so an entry still empty after the run was
empty when the case skipped.  Exit status 0 when the runs agree, 1 if not.
"""

import json
import os
import re
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'src'))
sys.dont_write_bytecode = True

from vmsync.ktap import parse_ktap  # noqa: E402
from vmsync.splat import find_reports  # noqa: E402

FAIL_NTH = re.compile(r'cannot be made to fail')
FAIL_ON = 'rerun-init: /sys/kernel/debug/fail_page_alloc/ignore-gfp-wait = N'
EXHAUSTED = re.compile(r'no vmalloc range with (\d+) empty (\w+) entr(?:y|ies) .*'
                       r'earlier runs used them up')
# an upper-level entry's span in the page-table dump: 4 MiB on 2-level
# i386 (the only arch run.sh dumps); --entry-kib for another
ENTRY = 4 << 20
PREFIX = re.compile(r'\[([rp])(\d+)\] ?(.*)$')
PTDUMP_LINE = re.compile(r'^0x([0-9a-f]+)-0x([0-9a-f]+)\s+\S+\s+(.*?)\s*(pte|pmd|pud|p4d|pgd)\s*$')


def reason(case):
    """The SKIP reason of a parsed case ('' = none), None if no skip."""
    if not case or case['status'] != 'SKIP':
        return None
    if '# SKIP' not in case['log']:
        return ''       # parse_ktap keeps no empty "# SKIP " directive
    return case['log'].rsplit('# SKIP', 1)[1].strip()


def parent(c):
    return c.rsplit('.', 1)[0]


def not_rerun(runs, n, c):
    """Did KUnit report case c of run n without running it, because it
    skipped in run n-1?  Then it is "# SKIP" with no reason, or, for a
    parameter, absent under such a parameterised case."""
    cur = runs[n].get(c)
    if cur is None:
        p = runs[n].get(parent(c))
        if not (p and reason(p) == ''):
            return False
        c = parent(c)
    elif reason(cur) != '':
        return False
    prev = runs.get(n - 1, {})
    if c in prev:
        return prev[c]['status'] == 'SKIP'
    params = [k for k in prev if parent(k) == c]
    return bool(params) and all(prev[k]['status'] == 'SKIP' for k in params)


def split(text):
    """{'r': {N: text}, 'p': {N: text}} from the console."""
    out = {'r': {}, 'p': {}}
    for line in text.replace('\r', '').split('\n'):
        m = PREFIX.search(line)
        if m:
            out[m.group(1)].setdefault(int(m.group(2)), []).append(m.group(3))
    return {k: {n: '\n'.join(v) + '\n' for n, v in d.items()} for k, d in out.items()}


def vmalloc_holes(dump):
    """Empty upper-level ranges (start, end) inside the vmalloc() Area of an
    x86 page-table dump, or None if the dump has no such area."""
    holes, inside, seen = [], False, False
    for line in dump.split('\n'):
        if line.startswith('---['):
            inside = 'vmalloc() Area' in line
            seen = seen or inside
            continue
        m = PTDUMP_LINE.match(line)
        if inside and m and not m.group(3).strip() and m.group(4) != 'pte':
            holes.append((int(m.group(1), 16), int(m.group(2), 16)))
    return holes if seen else None


def vmalloc_area(dump):
    """(start, end) of the vmalloc() Area: first and last address of its lines."""
    lo = hi = None
    inside = False
    for line in dump.split('\n'):
        if line.startswith('---['):
            inside = 'vmalloc() Area' in line
            continue
        m = PTDUMP_LINE.match(line)
        if inside and m:
            s, e = int(m.group(1), 16), int(m.group(2), 16)
            lo = s if lo is None else lo
            hi = e
    return lo, hi


def main(argv):
    path = argv[1]
    global ENTRY
    jout = argv[argv.index('--json') + 1] if '--json' in argv else None
    if '--entry-kib' in argv:
        ENTRY = int(argv[argv.index('--entry-kib') + 1]) << 10
    with open(path, errors='replace') as f:
        text = f.read()
    parts = split(text)
    runs = {}
    for n, ktap in sorted(parts['r'].items()):
        cases, saw = parse_ktap(ktap)
        runs[n] = {c['name']: c for c in cases} if saw else {}
    if not runs:
        print('no run results in %s' % path)
        return 1
    names = []
    for n in sorted(runs):
        for c in runs[n]:
            if c not in names:
                names.append(c)
    meminfo = re.search(r'\[meminfo\] VmallocTotal:\s+(\d+) kB', text)
    pmd = {}
    for n, dump in sorted(parts['p'].items()):
        holes = vmalloc_holes(dump)
        if holes is not None:
            pmd[n] = holes

    # the table
    short = {'PASS': 'pass', 'FAIL': 'FAIL', 'SKIP': 'skip', 'ERROR': 'ERR'}
    def nick(c):
        return c[len('vmalloc_sync.'):] if c.startswith('vmalloc_sync.') else c
    w = max(len(nick(c)) for c in names)
    order = sorted(runs)
    print('%-*s %s' % (w, 'case \\ run', ' '.join('%5d' % n for n in order)))
    for c in names:
        row = []
        for n in order:
            st = runs[n].get(c, {}).get('status', '-')
            s = short.get(st, st)
            if c not in runs[n] and not_rerun(runs, n, c):
                s = '(0)'       # its parameterised case was not run
            if st == 'SKIP' and EXHAUSTED.search(runs[n][c]['log']):
                s = 'SKIP*'     # the exhausted-entries reason
            elif st == 'SKIP' and reason(runs[n][c]) == '':
                s = 'skip0'     # no reason: KUnit did not run it
            row.append('%5s' % s)
        print('%-*s %s' % (w, nick(c), ' '.join(row)))
    print('(SKIP* = skipped with "no vmalloc range with ... empty ... entr... '
          'earlier runs used them up"; skip0 = SKIP with no reason, (0) = '
          'parameter of such a case;'
          ' skip = another skip reason)')
    totals = []
    for n in order:
        st = [c['status'] for c in runs[n].values()]
        totals.append('run %d: %d pass, %d fail, %d skip, %d error' % (
            n, st.count('PASS'), st.count('FAIL'), st.count('SKIP'), st.count('ERROR')))
    print('\n'.join(totals))

    # compare with run 0
    base = order[0]
    problems, exhausted, carried, enabled = [], {}, {}, []
    fail_on = FAIL_ON in text
    for n in order[1:]:
        for c in names:
            ref = base
            if fail_on and FAIL_NTH.search(reason(runs[base].get(c)) or ''):
                # fault injection was off in run 0 and on from run 1
                ref = order[1]
                if n == ref:
                    enabled.append(c)
            a = runs[ref].get(c, {}).get('status')
            b = runs[n].get(c, {}).get('status')
            rb = reason(runs[n].get(c))
            if n == ref:
                if b in ('FAIL', 'ERROR') or FAIL_NTH.search(rb or ''):
                    problems.append('run %d %s: %s with fail_page_alloc on: %s' % (
                        n, c, b, rb if b == 'SKIP' else runs[n][c]['log'].replace('\n', '\n    ')))
                continue
            if not_rerun(runs, n, c):
                # KUnit 6.12 kunit_run_tests(): a case whose test_case->status
                # is still KUNIT_SKIPPED from the last run counts as "marked
                # as skip" and is not run; it reports "# SKIP" with no reason
                # (a parameterised one without its parameters)
                carried.setdefault(n, []).append(c)
                problems.append('run %d %s: not run, "# SKIP" without a reason (KUnit kept '
                                'its status from run %d)' % (n, c, n - 1))
                continue
            if a == b:
                if a == 'SKIP' and reason(runs[ref][c]) != rb:
                    if EXHAUSTED.search(rb or ''):
                        exhausted.setdefault(n, []).append(c)
                    else:
                        problems.append('run %d %s: skip reason changed: %r, run %d: %r' % (
                            n, c, rb, ref, reason(runs[ref][c])))
                continue
            if b == 'SKIP' and EXHAUSTED.search(rb or ''):
                exhausted.setdefault(n, []).append(c)
                continue
            problems.append('run %d %s: %s, run %d had %s' % (n, c, b, ref, a))
            if b in ('FAIL', 'ERROR'):
                problems.append('    ' + runs[n][c]['log'].replace('\n', '\n    '))

    # are the exhausted-entries skips true?
    if pmd:
        print('\nempty upper-level entries in the vmalloc area (ptdump), after each run:')
        lo, hi = vmalloc_area(parts['p'][min(pmd)])
        end = lo + int(meminfo.group(1)) * 1024 if meminfo and lo is not None else hi

        def usable(holes, want, span=ENTRY):
            """Holes with @want aligned empty entries below VMALLOC_END, as
            vs_reserve_fresh() looks for them."""
            out = []
            for s_, e_ in holes:
                a = -(-s_ // span) * span
                if a + want * span <= min(e_, end):
                    out.append((s_, e_))
            return out
        if lo is not None:
            print('  vmalloc area %#x-%#x (%d MiB; VMALLOC_END %#x)%s' % (
                lo, hi, (hi - lo) >> 20, end,
                ', VmallocTotal %s kB' % meminfo.group(1) if meminfo else ''))
        prev = None
        for n in sorted(pmd):
            holes = pmd[n]
            size = sum(e - s for s, e in holes)
            print('  after run %d: %d MiB empty in %d range(s)%s, %d usable %d KiB entries%s' % (
                n, size >> 20, len(holes),
                ''.join(' %#x-%#x' % h for h in holes[:6]),
                sum(max(0, (min(e_, end) - -(-s_ // ENTRY) * ENTRY) // ENTRY)
                    for s_, e_ in holes), ENTRY >> 10,
                '' if prev is None else ', %+d MiB vs run %d' % ((size - prev) >> 20, n - 1)))
            prev = size
        for n, cs in sorted(exhausted.items()):
            for c in cs:
                m = EXHAUSTED.search(runs[n][c]['log'])
                want = int(m.group(1))
                # an entry is 4 MiB on 2-level i386, 2 MiB with PAE: take the
                # smallest hole granule as entry size only if it divides
                fits = usable(pmd.get(n, []), want)
                if fits:
                    problems.append('run %d %s skipped for want of %d empty %s entr%s, '
                                    'yet the vmalloc area still has %s after the run' % (
                                        n, c, want, m.group(2), 'ies' if want > 1 else 'y',
                                        ' '.join('%#x-%#x' % h for h in fits)))
    elif meminfo:
        print('\nVmallocTotal %s kB (no page-table dump in this kernel)' % meminfo.group(1))

    print()
    for n, cs in sorted(exhausted.items()):
        print('run %d: %d case(s) skipped as "earlier runs used them up" (SKIP*)' % (
            n, len(cs)))
    for n, cs in sorted(carried.items()):
        print('run %d: %d case(s) not run at all (skip0, (0)): "# SKIP" without reason, '
              'because they skipped in run %d (KUnit keeps test_case->status)' % (
                  n, len(cs), n - 1))
    # a WARNING, BUG, lockdep or KASAN report after the suite first started
    # is the suite's (or a re-run's): a difference, whatever the cases said
    boot_reports, reports = find_reports(text)
    for r in boot_reports:
        print('report before the suite started (the boot\'s, not counted): %s' % r)
    for r in reports:
        problems.append('the kernel printed a report while the suite ran: %s' % r)
    if enabled:
        print('fail_page_alloc on from run %d: %d case(s) that skipped for want of it in run 0 '
              'compared with run %d' % (order[1], len(enabled), order[1]))
    if problems:
        print('RUNS DIFFER from run %d:' % base)
        print('\n'.join('  ' + p for p in problems))
    else:
        print('every run equals run %d, except skips for want of fresh entries' % base)
    if jout:
        with open(jout, 'w') as f:
            json.dump({'runs': {n: {c: {'status': v['status'], 'log': v['log']}
                                    for c, v in runs[n].items()} for n in order},
                       'pmd_holes': {n: pmd[n] for n in pmd},
                       'vmalloc_total_kb': int(meminfo.group(1)) if meminfo else None,
                       'exhausted': exhausted, 'not_rerun': carried,
                       'fail_page_alloc_cases': enabled, 'reports': reports,
                       'problems': problems}, f, indent=1)
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
