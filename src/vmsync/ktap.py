"""KTAP: the cases and their results from a kernel's raw output.

The parser follows the kernel's own tools/testing/kunit/kunit_parser.py step
by step (same line grammar, same recursive structure, same notion of a
crash), so that vmsync and kunit.py read the same log the same way: nesting
comes from 'KTAP version' / '# Subtest:' headers and result lines, never
from indentation (kernels have printed tabs, two and four spaces).  On top
of that, vmsync

- names every case by its full dotted name, and a test that never reported
  'suite.#N' (top level: 'suite#N'), which ./vmsync run then names from
  kunit.py --list_tests;
- reads a failure whose log says KUnit caught a fault or a timeout
  (CRASH_WORDS) as ERROR, and 6.1's skipped-parameter marker as SKIP;
- turns what kunit.py reports only as the status of a test with subtests
  into a case of its own (a suite that says 'not ok' although its cases
  passed; a suite whose result line never came: its next case, unfinished);
- reports what it cannot trust as a case 'vmsync.ktap' with status ERROR
  (no plan at the top level, no test at all, result lines out of order),
  never as silently fewer cases.

kunit_cases() and json_cases() read kunit.py's own result (a kunit_parser
Test, or kunit.json) into the same shape; disagreements() compares them.
"""

import re


KTAP_START = re.compile(r'\s*(K?)TAP version ([0-9]+)$')
KTAP_END = re.compile(r'\s*(List of all partitions:|'
                      r'Kernel panic - not syncing: VFS:|reboot: System halted)')
EXECUTOR_ERROR = re.compile(r'\s*kunit executor: (.*)$')
TEST_HEADER = re.compile(r'^\s*# Subtest: (.*)$')
TEST_PLAN = re.compile(r'^\s*1\.\.([0-9]+)')
TEST_RESULT = re.compile(r'^\s*(ok|not ok) ([0-9]+) ?(?::?- )?([^#]*)( # .*)?$')
TEST_RESULT_SKIP = re.compile(r'^\s*(ok|not ok) ([0-9]+) ?(?::?- )?(.*) # SKIP ?(.*)$')
NOT_DIAGNOSTIC = (TEST_RESULT, TEST_HEADER, KTAP_START, TEST_PLAN)
COUNTS = re.compile(r'^\s*# (Totals: |\S+: pass:\d+ fail:\d+ skip:\d+ total:\d+|'
                    r'(module|speed|test_speed|Totals): )')
PRINTK_TIME = re.compile(r'^\[\s*\d+\.\d+\] ?')
# KUnit before v6.3 reports a skipped parameter as plain 'ok': the 6.1
# backport logs the reason with this marker (backports/6.1)
SKIP_6_1 = 'vmsync-6.1-skip: '
CRASH_WORDS = ('try faulted', 'try timed out', 'test case timed out',
               'internal error occurred')
UNFINISHED = 'test did not finish (kernel crashed or timed out)'
NOT_RUN = 'test did not run (kernel stopped before it)'

# kunit_parser.TestStatus names
SUCCESS, FAILURE, SKIPPED, CRASHED, NO_TESTS = (
    'SUCCESS', 'FAILURE', 'SKIPPED', 'TEST_CRASHED', 'NO_TESTS')
# ... as kunit_json.py maps them (anything else is FAIL)
STATUS = {SUCCESS: 'PASS', SKIPPED: 'SKIP', CRASHED: 'ERROR'}
FAILING = ('FAIL', 'ERROR')


def suite_seconds(text):
    """Time the kernel spent between the first and the last KTAP line, from
    printk timestamps (the runner adds CONFIG_PRINTK_TIME=y); None without."""
    stamps = [float(m.group(1)) for m in
              re.finditer(r'^\[\s*(\d+\.\d+)\] *(?:K?TAP version|\s*(?:not )?ok \d|# Totals)',
                          text.replace('\r', ''), re.M)]
    return round(stamps[-1] - stamps[0], 3) if len(stamps) > 1 else None


def ktap_lines(text):
    """kunit_parser.extract_tap_lines: the lines from the first (K)TAP version
    line to a KTAP_END line, without the prefix the version line had (printk
    timestamps are stripped whatever their width).  None: no version line."""
    out, pre, strip = [], None, None
    for line in text.replace('\r', '').split('\n'):
        line = line.rstrip()
        if pre is None:
            m = KTAP_START.search(line)
            if m:
                pre = line[:m.start() + len(m.group(0)) - len(m.group(0).lstrip())]
                if PRINTK_TIME.fullmatch(pre):
                    def strip(l):
                        return PRINTK_TIME.sub('', l, 1)
                else:
                    def strip(l, n=len(pre)):
                        return l[n:]
                out.append(strip(line))
            elif EXECUTOR_ERROR.search(line):
                out.append(line)
        elif KTAP_END.search(line):
            break
        else:
            out.append(strip(line))
    return out if pre is not None else None


class Node:
    """A test as kunit_parser.Test has it."""

    def __init__(self):
        self.status = CRASHED
        self.name = ''
        self.plan = 0
        self.subtests = []
        self.log = []
        self.tail = []          # diagnostics after the last subtest
        self.indent = ''        # of the result line
        self.skip = ''
        self.reported = False   # its result line was seen
        self.missing = False    # a planned test that never started
        self.counts = dict(passed=0, failed=0, crashed=0, skipped=0)
        self.errors = []


def _get_status(counts):
    if sum(counts.values()) == 0:
        return NO_TESTS
    if counts['crashed']:
        return CRASHED
    if counts['failed']:
        return FAILURE
    if counts['passed']:
        return SUCCESS
    return SKIPPED


def _add_status(counts, status):
    key = {SUCCESS: 'passed', FAILURE: 'failed', SKIPPED: 'skipped'}.get(status)
    if key:
        counts[key] += 1
    elif status != NO_TESTS:
        counts['crashed'] += 1


class _Parser:
    def __init__(self, lines):
        self.lines, self.i = lines, 0
        self.untrusted = []     # what makes vmsync distrust the whole output

    def peek(self):
        return self.lines[self.i]

    def more(self):
        return self.i < len(self.lines)

    def pop(self):
        self.i += 1
        return self.lines[self.i - 1]

    def diagnostic(self):
        log = []
        while self.more() and not any(r.match(self.peek()) for r in NOT_DIAGNOSTIC):
            log.append(self.pop())
        return log

    def name_match(self, t):
        if not self.more():
            return False
        m = TEST_RESULT.match(self.peek())
        return bool(m and m.group(3) and m.group(3) == t.name)

    def error(self, t, msg, untrusted=False):
        """kunit_parser's add_error; untrusted: the structure itself is in
        doubt (vmsync reports it as the case vmsync.ktap)."""
        t.errors.append(msg)
        if untrusted:
            self.untrusted.append('%s: %s' % (t.name.strip() or '?', msg))

    def header(self, t):
        m = KTAP_START.match(self.peek()) if self.more() else None
        if not m:
            return False
        v = int(m.group(2))
        if v not in ((1,) if m.group(1) else (13, 14)):
            self.error(t, '%sTAP version %d is not one kunit.py accepts'
                       % (m.group(1), v), untrusted=True)
        self.pop()
        return True

    def result(self, t, expected):
        m = TEST_RESULT.match(self.peek()) if self.more() else None
        if not m:
            # kunit_parser would stop here and look at this line again and
            # again; vmsync takes it as the test's log and goes on
            self.error(t, 'expected a result line, found %r' % self.peek(), untrusted=True)
            t.log.append(self.pop())
            return
        line = self.pop()
        skip = TEST_RESULT_SKIP.match(line)
        t.name = skip.group(3) if skip else m.group(3)
        t.indent = line[:len(line) - len(line.lstrip())]
        t.reported = True
        if int(m.group(2)) != expected:
            self.error(t, 'result line %r: expected test number %d'
                       % (line.strip(), expected), untrusted=True)
        if skip:
            t.status, t.skip = SKIPPED, skip.group(4).strip()
        else:
            t.status = SUCCESS if m.group(1) == 'ok' else FAILURE

    def test(self, expected, log, sub):
        """kunit_parser.parse_test"""
        t = Node()
        t.log = list(log) + self.diagnostic()
        first_log = []      # lines of the first subtest filed under t
        if not sub:
            t.name = 'main'
            self.header(t)
            t.log += self.diagnostic()
            parent = True
        else:
            ktap = self.header(t)
            m = TEST_HEADER.match(self.peek()) if self.more() else None
            if m:
                t.name = m.group(1)
                self.pop()
            head = self.diagnostic()
            t.log += head
            parent = ktap or bool(m)
            # 6.1 backport: the first parameter's skip marker comes right
            # after the header, where kunit_parser files it under the case
            first_log = [l for l in head if SKIP_6_1 in l]
        m = TEST_PLAN.match(self.peek()) if self.more() else None
        if m:
            t.plan = int(m.group(1))
            self.pop()
        else:
            t.plan = None
        n = 1
        while parent and (t.plan is None or n <= t.plan):
            sub_log = (first_log if n == 1 else []) + self.diagnostic()
            if not self.more() or (sub and self.name_match(t)):
                if t.plan and n <= t.plan:
                    self.error(t, 'missing expected subtest!')
                    s = Node()
                    s.log, s.missing = sub_log, True
                    _add_status(t.counts, CRASHED)
                else:
                    t.tail = sub_log
                    t.log += sub_log
                    break
            else:
                start = self.i
                s = self.test(n, sub_log, True)
                if self.i == start:         # nothing consumed: never loop
                    break
            t.subtests.append(s)
            n += 1
        if sub:
            more = self.diagnostic()
            t.log += more
            t.tail += more
            if t.name != '' and not self.name_match(t):
                self.error(t, 'missing subtest result line!')
            elif not self.more():
                t.status = NO_TESTS
                self.error(t, 'No more test results!')
            else:
                self.result(t, expected)
        if parent and not t.subtests and t.status in (CRASHED, SUCCESS):
            t.status = NO_TESTS
            self.error(t, '0 tests run!')
        # kunit_parser.bubble_up_test_results
        status = t.status
        for s in t.subtests:
            for k in t.counts:
                t.counts[k] += s.counts[k]
        if sum(t.counts.values()) == 0:
            _add_status(t.counts, status)
        elif _get_status(t.counts) == CRASHED:
            t.status = CRASHED
        if status == FAILURE and _get_status(t.counts) == SUCCESS:
            _add_status(t.counts, status)
        return t


def parse_tree(text):
    """(main Node, [why vmsync cannot trust it]), or (None, []) when there is
    no KTAP."""
    lines = ktap_lines(text)
    if lines is None:
        return None, []
    p = _Parser(lines)
    main = p.test(0, [], False)
    if main.status != NO_TESTS:
        main.status = _get_status(main.counts)
    return main, p.untrusted


def _clean(log, indent):
    """A test's log: its lines relative to its result line's indentation,
    without KUnit's counting lines."""
    out = []
    for l in log:
        if not l.strip() or COUNTS.match(l):
            continue
        out.append(l[len(indent):] if indent and l.startswith(indent) else l.strip())
    return out


def _walk(t, prefix, emit, status_of):
    """Cases under t: leaves, and what t's own status says beyond them.
    emit(node, name, status, kind) -> status; kind is '' (reported or
    crashed in place), 'missing' (planned, never started; 'first' is set for
    the first of them) or 'unfinished' (the test after node's last one)."""
    found = []
    first = True
    for i, s in enumerate(t.subtests, 1):
        name = s.name.strip()
        if not name:
            full = '%s.#%d' % (prefix, i) if prefix else 'suite#%d' % i
        else:
            full = prefix + '.' + name if prefix else name
        if s.subtests:
            inner = _walk(s, full, emit, status_of)
            found += inner
            own = status_of(s)
            if own == 'FAIL' and not any(st in FAILING for st in inner):
                found.append(emit(s, full, 'FAIL', ''))
            elif own == 'ERROR' and not any(st == 'ERROR' for st in inner):
                # no result line, no planned test left: the one after the
                # last reported one was running
                n = len(s.subtests) + 1
                found.append(emit(s, '%s.#%d' % (full, n), 'ERROR', 'unfinished'))
        elif getattr(s, 'missing', False):
            found.append(emit(s, full, 'ERROR', 'first' if first else 'missing'))
            first = False
        else:
            found.append(emit(s, full, status_of(s), ''))
    return found


def parse_ktap(text):
    """Cases from raw kernel output.  Returns (cases, saw_ktap); each case is
    {'name': 'suite.case[.param]', 'status': PASS|FAIL|SKIP|ERROR, 'log'}.
    Tests that started or were planned but never reported (crash, hang) come
    out as ERROR, named 'suite.#N' when their name is unknown; output vmsync
    cannot trust adds a case 'vmsync.ktap' (ERROR) saying why."""
    main, untrusted = parse_tree(text)
    if main is None:
        return [], False
    cases = []

    def emit(s, name, status, kind):
        if kind == 'unfinished':
            log = _clean(s.tail, '') + [UNFINISHED]
        elif kind:
            log = _clean(s.log, '') + [UNFINISHED if kind == 'first' else NOT_RUN]
        else:
            log = _clean(s.log, s.indent)
            if s.skip:
                log.append('# SKIP ' + s.skip)
            if not s.reported:
                log.append(UNFINISHED)
        if status == 'FAIL' and any(w in l for l in log for w in CRASH_WORDS):
            status = 'ERROR'
        if status == 'PASS' and any(SKIP_6_1 in l for l in log):
            status = 'SKIP'
        cases.append({'name': name, 'status': status, 'log': '\n'.join(log)})
        return status

    def status_of(s):
        if s.status == NO_TESTS:
            return 'ERROR' if not s.reported else 'FAIL'
        return STATUS.get(s.status, 'FAIL')

    _walk(main, '', emit, status_of)
    why = []
    if main.plan is None:
        why.append('no test plan (1..N) at the top level: a suite the kernel '
                   'never started would go unnoticed')
    if not main.subtests:
        why.append('the kernel printed KTAP but ran no test')
    why += untrusted
    if why:
        cases.append({'name': 'vmsync.ktap', 'status': 'ERROR',
                      'log': 'vmsync cannot trust this KTAP output:\n' + '\n'.join(why)})
    return cases, True


def kunit_cases(test):
    """kunit.py's verdict per case, from the kernel tree's own kunit_parser
    (a kunit_parser.Test from parse_run_tests), in parse_ktap's names:
    [(name, status)], statuses as kunit_json.py maps them."""
    out = []

    def emit(s, name, status, kind):
        out.append((name, status))
        return status

    def status_of(s):
        return STATUS.get(s.status.name, 'FAIL')

    _walk(test, '', emit, status_of)
    return out


def json_cases(obj):
    """[(name, status)] of kunit.py's kunit.json (kunit_json.py's groups and
    test cases); a case kunit.py could not name is 'group.#?'."""
    out = []

    def walk(g, prefix):
        for c in g.get('test_cases', []):
            name = c.get('name') or ''
            name = (prefix + '.' + name if prefix else name) if name else \
                (prefix + '.#?' if prefix else 'suite#?')
            out.append((name, c.get('status')))
        for s in g.get('sub_groups', []):
            walk(s, (prefix + '.' if prefix else '') + (s.get('name') or '?'))
    walk(obj, '')
    return out


def _allowed(case, theirs):
    """A deliberate difference of vmsync's status from kunit.py's."""
    mine, log = case['status'], case['log']
    if mine == 'ERROR' and theirs == 'FAIL':
        return any(w in log for w in CRASH_WORDS + (UNFINISHED,))
    if mine == 'SKIP' and theirs == 'PASS':
        return SKIP_6_1 in log
    return False


def disagreements(cases, theirs, unnamed=False, strict=True):
    """Where vmsync's cases and kunit.py's [(name, status)] differ, as lines
    'NAME: vmsync STATUS, kunit.py STATUS'.  vmsync's own 'vmsync.*' cases
    are not compared.  unnamed: kunit.py's unnamed cases are 'X.#?' (from
    kunit.json), so vmsync's 'X.#N' are compared as 'X.#?', by count.
    strict=False: a failing case only vmsync has is not a disagreement
    (kunit.json lists no status of a test with subtests)."""
    def key(name):
        return re.sub(r'#\d+$', '#?', name) if unnamed else name
    mine = {}
    for c in cases:
        if not c['name'].startswith('vmsync.'):
            mine.setdefault(key(c['name']), []).append(c)
    kun = {}
    for name, status in theirs:
        kun.setdefault(name, []).append(status)
    out = []
    for name in sorted(set(mine) | set(kun)):
        a, b = mine.get(name, []), kun.get(name, [])
        if not b and not strict and all(c['status'] in FAILING for c in a):
            continue
        a = sorted(a, key=lambda c: c['status'])
        b = sorted(b)
        left = [c for c in a]
        rest = []
        for st in b:
            for c in left:
                if c['status'] == st or _allowed(c, st):
                    left.remove(c)
                    break
            else:
                rest.append(st)
        if left or rest:
            out.append('%s: vmsync %s, kunit.py %s' % (
                name, ' '.join(c['status'] for c in a) or 'ABSENT',
                ' '.join(b) or 'ABSENT'))
    return out
