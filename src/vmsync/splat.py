"""Kernel reports in a console log: a WARNING, BUG, oops, lockdep, KASAN,
UBSAN, kmemleak or bad page-table entry report printed while the suite
runs fails the run, even when every KUnit case said ok.  Reports printed
before the suite started are the boot's, not the suite's: they are shown,
not failed."""

import re

# The first line of each kind of report the kernel prints.
REPORT = re.compile(
    r'(?P<what>'
    r'WARNING: CPU: \d+ PID: \d+ at \S+|WARNING: at \S+|'
    r'WARNING: possible (?:circular|recursive) locking[^\n]*|'
    r'WARNING: suspicious RCU usage|WARNING: bad unlock balance detected!|'
    r'WARNING: inconsistent lock state|'
    r'BUG: KASAN: [^\n]+|BUG: KFENCE: [^\n]+|BUG: KCSAN: [^\n]+|'
    r'BUG: sleeping function called from invalid context[^\n]*|'
    r'BUG: scheduling while atomic[^\n]*|BUG: unable to handle [^\n]+|'
    r'BUG: kernel NULL pointer dereference[^\n]*|BUG: soft lockup[^\n]*|'
    r'BUG: workqueue lockup[^\n]*|BUG: Bad page [^\n]+|BUG: [a-z_]+ \([^\n]+|'
    r'kernel BUG at [^\n]+|Oops[:\s][^\n]*|Internal error: [^\n]+|'
    r'Unable to handle kernel [^\n]+|general protection fault[^\n]*|'
    r'UBSAN: [^\n]+|kmemleak: \d+ new suspected memory leaks[^\n]*|'
    r'unreferenced object 0x[0-9a-f]+[^\n]*|'
    r'INFO: task \S+ blocked for more than[^\n]*|'
    r'rcu: INFO: rcu_\w+ (?:self-)?detected stall[^\n]*|'
    r'Kernel panic - not syncing: (?!VFS: Unable to mount root)[^\n]*)')
# A walker that found a corrupt page-table entry (p?d_ERROR(), from
# p?d_clear_bad()): a report, except the one line of the case that makes a
# PMD entry bad on purpose, printed before that case's own result line.
BAD_ENTRY = re.compile(r'(?P<what>\S+: bad (?:pgd|p4d|pud|pmd|pte)\b[^\n]*)')
EXPECTED_BAD_ENTRY = {'apply_to_page_range_bad_pmd_still_syncs': 'bad pmd'}
RESULT = re.compile(r'^\s*(?:not )?ok \d+ (?P<name>\S+)')
TIMESTAMP = re.compile(r'^\[\s*\d+\.\d+\]\s?')
SUITE_START = re.compile(r'^\s*K?TAP version \d+\s*$')


def find_reports(log):
    """(before_suite, during_suite): lists of report first lines, in order,
    split at the first KTAP version line.  No KTAP at all: everything is
    before the suite (the run fails for that reason anyway)."""
    before, during = [], []
    seen_suite = False
    bad_entries = []            # since the last result line
    for raw in log.splitlines():
        line = TIMESTAMP.sub('', raw)
        if not seen_suite and SUITE_START.match(line):
            seen_suite = True
            continue
        m = REPORT.search(line)
        if m:
            (during if seen_suite else before).append(m.group('what').strip())
        m = BAD_ENTRY.search(line)
        if m:
            (bad_entries if seen_suite else before).append(m.group('what').strip())
        m = RESULT.match(line)
        if m and bad_entries:
            want = EXPECTED_BAD_ENTRY.get(m.group('name'))
            if not (want and len(bad_entries) == 1 and want in bad_entries[0]):
                during.extend(bad_entries)
            bad_entries = []
    return before, during + bad_entries


def splat_case(reports):
    """The failed case that stands for reports printed while the suite ran."""
    return {'name': 'vmsync.splat', 'status': 'FAIL',
            'log': '\n'.join(['the kernel printed %d report(s) while the suite ran:'
                              % len(reports)] + ['  ' + r for r in reports])}
