"""Reusing earlier results (vmsync.results): the key changes with every
input that decides a result, so a reused base can never be a stale one."""

import os
import unittest

from support import write, make_fake_kernel, TempDirTest
from vmsync import results, tree


class TestResultKey(TempDirTest):
    def setUp(self):
        super().setUp()
        self.tree = os.path.join(self.tmp, 'linux')
        make_fake_kernel(self.tree)
        tree.make_pristine(self.tree)
        self.kern = {'tree': self.tree, 'version': '6.99.7', 'key': 'k'}
        self.manifest = {'mm/vmalloc_sync_kunit.c': ['aa', 1],
                         'mm/memory.c': ['bb', 2]}

    def key(self, **kw):
        return results.result_key(kw.get('kern', self.kern),
                                  kw.get('manifest', self.manifest),
                                  kw.get('arch', 'um'), kw.get('kconfig_add', ()))

    def test_same_inputs_same_key(self):
        self.assertEqual(self.key(), self.key())
        # mtimes are not content
        self.assertEqual(self.key(manifest={'mm/vmalloc_sync_kunit.c': ['aa', 9],
                                            'mm/memory.c': ['bb', 8]}), self.key())

    def test_every_input_changes_the_key(self):
        base = self.key()
        self.assertNotEqual(self.key(manifest={'mm/vmalloc_sync_kunit.c': ['ab', 1],
                                               'mm/memory.c': ['bb', 2]}), base)
        self.assertNotEqual(self.key(manifest=dict(self.manifest, **{'mm/x.c': ['cc', 3]})),
                            base)
        self.assertNotEqual(self.key(arch='i386'), base)
        self.assertNotEqual(self.key(kconfig_add=('CONFIG_KASAN=y',)), base)
        self.assertNotEqual(self.key(kern=dict(self.kern, version='6.99.8')), base)
        write(os.path.join(self.tree, 'Makefile'), 'VERSION = 6\nPATCHLEVEL = 99\n'
              'SUBLEVEL = 7\n# changed\n')
        tree.snapshot(self.tree)            # a new pristine commit
        self.assertNotEqual(self.key(), base)

    def test_build_errors_are_not_kept(self):
        cache = os.path.join(self.tmp, 'cache')
        results.store(cache, 'k1', {'status': 'build-error', 'cases': []})
        self.assertIsNone(results.load(cache, 'k1'))
        results.store(cache, 'k2', {'status': 'pass', 'cases': [], 'error_tail': ['x']})
        self.assertEqual(results.load(cache, 'k2'), {'status': 'pass', 'cases': []})


if __name__ == '__main__':
    unittest.main()
