"""Unit tests of the ./vmsync runner (no real kernel build).

Run with ./vmsync test (or python3 -m unittest discover -s tests)."""

import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VMSYNC = os.path.join(ROOT, 'vmsync')


sys.dont_write_bytecode = True


def load_vmsync():
    """Every module of src/vmsync in one namespace (interim, until the tests
    are split by module)."""
    import types
    sys.path.insert(0, os.path.join(ROOT, 'src'))
    ns = types.SimpleNamespace()
    for f in sorted(os.listdir(os.path.join(ROOT, 'src', 'vmsync'))):
        if f.endswith('.py') and f != '__init__.py':
            ns.__dict__.update(vars(importlib.import_module('vmsync.' + f[:-3])))
    return ns


v = load_vmsync()


def write(path, text, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    if mode:
        os.chmod(path, mode)


def read(path):
    with open(path) as f:
        return f.read()


# A fake kunit.py: records its calls, fails or prints KTAP as FAKE_KUNIT says.
FAKE_KUNIT = r'''#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
bd = args[args.index('--build_dir') + 1]
os.makedirs(bd, exist_ok=True)
with open(os.path.join(bd, 'fake-calls'), 'a') as f:
    f.write(json.dumps(args) + '\n')
mode = os.environ.get('FAKE_KUNIT', 'pass')
if args[0] == 'build' and mode == 'build-error':
    print('mm/vmalloc_sync_kunit.c:1:1: error: expected something')
    sys.exit(1)
if args[0] == 'exec':
    ktap = open(os.environ['FAKE_KTAP']).read() if mode != 'noboot' else 'Kernel panic early\n'
    # FAKE_KTAP_PATCHED: what the kernel prints once MUTANT is applied
    tree = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tree = os.path.dirname(os.path.dirname(tree))
    if os.environ.get('FAKE_KTAP_PATCHED') and \
            'return 1' in open(os.path.join(tree, 'mm/vmalloc.c')).read():
        ktap = open(os.environ['FAKE_KTAP_PATCHED']).read()
    if mode != 'wrong-setup':       # what the suite's suite_init() logs
        ktap = ('vmalloc_sync: 3-level kernel page tables, ARCH_PAGE_TABLE_SYNC_MASK 0xf, '
                'calls observed by CONFIG_DEBUG_PGTABLE_SYNC_RECORDER\n' + ktap)
    open(os.path.join(bd, 'test.log'), 'w').write(ktap)
    for a in args:
        if a.startswith('--json='):
            open(a[len('--json='):], 'w').write('{"name": "fake"}')
    sys.exit(0 if mode in ('pass', 'wrong-setup') else 1)
sys.exit(0)
'''

KTAP_PASS = '''\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: vmalloc_sync
    1..2
    ok 1 test_a
    ok 2 test_b # SKIP not on this arch
ok 1 vmalloc_sync
'''

KTAP_FAIL = '''\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: vmalloc_sync
    1..2
    # test_a: EXPECTATION FAILED at mm/vmalloc_sync_kunit.c:42
    Expected calls == 1, but
        calls == 0 (0x0)
    not ok 1 test_a
    ok 2 test_b
not ok 1 vmalloc_sync
'''

KTAP_CRASH = '''\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: vmalloc_sync
    1..3
    ok 1 test_a
BUG: kernel NULL pointer dereference, address: 0000000000000000
Kernel panic - not syncing: Fatal exception
'''


def make_fake_kernel(path, sublevel='7'):
    write(os.path.join(path, 'Makefile'),
          'VERSION = 6\nPATCHLEVEL = 99\nSUBLEVEL = %s\nEXTRAVERSION = -fake\n' % sublevel)
    write(os.path.join(path, 'tools/testing/kunit/kunit.py'), FAKE_KUNIT, 0o755)
    write(os.path.join(path, 'mm/Makefile'),
          'obj-y += a.o\nobj-$(CONFIG_DEBUG_VM_PGTABLE) += debug_vm_pgtable.o\nobj-y += z.o\n')
    write(os.path.join(path, 'mm/vmalloc.c'), 'int vmalloc(void)\n{\n\treturn 0;\n}\n')
    write(os.path.join(path, 'include/linux/pgtable.h'),
          '#ifndef _PGTABLE_H\n#define _PGTABLE_H\n#ifndef ARCH_PAGE_TABLE_SYNC_MASK\n'
          '#define ARCH_PAGE_TABLE_SYNC_MASK 0\n#endif\n#endif\n')


def make_suite(path, test_c='int t;\n', extra_edit=''):
    write(os.path.join(path, 'mm/vmalloc_sync_kunit.c'), test_c)
    write(os.path.join(path, 'mm/Makefile.edit'),
          '@@ after ^obj-\\$\\(CONFIG_DEBUG_VM_PGTABLE\\)\n'
          'obj-$(CONFIG_VMALLOC_SYNC_KUNIT_TEST) += vmalloc_sync_kunit.o\n' + extra_edit)
    write(os.path.join(path, 'tools/testing/kunit/configs/vmsync.config'),
          'CONFIG_KUNIT=y\nCONFIG_VMALLOC_SYNC_KUNIT_TEST=y\n')


MUTANT = '''\
From 0000 Mon Sep 17 00:00:00 2001
Subject: [PATCH] mutant: vmalloc returns 1

Kill-On: um i386

---
 mm/vmalloc.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/mm/vmalloc.c b/mm/vmalloc.c
--- a/mm/vmalloc.c
+++ b/mm/vmalloc.c
@@ -1,4 +1,4 @@
 int vmalloc(void)
 {
-\treturn 0;
+\treturn 1;
 }
'''

BAD_PATCH = MUTANT.replace('-\treturn 0;', '-\treturn 5;')


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='vmsync-test-')
        self.addCleanup(shutil.rmtree, self.tmp, True)


# ---------------------------------------------------------------------------

class TestEdit(unittest.TestCase):
    TEXT = 'one\ntwo\nthree\n'

    def test_after_before_end(self):
        edit = '@@ after ^two$\nA1\nA2\n@@ before ^one\nB\n@@ end\nE\n'
        self.assertEqual(v.apply_edit(self.TEXT, edit, 'x.edit', 'x'),
                         'B\none\ntwo\nA1\nA2\nthree\nE\n')

    def test_first_match_and_search_semantics(self):
        edit = '@@ after o\nX\n'     # re.search: 'one' is the first match
        self.assertEqual(v.apply_edit(self.TEXT, edit, 'x.edit', 'x'),
                         'one\nX\ntwo\nthree\n')

    def test_blocks_in_order(self):
        edit = '@@ after ^two$\nnew\n@@ after ^new$\nnewer\n'
        self.assertEqual(v.apply_edit(self.TEXT, edit, 'x.edit', 'x'),
                         'one\ntwo\nnew\nnewer\nthree\n')

    def test_empty_lines_are_text(self):
        edit = '@@ after ^one$\n\nX\n\n@@ end\n'
        self.assertEqual(v.apply_edit(self.TEXT, edit, 'x.edit', 'x'),
                         'one\n\nX\n\ntwo\nthree\n')

    def test_end_on_file_without_newline(self):
        self.assertEqual(v.apply_edit('a', '@@ end\nb\n', 'x.edit', 'x'), 'a\nb')

    def test_only_some_blocks(self):
        edit = '@@ end\nA\n@@ after ^x$\nB\n@@ end\nC\n'
        self.assertEqual(v.apply_edit('x\n', edit, 'e', 't', only=[1, 3]), 'x\nA\nC\n')
        self.assertEqual(v.apply_edit('x\n', edit, 'e', 't', only=[2]), 'x\nB\n')

    def test_missing_anchor(self):
        with self.assertRaises(v.Fail) as cm:
            v.apply_edit(self.TEXT, '@@ after obj-\\$\\(CONFIG_X\\)\nfoo\n',
                         'kernel/mm/Makefile.edit', 'mm/Makefile')
        self.assertEqual(cm.exception.code, 2)
        self.assertEqual(str(cm.exception),
                         "kernel/mm/Makefile.edit: anchor 'obj-\\$\\(CONFIG_X\\)' "
                         "not found in mm/Makefile")

    def test_bad_edit_files(self):
        for edit in ('@@ sideways x\n', '@@ after\n', 'text first\n@@ end\n',
                     '@@ after (\n', '@@ end junk\n'):
            with self.assertRaises(v.Fail, msg=edit) as cm:
                v.apply_edit(self.TEXT, edit, 'x.edit', 'x')
            self.assertEqual(cm.exception.code, 2)


class TestKillOn(unittest.TestCase):
    def test_format_patch(self):
        self.assertEqual(v.parse_kill_on(MUTANT), ['um', 'i386'])

    def test_plain_diff(self):
        self.assertEqual(v.parse_kill_on('Kill-On: x86_64\ndiff --git a/x b/x\n'),
                         ['x86_64'])

    def test_empty(self):
        self.assertEqual(v.parse_kill_on('Subject: x\nKill-On: \n\nwhy\n---\n'), [])

    def test_missing_or_after_diff(self):
        self.assertIsNone(v.parse_kill_on('Subject: x\n---\nKill-On: um\n'))
        self.assertIsNone(v.parse_kill_on('diff --git a/x b/x\n+Kill-On: um\n'))


class TestKtap(unittest.TestCase):
    def parse(self, text):
        cases, saw = v.parse_ktap(textwrap.dedent(text))
        return {c['name']: (c['status'], c['log']) for c in cases}, saw

    def test_pass_skip_fail(self):
        cases, saw = self.parse(KTAP_FAIL)
        self.assertTrue(saw)
        self.assertEqual(cases['vmalloc_sync.test_b'], ('PASS', ''))
        status, log = cases['vmalloc_sync.test_a']
        self.assertEqual(status, 'FAIL')
        self.assertIn('EXPECTATION FAILED at mm/vmalloc_sync_kunit.c:42', log)
        self.assertIn('    calls == 0 (0x0)', log)
        cases, _ = self.parse(KTAP_PASS)
        self.assertEqual(cases['vmalloc_sync.test_b'], ('SKIP', '# SKIP not on this arch'))
        self.assertEqual(len(cases), 2)

    def test_params_and_printk_prefix(self):
        text = '''\
        [    1.000000] KTAP version 1
        [    1.000000] 1..1
        [    1.000000]     KTAP version 1
        [    1.000000]     # Subtest: s
        [    1.000000]     1..2
        [    1.000000]         KTAP version 1
        [    1.000000]         # Subtest: case_p
        [    1.000000]         ok 1 pgd level
        [    1.000000]         # p4d level: EXPECTATION FAILED
        [    1.000000]         not ok 2 p4d level
        [    1.000000]         ok 3 pud level # SKIP folded
        [    1.000000]     # case_p: pass:1 fail:1 skip:1 total:3
        [    1.000000]     not ok 1 case_p
        [    1.000000]     ok 2 plain
        [    1.000000] not ok 1 s
        [   10.000000] reboot: Restarting system
        '''
        cases, _ = self.parse(text)
        self.assertEqual(sorted(cases), ['s.case_p.p4d level', 's.case_p.pgd level',
                                         's.case_p.pud level', 's.plain'])
        self.assertEqual(cases['s.case_p.p4d level'][0], 'FAIL')
        self.assertEqual(cases['s.case_p.pud level'], ('SKIP', '# SKIP folded'))

    def test_6_1_skipped_param(self):
        text = textwrap.dedent('''\
            KTAP version 1
            1..1
                KTAP version 1
                # Subtest: s
                1..1
                    KTAP version 1
                    # Subtest: case_p
                    ok 1 pgd level
                # case_p: vmsync-6.1-skip: folded here
                    ok 2 p4d level
                # case_p: pass:1 fail:0 skip:1 total:2
                ok 1 case_p
            ok 1 s
            ''')
        cases, _ = self.parse(text)
        self.assertEqual(cases['s.case_p.pgd level'][0], 'PASS')
        self.assertEqual(cases['s.case_p.p4d level'][0], 'SKIP')
        self.assertIn('folded here', cases['s.case_p.p4d level'][1])

    def test_crash_is_error(self):
        cases, saw = self.parse(KTAP_CRASH)
        self.assertTrue(saw)
        self.assertEqual(cases['vmalloc_sync.test_a'][0], 'PASS')
        self.assertEqual(cases['vmalloc_sync.#2'][0], 'ERROR')
        self.assertIn('NULL pointer dereference', cases['vmalloc_sync.#2'][1])
        self.assertEqual(cases['vmalloc_sync.#3'][0], 'ERROR')

    def test_hang_without_plan(self):
        text = 'KTAP version 1\n    KTAP version 1\n    # Subtest: s\n    ok 1 a\n'
        cases, _ = self.parse(text)
        self.assertEqual(cases['s.#2'][0], 'ERROR')

    def test_suite_that_never_started(self):
        cases, _ = self.parse(KTAP_PASS.replace('1..1\n', '1..2\n', 1))
        self.assertEqual(cases['suite#2'][0], 'ERROR')

    def test_try_faulted_is_error(self):
        text = KTAP_FAIL.replace('Expected calls == 1, but', 'test_a: try faulted')
        cases, _ = self.parse(text)
        self.assertEqual(cases['vmalloc_sync.test_a'][0], 'ERROR')

    def test_suite_init_failure(self):
        text = '''\
        KTAP version 1
        1..1
            KTAP version 1
            # Subtest: s
            # s: failed to initialize: -12
        not ok 1 s
        '''
        cases, _ = self.parse(text)
        self.assertEqual(cases['s'][0], 'FAIL')
        self.assertIn('failed to initialize', cases['s'][1])

    def test_no_ktap(self):
        self.assertEqual(v.parse_ktap('Booting...\nKernel panic\n'), ([], False))


class TestAptSources(TempDirTest):
    def test_deb822_and_one_line(self):
        write(os.path.join(self.tmp, 'debian.sources'), textwrap.dedent('''\
            Types: deb
            # comment
            URIs: http://mirror.example/debian
            Suites: bookworm bookworm-updates
            Components: main
            Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

            Types: deb
            URIs: http://mirror.example/debian-security
            Suites: bookworm-security
            Components: main
            '''))
        write(os.path.join(self.tmp, 'x.list'),
              'deb [arch=amd64] https://packages.example.com/apt cloud main\n'
              '# deb http://old.example/debian sid main\n')
        entries = v.parse_apt_sources([os.path.join(self.tmp, 'x.list'),
                                       os.path.join(self.tmp, 'debian.sources')])
        self.assertEqual(len(entries), 3)
        self.assertEqual(v.debian_mirror(entries),
                         ('http://mirror.example/debian',
                          '/usr/share/keyrings/debian-archive-keyring.gpg'))

    def test_one_line_only(self):
        write(os.path.join(self.tmp, 'sources.list'),
              'deb http://security.debian.org/debian-security bookworm-security main\n'
              'deb [signed-by=/k.gpg] http://ftp.de.debian.org/debian/ bookworm main contrib\n')
        entries = v.parse_apt_sources([os.path.join(self.tmp, 'sources.list')])
        self.assertEqual(v.debian_mirror(entries), ('http://ftp.de.debian.org/debian', '/k.gpg'))

    def test_disabled_and_none(self):
        write(os.path.join(self.tmp, 'd.sources'),
              'Types: deb\nURIs: http://m/debian\nSuites: sid\nComponents: main\nEnabled: no\n')
        self.assertEqual(v.debian_mirror(v.parse_apt_sources(
            [os.path.join(self.tmp, 'd.sources')])), (None, None))


class TestCacheKeys(TempDirTest):
    def test_arches(self):
        self.assertEqual(v.parse_arches('um,i386'), ['um', 'i386'])
        self.assertEqual(v.parse_arches('all'), list(v.ARCHES))
        for a in ('um', 'i386', 'x86_64'):
            self.assertIn(a, v.ARCHES)
        with self.assertRaises(v.Fail) as cm:
            v.parse_arches('um,bogus')
        self.assertIn('x86_64', str(cm.exception))

    def test_prune_old_versions(self):
        for d in ('trees/linux-source-6.12_1', 'trees/linux-source-6.12_2',
                  'trees/linux-source-6.1_1', 'build/linux-source-6.12_1/um'):
            os.makedirs(os.path.join(self.tmp, d))
        v.prune(self.tmp, 'linux-source-6.12_', 'linux-source-6.12_2')
        self.assertEqual(sorted(os.listdir(os.path.join(self.tmp, 'trees'))),
                         ['linux-source-6.12_2', 'linux-source-6.1_1'])
        self.assertEqual(os.listdir(os.path.join(self.tmp, 'build')), [])

    def test_install_needs_root(self):
        real = v.os.geteuid
        v.os.geteuid = lambda: 1000
        try:
            with self.assertRaises(v.Fail) as cm:
                v.ensure_packages(['vmsync-no-such-package'])
        finally:
            v.os.geteuid = real
        self.assertEqual(cm.exception.code, 2)
        self.assertIn('vmsync-no-such-package', str(cm.exception))
        self.assertIn('root', str(cm.exception))

    def test_path_key(self):
        a = os.path.join(self.tmp, 'linux')
        self.assertEqual(v.path_key(a), v.path_key(a + '/'))
        self.assertNotEqual(v.path_key(a), v.path_key(a + '2'))
        self.assertEqual(v.path_key(a), v.path_key(os.path.join(self.tmp, 'x', '..', 'linux')))

    def test_kernel_version(self):
        make_fake_kernel(self.tmp)
        self.assertEqual(v.kernel_version(self.tmp), '6.99.7-fake')
        self.assertTrue(v.is_kernel_tree(self.tmp))
        self.assertFalse(v.is_kernel_tree(os.path.join(self.tmp, 'mm')))

    def test_build_dir_stamp(self):
        kern = {'key': 'k1', 'version': '6.12.1'}
        bdir = v.build_dir_for(self.tmp, kern, 'um')
        write(os.path.join(bdir, 'vmlinux.o'), 'x')
        self.assertEqual(v.build_dir_for(self.tmp, kern, 'um'), bdir)
        self.assertTrue(os.path.exists(os.path.join(bdir, 'vmlinux.o')))   # reused
        kern['version'] = '6.12.2'
        self.assertEqual(v.build_dir_for(self.tmp, kern, 'um'), bdir)
        self.assertFalse(os.path.exists(os.path.join(bdir, 'vmlinux.o')))  # wiped
        self.assertNotEqual(v.build_dir_for(self.tmp, kern, 'i386'), bdir)
        write(os.path.join(bdir, 'vmsync-stamp.json'), '{"kernel": "other"}')
        write(os.path.join(bdir, 'vmlinux.o'), 'x')
        v.build_dir_for(self.tmp, kern, 'um')
        self.assertFalse(os.path.exists(os.path.join(bdir, 'vmlinux.o')))


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
        with self.assertRaises(v.Fail):
            v.unpack_tarball(self.tarball('junk', kernel=False), dest, self.tmp)
        self.assertFalse(os.path.exists(dest))
        v.unpack_tarball(self.tarball('linux-source-6.99'), dest, self.tmp)
        self.assertTrue(v.is_kernel_tree(dest))
        self.assertEqual(os.listdir(trees), ['k'])          # no temp dirs left
        self.assertEqual(subprocess.call(['git', '-C', dest, 'rev-parse', '-q', '--verify',
                                          v.PRISTINE], stdout=subprocess.DEVNULL), 0)


class TestTree(TempDirTest):
    """Tree preparation on a tiny fake kernel git repo."""

    def setUp(self):
        super().setUp()
        self.tree = os.path.join(self.tmp, 'tree')
        make_fake_kernel(self.tree)
        v.make_pristine(self.tree)
        self.suite = os.path.join(self.tmp, 'suite')
        make_suite(self.suite)
        self.patch = os.path.join(self.tmp, 'm.patch')
        write(self.patch, MUTANT)
        self.bad = os.path.join(self.tmp, 'bad.patch')
        write(self.bad, BAD_PATCH)

    def t(self, rel):
        return os.path.join(self.tree, rel)

    def prep(self, patches=()):
        return v.prepare_tree(self.tree, self.suite, list(patches))

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
        v.prepare_tree(self.tree, self.suite, [], overlays=[(bp, 'backports/6.99')])
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
        with self.assertRaises(v.Fail) as cm:
            self.prep([self.patch, self.bad])
        self.assertEqual(cm.exception.code, 2)
        self.assertIn('does not apply', str(cm.exception))
        self.assertNotIn('return 1;', read(self.t('mm/vmalloc.c')))
        self.assertFalse(os.path.exists(self.t('mm/vmalloc_sync_kunit.c')))
        self.assertEqual(sorted(os.listdir(self.t('mm'))), ['Makefile', 'vmalloc.c'])

    def test_missing_anchor(self):
        write(os.path.join(self.suite, 'include/linux/pgtable.h.edit'),
              '@@ before ^#ifndef NO_SUCH_THING\nx\n')
        with self.assertRaises(v.Fail) as cm:
            v.prepare_tree(self.tree, self.suite, [], shown='kernel')
        self.assertEqual(str(cm.exception), "kernel/include/linux/pgtable.h.edit: anchor "
                         "'^#ifndef NO_SUCH_THING' not found in include/linux/pgtable.h")
        self.assertFalse(os.path.exists(self.t('mm/vmalloc_sync_kunit.c')))

    def test_edit_of_missing_file(self):
        write(os.path.join(self.suite, 'mm/nope.c.edit'), '@@ end\nx\n')
        with self.assertRaises(v.Fail) as cm:
            self.prep()
        self.assertIn('mm/nope.c does not exist', str(cm.exception))


# ---------------------------------------------------------------------------
# The command line, as other tools see it

class CommandLine(TempDirTest):
    """Runs ./vmsync with a throwaway cache and suite."""

    def vmsync(self, *args, **env):
        e = dict(os.environ, VMSYNC_CACHE=os.path.join(self.tmp, 'cache'),
                 VMSYNC_SUITE=os.path.join(self.tmp, 'suite'))
        e.update(env)
        p = subprocess.run([VMSYNC] + list(args), env=e, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True)
        return p.returncode, p.stdout, p.stderr

    def assertUsageError(self, rc, err, text):
        self.assertEqual(rc, 2, err)
        self.assertNotIn('Traceback', err)
        lines = err.strip().splitlines()
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith('vmsync: '), err)
        self.assertIn(text, lines[0])

    def fake(self):
        kdir = os.path.join(self.tmp, 'linux')
        make_fake_kernel(kdir)
        make_suite(os.path.join(self.tmp, 'suite'))
        return kdir



class TestCommandLine(CommandLine):
    def test_nonexistent_kernel(self):
        rc, out, err = self.vmsync('run', '--kernel', '/nonexistent')
        self.assertUsageError(rc, err, 'not a kernel tree')

    def test_bogus_arch(self):
        rc, out, err = self.vmsync('run', '--arch', 'bogus')
        self.assertUsageError(rc, err, 'um, i386, x86_64')

    def test_bad_option(self):
        rc, out, err = self.vmsync('run', '--jobs', 'many')
        self.assertUsageError(rc, err, '--jobs')

    def test_missing_patch_file(self):
        rc, out, err = self.vmsync('run', '--kernel', self.fake(), '--patch', '/nonexistent.patch')
        self.assertUsageError(rc, err, 'no such file')

    def test_patch_does_not_apply(self):
        kdir = self.fake()
        bad = os.path.join(self.tmp, 'bad.patch')
        write(bad, BAD_PATCH)
        rc, out, err = self.vmsync('run', '--kernel', kdir, '--patch', bad)
        self.assertUsageError(rc, err, 'does not apply')
        self.assertEqual(read(os.path.join(kdir, 'mm/vmalloc.c')),
                         'int vmalloc(void)\n{\n\treturn 0;\n}\n')

    def run_fake(self, mode, ktap=KTAP_PASS, *extra):
        kdir = self.fake()
        write(os.path.join(self.tmp, 'ktap'), ktap)
        out_json = os.path.join(self.tmp, 'out.json')
        rc, out, err = self.vmsync('run', '--kernel', kdir, '--json', out_json, *extra,
                                   FAKE_KUNIT=mode, FAKE_KTAP=os.path.join(self.tmp, 'ktap'))
        self.assertNotIn('Traceback', err)
        with open(out_json) as f:
            return rc, out, json.load(f)

    def test_pass(self):
        rc, out, rep = self.run_fake('pass', KTAP_PASS, '--jobs', '3')
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.strip().splitlines()[-1], '1 passed, 0 failed, 1 skipped')
        self.assertIn('[um] build ...', out)
        self.assertEqual(rep['kernel']['version'], '6.99.7-fake')
        self.assertEqual(rep['kernel']['source'], os.path.join(self.tmp, 'linux'))
        run = rep['runs'][0]
        self.assertEqual((run['arch'], run['status']), ('um', 'pass'))
        self.assertEqual(run['cases'], [
            {'name': 'vmalloc_sync.test_a', 'status': 'PASS', 'log': ''},
            {'name': 'vmalloc_sync.test_b', 'status': 'SKIP', 'log': '# SKIP not on this arch'}])
        self.assertIsInstance(run['build_s'], float)
        self.assertIsInstance(run['run_s'], float)
        # config, build and exec are separate kunit.py calls, with ccache
        with open(os.path.join(run['build_dir'], 'fake-calls')) as f:
            calls = [json.loads(l) for l in f]
        self.assertEqual([c[0] for c in calls], ['config', 'build', 'exec'])
        for c in calls:
            for opt in ('--build_dir', '--arch', '--kunitconfig', '--make_options'):
                self.assertIn(opt, c)
            self.assertEqual(c[c.index('--make_options') + 1], 'CC=ccache gcc')
            self.assertTrue(c[c.index('--kunitconfig') + 1].endswith(
                'tools/testing/kunit/configs/vmsync.config'))
        self.assertEqual(calls[1][calls[1].index('--jobs') + 1], '3')
        self.assertTrue(os.path.exists(os.path.join(run['build_dir'], 'kunit.json')))

    def test_backport_for_this_version_only(self):
        kdir = self.fake()
        bps = os.path.join(self.tmp, 'backports')
        write(os.path.join(bps, '6.99/mm/vmalloc_sync_kunit.c.edit'), '@@ end\nint bp699;\n')
        write(os.path.join(bps, '6.1/mm/vmalloc_sync_kunit.c.edit'), '@@ end\nint bp61;\n')
        write(os.path.join(self.tmp, 'ktap'), KTAP_PASS)
        rc, out, err = self.vmsync('run', '--kernel', kdir, VMSYNC_BACKPORTS=bps,
                                   FAKE_KUNIT='pass', FAKE_KTAP=os.path.join(self.tmp, 'ktap'))
        self.assertEqual(rc, 0, err)
        copy = os.path.join(self.tmp, 'cache', 'trees', v.path_key(kdir))
        self.assertEqual(read(os.path.join(copy, 'mm/vmalloc_sync_kunit.c')),
                         'int t;\nint bp699;\n')

    def test_fail(self):
        rc, out, rep = self.run_fake('fail', KTAP_FAIL)
        self.assertEqual(rc, 1)
        self.assertEqual(rep['runs'][0]['status'], 'fail')
        self.assertIn('FAIL [um] vmalloc_sync.test_a', out)
        self.assertIn('EXPECTATION FAILED', out)
        self.assertEqual(out.strip().splitlines()[-1], '1 passed, 1 failed, 0 skipped')

    def test_crash(self):
        rc, out, rep = self.run_fake('fail', KTAP_CRASH)
        self.assertEqual(rc, 1)
        statuses = [c['status'] for c in rep['runs'][0]['cases']]
        self.assertEqual(statuses, ['PASS', 'ERROR', 'ERROR'])

    def test_wrong_page_table_setup(self):
        rc, out, rep = self.run_fake('wrong-setup', KTAP_PASS)
        self.assertEqual(rc, 1)
        self.assertEqual(rep['runs'][0]['cases'][-1]['name'], 'vmsync.boot_log')
        self.assertIn('not the page-table setup --arch um is for', out)

    def test_build_error(self):
        rc, out, rep = self.run_fake('build-error')
        self.assertEqual(rc, 3)
        self.assertEqual(rep['runs'][0]['status'], 'build-error')
        self.assertIn('expected something', out)

    def test_no_boot(self):
        rc, out, rep = self.run_fake('noboot')
        self.assertEqual(rc, 3)
        self.assertEqual(rep['runs'][0]['status'], 'build-error')

    def test_user_tree_is_never_modified_and_resynced(self):
        kdir = self.fake()
        before = {p: read(os.path.join(kdir, p)) for p in ('mm/Makefile', 'mm/vmalloc.c')}
        patch = os.path.join(self.tmp, 'm.patch')
        write(patch, MUTANT)
        write(os.path.join(self.tmp, 'ktap'), KTAP_PASS)
        env = dict(FAKE_KUNIT='pass', FAKE_KTAP=os.path.join(self.tmp, 'ktap'))
        rc, out, err = self.vmsync('run', '--kernel', kdir, '--patch', patch, **env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(before, {p: read(os.path.join(kdir, p)) for p in before})
        self.assertFalse(os.path.exists(os.path.join(kdir, 'mm/vmalloc_sync_kunit.c')))
        # the user changes the tree: the next run's copy has the change
        write(os.path.join(kdir, 'mm/vmalloc.c'), 'int vmalloc(void) { return 2; }\n')
        rc, out, err = self.vmsync('run', '--kernel', kdir, **env)
        self.assertEqual(rc, 0, err)
        copy = os.path.join(self.tmp, 'cache', 'trees', v.path_key(kdir))
        self.assertEqual(read(os.path.join(copy, 'mm/vmalloc.c')),
                         'int vmalloc(void) { return 2; }\n')
        self.assertTrue(os.path.exists(os.path.join(copy, 'mm/vmalloc_sync_kunit.c')))


if __name__ == '__main__':
    unittest.main()


class TestCheck(CommandLine):
    def check(self, ktap_patched=None, *extra):
        kdir = self.fake()
        patch = os.path.join(self.tmp, 'm.patch')
        write(patch, MUTANT)
        write(os.path.join(self.tmp, 'ktap'), KTAP_PASS)
        env = dict(FAKE_KUNIT='pass', FAKE_KTAP=os.path.join(self.tmp, 'ktap'))
        if ktap_patched:
            write(os.path.join(self.tmp, 'ktap2'), ktap_patched)
            env['FAKE_KTAP_PATCHED'] = os.path.join(self.tmp, 'ktap2')
        out_json = os.path.join(self.tmp, 'check.json')
        rc, out, err = self.vmsync('check', '--kernel', kdir, '--json', out_json,
                                   patch, *extra, **env)
        self.assertNotIn('Traceback', err)
        with open(out_json) as f:
            return rc, out, json.load(f)

    def test_no_change(self):
        rc, out, rep = self.check()
        self.assertEqual(rc, 0, out)
        self.assertIn('No change: the 2 case results are the same', out)
        self.assertEqual(rep['newly_failing'], [])

    def test_regression(self):
        rc, out, rep = self.check(KTAP_FAIL)
        self.assertEqual(rc, 1, out)
        self.assertIn('REGRESSION: 1 case(s) newly fail:', out)
        self.assertIn('[um] vmalloc_sync.test_a: PASS -> FAIL', out)
        self.assertEqual([(i['case'], i['base'], i['patched']) for i in rep['newly_failing']],
                         [('vmalloc_sync.test_a', 'PASS', 'FAIL')])
        # test_b went from SKIP to PASS: a change, but not a newly passing case
        self.assertEqual([i['case'] for i in rep['other_changes']], ['vmalloc_sync.test_b'])

    def test_crash_is_a_regression(self):
        rc, out, rep = self.check(KTAP_CRASH)
        self.assertEqual(rc, 1, out)
        self.assertIn('ERROR', [i['patched'] for i in rep['newly_failing']])

    def test_base_that_does_not_build(self):
        kdir = self.fake()
        patch = os.path.join(self.tmp, 'm.patch')
        write(patch, MUTANT)
        write(os.path.join(self.tmp, 'ktap'), KTAP_PASS)
        rc, out, err = self.vmsync('check', '--kernel', kdir, patch, FAKE_KUNIT='build-error',
                                   FAKE_KTAP=os.path.join(self.tmp, 'ktap'))
        self.assertEqual(rc, 3, err)
        self.assertIn('nothing to compare', err)
        self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_bad_input_before_any_build(self):
        kdir = self.fake()
        rc, out, err = self.vmsync('check', '--kernel', kdir, '/nonexistent.mbox')
        self.assertUsageError(rc, err, 'no such file')
        self.assertNotIn('[um] build', out)
        rc, out, err = self.vmsync('check', '--kernel', kdir)
        self.assertUsageError(rc, err, 'at least one PATCH')


class TestCompare(unittest.TestCase):
    def report(self, status, cases):
        return {'runs': [{'arch': 'um', 'status': status,
                          'cases': [{'name': n, 'status': s} for n, s in cases]}]}

    def test_build_broken(self):
        d = v.compare_reports(self.report('pass', [('a', 'PASS')]),
                              self.report('build-error', []))
        self.assertEqual(d['build_broken'], ['um'])
        self.assertEqual(d['newly_failing'], [])

    def test_newly_passing(self):
        d = v.compare_reports(self.report('fail', [('a', 'FAIL'), ('b', 'ERROR')]),
                              self.report('pass', [('a', 'PASS'), ('b', 'PASS')]))
        self.assertEqual([i['case'] for i in d['newly_passing']], ['a', 'b'])


class TestKernelciJson(unittest.TestCase):
    def test_crash_is_fail(self):
        kunit = {'name': 'KUnit Test Group', 'test_cases': [], 'sub_groups': [
            {'name': 'vmalloc_sync', 'sub_groups': [], 'test_cases': [
                {'name': 'a', 'status': 'PASS'}, {'name': 'b', 'status': 'ERROR'},
                {'name': 'c', 'status': 'SKIP'}]}]}
        run = {'arch': 'um', 'status': 'fail', 'cases': [
            {'name': 'vmsync.boot_log', 'status': 'ERROR'}]}
        out = v.kernelci_json(kunit, run)
        self.assertEqual([c['status'] for c in out['sub_groups'][0]['test_cases']],
                         ['PASS', 'FAIL', 'SKIP'])
        self.assertEqual(out['test_cases'], [{'name': 'vmsync.boot_log', 'status': 'FAIL'}])

    def test_no_json_at_all(self):
        out = v.kernelci_json(None, {'arch': 'i386', 'status': 'build-error', 'cases': []})
        self.assertEqual(out['test_cases'], [{'name': 'vmsync.build', 'status': 'FAIL'}])
        self.assertEqual(out['arch'], 'i386')


class TestSeries(TempDirTest):
    def test_every_suite_file_and_block_is_in_one_patch(self):
        cover, parts = v.series_parts()
        self.assertEqual(cover['files'], [])
        entries = [e for p in parts for e in p['files']]
        self.assertIn('kernel/mm/vmalloc_sync_kunit.c', entries)
        self.assertIn('kernel/mm/Kconfig.debug.edit#2', entries)
        for p in parts:
            self.assertTrue(p['subject'] and p['body'].strip(), p['name'])

    def test_part_header(self):
        path = os.path.join(self.tmp, '1-x.txt')
        write(path, 'Files: a b\n       c\nSubject: mm: do\n  it\n\nBody.\n')
        part = v.parse_part(path)
        self.assertEqual(part['files'], ['a', 'b', 'c'])
        self.assertEqual(part['subject'], 'mm: do it')
        self.assertEqual(part['body'], 'Body.\n')
        write(path, 'Subject: x\nFrom: me\n\nBody.\n')
        with self.assertRaises(v.Fail):
            v.parse_part(path)

    def test_entry_blocks(self):
        self.assertEqual(v.series_entry('kernel/mm/Makefile.edit', 't'),
                         ('kernel/mm/Makefile.edit', [1, 2]))
        self.assertEqual(v.series_entry('kernel/mm/Makefile.edit#2', 't')[1], [2])
        for bad in ('kernel/mm/Makefile.edit#3', 'kernel/mm/nonexistent.c',
                    'kernel/mm/vmalloc_sync_kunit.c#1'):
            with self.assertRaises(v.Fail):
                v.series_entry(bad, 't')
        self.assertEqual(v.series_target('series/MAINTAINERS.edit'), 'MAINTAINERS')
        self.assertEqual(v.series_target('kernel/mm/Kconfig.debug.edit'), 'mm/Kconfig.debug')

    def test_refuses_6_1(self):
        with self.assertRaises(v.Fail) as e:
            v.do_series(kernel='6.1')
        self.assertIn('backports', str(e.exception))

    def test_kernel_doc_without_line_numbers(self):
        tree = os.path.join(self.tmp, 'k')
        write(os.path.join(tree, 'scripts/kernel-doc'),
              '#!/bin/sh\necho "Warning: x.h:2001 No description for f"\n'
              'echo "x.h:12: warning: missing g"\n', 0o755)
        self.assertEqual(v.kernel_doc(tree, 'x.h'), {'Warning: x.h: No description for f',
                                                     'x.h: warning: missing g'})

    def test_warning_parser(self):
        self.assertTrue(v.WARNING_RE.match(
            "mm/x.c:12:3: warning: unused variable 'u' [-Wunused-variable]"))
        self.assertTrue(v.WARNING_RE.match(
            "mm/x.c:12:3: warning: cast removes address space '__iomem' of expression"))
        self.assertFalse(v.WARNING_RE.match('  CC      mm/x.o'))


class TestTcgWrapper(TempDirTest):
    def test_accel_is_always_tcg(self):
        bindir = os.path.join(self.tmp, 'bin')
        write(os.path.join(bindir, 'qemu-system-i386'),
              '#!/bin/sh\necho "$@"\n', 0o755)
        old = os.environ['PATH']
        os.environ['PATH'] = bindir + os.pathsep + old
        try:
            wdir = v.tcg_wrappers(os.path.join(self.tmp, 'cache'))
        finally:
            os.environ['PATH'] = old
        out = subprocess.run([os.path.join(wdir, 'qemu-system-i386'), '-nodefaults',
                              '-accel', 'kvm', '-accel', 'hvf', '-accel', 'tcg', '-m', '1024'],
                             stdout=subprocess.PIPE, universal_newlines=True).stdout
        self.assertEqual(out.split(), ['-nodefaults', '-m', '1024', '-accel', 'tcg'])
