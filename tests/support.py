"""What the unit tests share: paths, the fixtures in tests/data/, a fake
kernel tree with a fake kunit.py, a throwaway suite, and ./vmsync as a
command.  Not a test module (unittest collects only test_*.py).

Importing it puts src/ on sys.path, so the tests import the package as
`from vmsync import edit`, whether run by ./vmsync test or by
python3 -m unittest discover -s tests."""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VMSYNC = os.path.join(ROOT, 'vmsync')
DATA = os.path.join(ROOT, 'tests', 'data')
SRC = os.path.join(ROOT, 'src')
if SRC not in sys.path:
    sys.path.insert(0, SRC)


def load_tool(relpath, name):
    """The Python script ROOT/relpath (a tool outside src/, not a package)
    as a module called name."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(path, text, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    if mode:
        os.chmod(path, mode)


def read(path):
    with open(path) as f:
        return f.read()


def data(name):
    """The text of tests/data/NAME."""
    return read(os.path.join(DATA, name))


# What a kernel prints: a pass with a skip, a failed expectation, an oops.
KTAP_PASS = data('ktap/pass.ktap')
KTAP_FAIL = data('ktap/fail.ktap')
KTAP_CRASH = data('ktap/crash.ktap')

# kunit.json as kunit.py (7.2's kunit_parser and kunit_json) writes it for each
KUNIT_JSON = {KTAP_PASS: data('ktap/pass.json'), KTAP_FAIL: data('ktap/fail.json'),
              KTAP_CRASH: data('ktap/crash.json')}


def write_ktap(path, text, kunit_json=None):
    """What the fake kernel prints, and beside it (path.json) what the fake
    kunit.py writes as kunit.json: kunit_json, or the real one for text."""
    write(path, text)
    kunit_json = kunit_json or KUNIT_JSON.get(text)
    if kunit_json:
        write(path + '.json', kunit_json)


# A fake kunit.py: records its calls, fails or prints KTAP as FAKE_KUNIT says.
FAKE_KUNIT = data('fake-kunit.py')

# A mutant (Kill-On: um i386) for the fake kernel, and one that does not apply.
MUTANT = data('mutant.patch')
BAD_PATCH = MUTANT.replace('-\treturn 0;', '-\treturn 5;')


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
    write(os.path.join(path, 'mm/.kunitconfig'),
          'CONFIG_KUNIT=y\nCONFIG_VMALLOC_SYNC_KUNIT_TEST=y\n')


class TempDirTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='vmsync-test-')
        self.addCleanup(shutil.rmtree, self.tmp, True)


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
