"""The arch descriptions (vmsync.arches)."""

import dataclasses
import unittest

import support  # noqa: F401  (src/ on sys.path)
from vmsync import arches
from vmsync.util import Fail


class TestArches(unittest.TestCase):
    def test_arches(self):
        self.assertEqual(arches.parse_arches('um,i386'), ['um', 'i386'])
        self.assertEqual(arches.parse_arches('all'), list(arches.ARCHES))
        for a in ('um', 'i386', 'x86_64'):
            self.assertIn(a, arches.ARCHES)
        with self.assertRaises(Fail) as cm:
            arches.parse_arches('um,bogus')
        self.assertIn('x86_64', str(cm.exception))

    def test_typed_frozen_data(self):
        for name, a in arches.ARCHES.items():
            self.assertIsInstance(a, arches.Arch)
            self.assertEqual(a.name, name)
            for f in ('packages', 'kconfig', 'kconfig_if', 'qemu_args', 'kernel_args',
                      'expect_log'):
                self.assertIsInstance(getattr(a, f), tuple, (name, f))
            with self.assertRaises(dataclasses.FrozenInstanceError):
                a.qemu = 'x'
            for rule in a.kconfig_if:      # (file, regex, option)
                self.assertEqual(len(rule), 3, (name, rule))
                self.assertTrue(all(isinstance(x, str) for x in rule), (name, rule))
        self.assertTrue(arches.ARCHES['i386-pae'].kconfig_if)
        self.assertEqual(arches.ARCHES['i386-pae'].kernel_args,
                         arches.SPARE_RAM + ('pti=on',))

    def test_a_shared_build_is_configured_the_same(self):
        # arches that boot one kernel differ only in how it is booted
        by_build = {}
        for a in arches.ARCHES.values():
            by_build.setdefault(a.build_name, []).append(a)
        self.assertEqual([a.name for a in by_build['riscv64']],
                         ['riscv64-sv39', 'riscv64-sv48', 'riscv64-sv57'])
        self.assertEqual(arches.ARCHES['x86_64-la57'].build_name, 'x86_64')
        for name, group in by_build.items():
            build = {(a.kunit_arch, a.cross, a.kconfig, a.kconfig_if) for a in group}
            self.assertEqual(len(build), 1, name)
        # each riscv64 mode is pinned by its boot log, not taken on trust
        for mode, levels in (('sv39', 3), ('sv48', 4), ('sv57', 5)):
            self.assertIn('vmalloc_sync: %d-level' % levels,
                          arches.ARCHES['riscv64-' + mode].expect_log[0])


if __name__ == '__main__':
    unittest.main()
