"""./vmsync compile: the series' objects built for every architecture
Debian has a cross compiler for, with KUNIT_ALL_TESTS=y, as the 0-day bot
would build them.  Any compiler warning in them fails."""

import os
import re
import time
from dataclasses import dataclass

from .util import say, fmt_s, cache_lock, run_cmd, tail, parse_names
from .paths import SUITE_DIR, cache_dir
from .debian import BUILD_PACKAGES, ensure_packages
from .sources import check_kernel_spec, get_source
from .run import prepare_suite_tree


@dataclass(frozen=True)
class Target:
    name: str
    arch: str           # the kernel's ARCH=
    cross: str          # CROSS_COMPILE=
    defconfig: str
    package: str        # Debian's package of the compiler


TARGETS = {t.name: t for t in (
    Target('x86_64', 'x86_64', '', 'x86_64_defconfig', 'gcc'),
    Target('i386', 'i386', '', 'i386_defconfig', 'gcc'),
    Target('arm', 'arm', 'arm-linux-gnueabihf-', 'multi_v7_defconfig',
           'gcc-arm-linux-gnueabihf'),
    Target('arm64', 'arm64', 'aarch64-linux-gnu-', 'defconfig', 'gcc-aarch64-linux-gnu'),
    Target('riscv64', 'riscv', 'riscv64-linux-gnu-', 'defconfig', 'gcc-riscv64-linux-gnu'),
    Target('powerpc64le', 'powerpc', 'powerpc64le-linux-gnu-', 'ppc64le_defconfig',
           'gcc-powerpc64le-linux-gnu'),
    Target('s390x', 's390', 's390x-linux-gnu-', 'defconfig', 'gcc-s390x-linux-gnu'),
    Target('mips', 'mips', 'mips-linux-gnu-', 'malta_defconfig', 'gcc-mips-linux-gnu'),
    Target('sparc64', 'sparc', 'sparc64-linux-gnu-', 'sparc64_defconfig',
           'gcc-sparc64-linux-gnu'),
    Target('sh4', 'sh', 'sh4-linux-gnu-', 'defconfig', 'gcc-sh4-linux-gnu'),
    Target('alpha', 'alpha', 'alpha-linux-gnu-', 'defconfig', 'gcc-alpha-linux-gnu'),
    Target('m68k', 'm68k', 'm68k-linux-gnu-', 'defconfig', 'gcc-m68k-linux-gnu'),
    Target('hppa', 'parisc', 'hppa-linux-gnu-', 'generic-32bit_defconfig',
           'gcc-hppa-linux-gnu'),
)}
# what the series adds or changes: the suite (W=1, as 0-day builds new
# files), and the two walkers' files the helper patch touches
OBJECTS = ('mm/vmalloc_sync_kunit.o', 'mm/memory.o', 'mm/vmalloc.o')
WARNING = re.compile(r'^(\S+?):\d+:\d+: (?:warning|error): .*$', re.M)


def parse_targets(spec):
    return parse_names(spec, TARGETS, 'target')


def diagnostics(out):
    """The compiler's warnings and errors in make's output.  make runs
    scripts/checksyscalls.sh (cpp on <stdin>) before every build; its
    "#warning syscall ... not implemented" is the arch's, not the series'."""
    return [m.group(0) for m in WARNING.finditer(out) if m.group(1) != '<stdin>']


def compile_target(kern, t, cache, jobs):
    """(status, lines): config with KUNIT_ALL_TESTS=y, then OBJECTS.  status
    is 'ok', 'warnings' (lines: the compiler's warnings and errors) or
    'failed' (lines: why it could not be built)."""
    bdir = os.path.join(cache, 'build', kern['key'], 'compile-' + t.name)
    os.makedirs(bdir, exist_ok=True)
    env = dict(os.environ, CCACHE_DIR=os.path.join(cache, 'ccache'))
    make = ['make', '-C', kern['tree'], 'O=' + bdir, 'ARCH=' + t.arch,
            'CROSS_COMPILE=' + t.cross, 'CC=ccache %sgcc' % t.cross]
    log = os.path.join(bdir, 'vmsync-compile.log')
    for cmd in (make + [t.defconfig],
                [os.path.join(kern['tree'], 'scripts/config'),
                 '--file', os.path.join(bdir, '.config'),
                 '-e', 'KUNIT', '-e', 'KUNIT_ALL_TESTS'],
                make + ['olddefconfig']):
        rc, _ = run_cmd(cmd, env=env, log=log, check=False)
        if rc:
            return 'failed', ['configuration failed: ' + ' | '.join(tail(log, 3))]
    with open(os.path.join(bdir, '.config')) as f:
        if 'CONFIG_VMALLOC_SYNC_KUNIT_TEST=y' not in f.read().splitlines():
            return 'failed', ['%s with KUNIT_ALL_TESTS=y does not enable '
                           'CONFIG_VMALLOC_SYNC_KUNIT_TEST' % t.defconfig]
    rc, out = run_cmd(make + ['-j%d' % jobs, 'prepare'], env=env, log=log, check=False)
    if rc:
        return 'failed', ['make prepare failed: ' + ' | '.join(tail(log, 3))]
    for obj in OBJECTS:         # a built object would hide its warnings
        if os.path.exists(os.path.join(bdir, obj)):
            os.remove(os.path.join(bdir, obj))
    out = ''
    for extra, objs in ((['W=1'], OBJECTS[:1]), ([], OBJECTS[1:])):
        rc, o = run_cmd(make + ['-j%d' % jobs] + extra + list(objs), env=env, check=False)
        out += o
        if rc:
            break
    with open(log, 'a') as f:
        f.write(out)
    lines = diagnostics(out)
    if lines:
        return 'warnings', lines
    if rc:
        return 'failed', ['make %s failed (exit %d), see %s' % (' '.join(OBJECTS), rc, log)]
    return 'ok', []


def do_compile(kernel='6.12', targets='all', jobs=None):
    """Exit code: 0 all clean, 1 a warning or error in the series' objects,
    3 a target that could not be built at all."""
    names = parse_targets(targets)
    check_kernel_spec(kernel)
    jobs = jobs or os.cpu_count() or 1
    cache = cache_dir()
    status = {}
    with cache_lock(cache):
        ensure_packages(BUILD_PACKAGES + sorted(set(TARGETS[n].package for n in names)))
        kern = get_source(kernel, cache)
        say('vmsync: kernel %s, %s with KUNIT_ALL_TESTS=y: %s'
            % (kern['version'], ', '.join(OBJECTS), ', '.join(names)))
        prepare_suite_tree(kern, SUITE_DIR)
        for n in names:
            t0 = time.time()
            status[n], lines = compile_target(kern, TARGETS[n], cache, jobs)
            say('[%s] %s %s (ARCH=%s %s)' % (n, status[n], fmt_s(time.time() - t0),
                                            TARGETS[n].arch, TARGETS[n].defconfig))
            for line in lines:
                say('    ' + line)
    clean = [n for n in names if status[n] == 'ok']
    say('%d of %d targets compile without warnings%s' % (
        len(clean), len(names), '' if len(clean) == len(names) else ': not ' +
        ', '.join('%s (%s)' % (n, status[n]) for n in names if status[n] != 'ok')))
    if 'failed' in status.values():
        return 3
    return 1 if len(clean) < len(names) else 0
