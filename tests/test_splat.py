"""Kernel reports in the console (vmsync.splat)."""

import unittest

import support  # noqa: F401  (puts src/ on sys.path)
from vmsync import splat

BOOT_WARN = '''[    0.030000] ------------[ cut here ]------------
[    0.030000] WARNING: CPU: 0 PID: 1 at arch/um/drivers/virt-pci.c:1008 um_pci_init+0x1c/0x2a0
[    0.040000] ---[ end trace 0000000000000000 ]---
'''
SUITE = '''[    0.100000] KTAP version 1
[    0.100000] 1..1
[    0.100000]     KTAP version 1
[    0.100000]     # Subtest: vmalloc_sync
[    0.100000]     1..1
'''
SUITE_END = '''[    0.120000]     ok 1 sync_reports_are_observed
[    0.120000] ok 1 vmalloc_sync
'''


class TestFindReports(unittest.TestCase):
    def test_boot_report_is_not_the_suites(self):
        before, during = splat.find_reports(BOOT_WARN + SUITE + SUITE_END)
        self.assertEqual(before, ['WARNING: CPU: 0 PID: 1 at arch/um/drivers/virt-pci.c:1008'])
        self.assertEqual(during, [])

    def test_warn_during_suite(self):
        warn = ('[    0.110000] ------------[ cut here ]------------\n'
                '[    0.110000] WARNING: CPU: 1 PID: 77 at mm/memory.c:2950 '
                '__apply_to_page_range+0x3e/0x4a0\n')
        before, during = splat.find_reports(SUITE + warn + SUITE_END)
        self.assertEqual(during, ['WARNING: CPU: 1 PID: 77 at mm/memory.c:2950'])
        case = splat.splat_case(during)
        self.assertEqual((case['name'], case['status']), ('vmsync.splat', 'FAIL'))
        self.assertIn('mm/memory.c:2950', case['log'])

    def test_each_kind(self):
        for line, want in [
                ('BUG: KASAN: slab-out-of-bounds in vs_fill_pte+0x1/0x2',
                 'BUG: KASAN: slab-out-of-bounds in vs_fill_pte+0x1/0x2'),
                ('WARNING: possible circular locking dependency detected',
                 'WARNING: possible circular locking dependency detected'),
                ('BUG: sleeping function called from invalid context at mm/vmalloc.c:1',
                 'BUG: sleeping function called from invalid context at mm/vmalloc.c:1'),
                ('kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)',
                 'kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'),
                ('UBSAN: shift-out-of-bounds in mm/memory.c:10:2',
                 'UBSAN: shift-out-of-bounds in mm/memory.c:10:2'),
                ('Unable to handle kernel paging request at virtual address f8400000',
                 'Unable to handle kernel paging request at virtual address f8400000'),
                ('BUG: unable to handle page fault for address: f8400000',
                 'BUG: unable to handle page fault for address: f8400000'),
                ('Kernel panic - not syncing: Fatal exception',
                 'Kernel panic - not syncing: Fatal exception')]:
            self.assertEqual(splat.find_reports(SUITE + line + '\n')[1], [want], line)

    def test_bad_entry_only_where_a_case_makes_one(self):
        bad = '[    0.110000] mm/pgtable-generic.c:56: bad pmd 00000000911f4902(0000000000000004).\n'
        mine = '[    0.110000]     ok 5 apply_to_page_range_bad_pmd_still_syncs\n'
        other = '[    0.110000]     ok 6 vmalloc_walkers_sync_changed_levels\n'
        self.assertEqual(splat.find_reports(SUITE + bad + mine + SUITE_END)[1], [])
        # the same line before another case's result, twice, or never followed
        # by a result is a report
        want = ['mm/pgtable-generic.c:56: bad pmd 00000000911f4902(0000000000000004).']
        self.assertEqual(splat.find_reports(SUITE + bad + other + SUITE_END)[1], want)
        self.assertEqual(splat.find_reports(SUITE + bad + bad + mine + SUITE_END)[1],
                         want * 2)
        self.assertEqual(splat.find_reports(SUITE + mine + bad)[1], want)
        arm64 = '[    0.110000] arch/arm64/mm/mmu.c:9: bad pud 0000000000000002.\n'
        self.assertEqual(splat.find_reports(SUITE + arm64 + mine + SUITE_END)[1],
                         ['arch/arm64/mm/mmu.c:9: bad pud 0000000000000002.'])
        # before the suite: the boot's, as every other report
        self.assertEqual(splat.find_reports(bad + SUITE + SUITE_END), (want, []))

    def test_ordinary_lines_are_not_reports(self):
        quiet = ('[    0.110000]     # vmalloc_walkers_sync_changed_levels: '
                 'EXPECTATION FAILED at mm/vmalloc_sync_kunit.c:1\n'
                 '[    0.130000] Kernel panic - not syncing: VFS: Unable to mount root fs\n'
                 '[    0.130000] reboot: System halted\n')
        self.assertEqual(splat.find_reports(SUITE + quiet + SUITE_END), ([], []))

    def test_no_ktap_means_nothing_is_the_suites(self):
        self.assertEqual(splat.find_reports(BOOT_WARN)[1], [])


if __name__ == '__main__':
    unittest.main()
