"""KTAP: the cases and their results from a kernel's raw output."""

import re


KTAP_VERSION = re.compile(r'K?TAP version \d+\s*$')
KTAP_END = re.compile(r'List of all partitions:|Kernel panic - not syncing: VFS:|'
                      r'reboot: System halted')
RESULT = re.compile(r'^(ok|not ok) (\d+)(?: -)? ?([^#]*?)\s*(?:#\s*(.*))?$')
COUNTS = re.compile(r'^# (Totals: |\S+: pass:\d+ fail:\d+ skip:\d+ total:\d+)')
# KUnit before v6.3 reports a skipped parameter as plain 'ok': the 6.1
# backport logs the reason with this marker (backports/6.1)
SKIP_6_1 = 'vmsync-6.1-skip: '
CRASH_WORDS = ('try faulted', 'try timed out', 'test case timed out',
               'internal error occurred')


def suite_seconds(text):
    """Time the kernel spent between the first and the last KTAP line, from
    printk timestamps (vmsync.config sets CONFIG_PRINTK_TIME); None without."""
    stamps = [float(m.group(1)) for m in
              re.finditer(r'^\[\s*(\d+\.\d+)\] *(?:KTAP version|\s*(?:not )?ok \d|# Totals)',
                          text.replace('\r', ''), re.M)]
    return round(stamps[-1] - stamps[0], 3) if len(stamps) > 1 else None


def parse_ktap(text):
    """Cases from raw kernel output.  Returns (cases, saw_ktap); each case is
    {'name': 'suite.case[.param]', 'status': PASS|FAIL|SKIP|ERROR, 'log'}.
    Tests that started or were planned but never reported (crash, hang) come
    out as ERROR, named 'suite.#N' when their name is unknown."""
    lines = text.replace('\r', '').splitlines()
    for start, line in enumerate(lines):
        m = KTAP_VERSION.search(line)
        if m:
            pre = line[:m.start()]
            break
    else:
        return [], False
    if re.match(r'^\[\s*\d+\.\d+\] ?$', pre):      # printk timestamps
        def strip(l):
            return re.sub(r'^\[\s*\d+\.\d+\] ?', '', l)
    else:
        def strip(l):
            return l[len(pre):] if l.startswith(pre) else l

    cases = []
    # per nesting level (0 = top, 1 = cases of a suite, 2 = params):
    names = {}                 # name of the subtest open at that level
    diag = {0: []}             # diagnostic lines since the last result
    plan = {0: None}           # N from '1..N'
    count = {0: 0}             # results seen
    first = {0: 0}             # index in cases of the level's first entry
    depth = 0

    def prefix(level):
        return [names.get(i) or '?' for i in range(1, level + 1)]

    def open_level(level):
        nonlocal depth
        for d in [d for d in names if d >= level]:
            del names[d]
        names[level] = None
        diag[level], plan[level], count[level], first[level] = [], None, 0, len(cases)
        depth = level

    def add(parts, status, log):
        if status == 'FAIL' and any(w in l for l in log for w in CRASH_WORDS):
            status = 'ERROR'
        if status == 'PASS' and any(SKIP_6_1 in l for l in log):
            status = 'SKIP'
        cases.append({'name': '.'.join(parts), 'status': status, 'log': '\n'.join(log)})

    def unfinished(level, running):
        """ERROR entries for level's missing tests; running: one was in
        progress (its entry may already have come from a deeper level)."""
        k, n = count.get(level, 0), plan.get(level)
        if n is None:
            n = k + 1 if running else k
        inner_errors = any(c['status'] == 'ERROR' for c in cases[first.get(level + 1, len(cases)):]) \
            if level < depth else False
        for idx in range(k + 1, n + 1):
            now = idx == k + 1 and running
            if now and inner_errors:
                continue
            if now and level < depth and names.get(level + 1):
                parts = prefix(level + 1)       # the open subtest itself
            elif level == 0:
                parts = ['suite#%d' % idx]
            else:
                parts = prefix(level) + ['#%d' % idx]
            add(parts, 'ERROR', (diag.get(level, []) if idx == k + 1 else []) +
                ['test did not finish (kernel crashed or timed out)' if now
                 else 'test did not run (kernel stopped before it)'])
        diag[level] = []

    for raw in lines[start:]:
        if KTAP_END.search(raw):
            break
        line = strip(raw).rstrip()
        s = line.strip()
        if not s:
            continue
        level = (len(line) - len(line.lstrip(' '))) // 4
        if KTAP_VERSION.match(s):
            if level > 0:
                open_level(level)
            continue
        m = re.match(r'# Subtest: (.*)$', s)
        if m:
            level = max(level, 1)
            if level > depth:
                open_level(level)
            names[level] = m.group(1).strip()
            continue
        m = re.match(r'1\.\.(\d+)$', s)
        if m and level <= depth:
            plan[level] = int(m.group(1))
            continue
        m = RESULT.match(s)
        if m:
            name, directive = m.group(3).strip(), (m.group(4) or '').strip()
            skip = directive.upper().startswith('SKIP')
            status = 'SKIP' if skip else ('PASS' if m.group(1) == 'ok' else 'FAIL')
            log = ['# SKIP ' + directive[4:].strip()] if skip and directive[4:].strip() else []
            level = min(level, depth)
            if level < depth:
                # closes the subtest open at level+1; anything deeper or
                # planned there but not reported did not finish
                log = diag.get(level + 1, []) + diag[level] + log
                for d in range(depth, level, -1):
                    unfinished(d, running=d > level + 1)
                inner = cases[first[level + 1]:]
                depth = level
                for d in [d for d in names if d > level]:
                    del names[d]
                if not inner or (status == 'FAIL' and not any(
                        c['status'] in ('FAIL', 'ERROR') for c in inner)):
                    add(prefix(level) + [name], status, log)
            else:
                add(prefix(level) + [name], status, diag[level] + log)
            diag[level] = []
            count[level] = count.get(level, 0) + 1
            continue
        # Diagnostics: '# ...' belongs to its level, anything else (e.g. an
        # oops, a continuation line) to the innermost test in progress.
        if COUNTS.match(s) or re.match(r'# (module|speed|test_speed|Totals): ', s):
            continue
        # 6.1's kunit_info() indents a parameter's line like its case's
        ctx = min(level, depth) if s.startswith('#') and SKIP_6_1 not in s else depth
        base = ' ' * (4 * ctx)
        diag.setdefault(ctx, []).append(line[len(base):] if line.startswith(base) else s)

    for d in range(depth, -1, -1):
        unfinished(d, running=d < depth or d >= 1)
    return cases, True
