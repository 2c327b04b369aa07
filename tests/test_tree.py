"""The kernel work tree (vmsync.tree)."""

import os
import subprocess
import time
import unittest

from support import write, read, MUTANT, BAD_PATCH, make_fake_kernel, make_suite, TempDirTest
from vmsync import tree
from vmsync.util import Fail


class TestTreeCache(TempDirTest):
    def test_prune_old_versions(self):
        for d in ('trees/linux-source-6.12_1', 'trees/linux-source-6.12_2',
                  'trees/linux-source-6.1_1', 'build/linux-source-6.12_1/um'):
            os.makedirs(os.path.join(self.tmp, d))
        tree.prune(self.tmp, 'linux-source-6.12_', 'linux-source-6.12_2')
        self.assertEqual(sorted(os.listdir(os.path.join(self.tmp, 'trees'))),
                         ['linux-source-6.12_2', 'linux-source-6.1_1'])
        self.assertEqual(os.listdir(os.path.join(self.tmp, 'build')), [])

    def test_kernel_version(self):
        make_fake_kernel(self.tmp)
        self.assertEqual(tree.kernel_version(self.tmp), '6.99.7-fake')
        self.assertTrue(tree.is_kernel_tree(self.tmp))
        self.assertFalse(tree.is_kernel_tree(os.path.join(self.tmp, 'mm')))


class TestUnpack(TempDirTest):
    def tarball(self, name, kernel=True):
        src = os.path.join(self.tmp, 'src', name)
        if kernel:
            make_fake_kernel(src)
        else:
            write(os.path.join(src, 'README'), 'not a kernel\n')
        tb = os.path.join(self.tmp, name + '.tar.xz')
        subprocess.check_call(['tar', '-cJf', tb, '-C', os.path.dirname(src), name])
        return tb

    def test_unpack_is_atomic(self):
        trees = os.path.join(self.tmp, 'trees')
        os.makedirs(os.path.join(trees, '.unpack-stale'))
        dest = os.path.join(trees, 'k')
        with self.assertRaises(Fail):
            tree.unpack_tarball(self.tarball('junk', kernel=False), dest, self.tmp)
        self.assertFalse(os.path.exists(dest))
        tree.unpack_tarball(self.tarball('linux-source-6.99'), dest, self.tmp)
        self.assertTrue(tree.is_kernel_tree(dest))
        self.assertEqual(os.listdir(trees), ['k'])          # no temp dirs left
        self.assertEqual(subprocess.call(['git', '-C', dest, 'rev-parse', '-q', '--verify',
                                          tree.PRISTINE], stdout=subprocess.DEVNULL), 0)


class TestTree(TempDirTest):
    """Tree preparation on a tiny fake kernel git repo."""

    def setUp(self):
        super().setUp()
        self.tree = os.path.join(self.tmp, 'tree')
        make_fake_kernel(self.tree)
        tree.make_pristine(self.tree)
        self.suite = os.path.join(self.tmp, 'suite')
        make_suite(self.suite)
        self.patch = os.path.join(self.tmp, 'm.patch')
        write(self.patch, MUTANT)
        self.bad = os.path.join(self.tmp, 'bad.patch')
        write(self.bad, BAD_PATCH)

    def t(self, rel):
        return os.path.join(self.tree, rel)

    def prep(self, patches=()):
        return tree.prepare_tree(self.tree, self.suite, list(patches))

    def test_suite_changes_are_seen(self):
        self.prep()
        self.assertEqual(read(self.t('mm/vmalloc_sync_kunit.c')), 'int t;\n')
        self.assertIn('vmalloc_sync_kunit.o', read(self.t('mm/Makefile')))
        write(os.path.join(self.suite, 'mm/vmalloc_sync_kunit.c'), 'int t2;\n')
        self.prep()
        self.assertEqual(read(self.t('mm/vmalloc_sync_kunit.c')), 'int t2;\n')
        self.assertEqual(read(self.t('mm/Makefile')).count('vmalloc_sync_kunit.o'), 1)
        os.remove(os.path.join(self.suite, 'mm/vmalloc_sync_kunit.c'))
        os.remove(os.path.join(self.suite, 'mm/Makefile.edit'))
        self.prep()
        self.assertFalse(os.path.exists(self.t('mm/vmalloc_sync_kunit.c')))
        self.assertNotIn('vmalloc_sync', read(self.t('mm/Makefile')))

    def test_overlay_after_suite(self):
        bp = os.path.join(self.tmp, 'backports', '6.99')
        write(os.path.join(bp, 'mm/vmalloc_sync_kunit.c.edit'), '@@ end\nint backport;\n')
        tree.prepare_tree(self.tree, self.suite, [], overlays=[(bp, 'backports/6.99')])
        self.assertEqual(read(self.t('mm/vmalloc_sync_kunit.c')), 'int t;\nint backport;\n')
        self.prep()
        self.assertEqual(read(self.t('mm/vmalloc_sync_kunit.c')), 'int t;\n')

    def test_patch_then_pristine_again(self):
        pristine = read(self.t('mm/vmalloc.c'))
        self.prep([self.patch])
        self.assertIn('return 1;', read(self.t('mm/vmalloc.c')))
        self.prep()
        self.assertEqual(read(self.t('mm/vmalloc.c')), pristine)

    def test_mtimes(self):
        files = ('mm/vmalloc_sync_kunit.c', 'mm/Makefile', 'mm/vmalloc.c',
                 'include/linux/pgtable.h')
        self.prep([self.patch])
        m1 = {rel: os.stat(self.t(rel)).st_mtime_ns for rel in files}
        time.sleep(0.05)
        # same suite, same patch: the reset rewrote them, yet they keep
        # their mtimes, so kbuild does not rebuild
        self.prep([self.patch])
        for rel in files:
            self.assertEqual(os.stat(self.t(rel)).st_mtime_ns, m1[rel], rel)
        # suite file edited, patch dropped: those two look new
        write(os.path.join(self.suite, 'mm/vmalloc_sync_kunit.c'), 'int t3;\n')
        time.sleep(0.05)
        self.prep()
        m2 = {rel: os.stat(self.t(rel)).st_mtime_ns for rel in files}
        self.assertGreater(m2['mm/vmalloc_sync_kunit.c'], m1['mm/vmalloc_sync_kunit.c'])
        self.assertGreater(m2['mm/vmalloc.c'], m1['mm/vmalloc.c'])
        self.assertEqual(m2['mm/Makefile'], m1['mm/Makefile'])
        self.assertEqual(m2['include/linux/pgtable.h'], m1['include/linux/pgtable.h'])
        # the patch again: vmalloc.c is newer than anything built without it
        time.sleep(0.05)
        self.prep([self.patch])
        self.assertGreater(os.stat(self.t('mm/vmalloc.c')).st_mtime_ns, m2['mm/vmalloc.c'])

    def test_patch_that_does_not_apply_leaves_pristine(self):
        with self.assertRaises(Fail) as cm:
            self.prep([self.patch, self.bad])
        self.assertEqual(cm.exception.code, 2)
        self.assertIn('does not apply', str(cm.exception))
        self.assertNotIn('return 1;', read(self.t('mm/vmalloc.c')))
        self.assertFalse(os.path.exists(self.t('mm/vmalloc_sync_kunit.c')))
        self.assertEqual(sorted(os.listdir(self.t('mm'))), ['Makefile', 'vmalloc.c'])

    def test_missing_anchor(self):
        write(os.path.join(self.suite, 'include/linux/pgtable.h.edit'),
              '@@ before ^#ifndef NO_SUCH_THING\nx\n')
        with self.assertRaises(Fail) as cm:
            tree.prepare_tree(self.tree, self.suite, [], shown='kernel')
        self.assertEqual(str(cm.exception), "kernel/include/linux/pgtable.h.edit: anchor "
                         "'^#ifndef NO_SUCH_THING' not found in include/linux/pgtable.h")
        self.assertFalse(os.path.exists(self.t('mm/vmalloc_sync_kunit.c')))

    def test_edit_of_missing_file(self):
        write(os.path.join(self.suite, 'mm/nope.c.edit'), '@@ end\nx\n')
        with self.assertRaises(Fail) as cm:
            self.prep()
        self.assertIn('mm/nope.c does not exist', str(cm.exception))


if __name__ == '__main__':
    unittest.main()
