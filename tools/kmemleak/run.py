#!/usr/bin/env python3
"""A kmemleak scan after the suite (see tools/kmemleak/README.md).

    ./vmsync run --arch A --kconfig_add CONFIG_DEBUG_KMEMLEAK=y \\
        --kconfig_add CONFIG_DEBUG_FS=y --kconfig_add CONFIG_BLK_DEV_INITRD=y \\
        [--kconfig_add ...] --json run.json
    tools/kmemleak/run.py run.json

Boots each kernel of run.json again, exactly as kunit.py booted it (the
command from its exec log), but without kunit_shutdown and with an
initramfs whose /init (init.c) scans for leaks once the suite has run.
Exit 0: no leak allocated by a KUnit case and no kernel report while the
suite ran; 1: a leak or report; 2: bad input or a boot that did not get
as far as the scan.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'src'))
sys.dont_write_bytecode = True

from vmsync.arches import ARCHES                  # noqa: E402
from vmsync.debian import ensure_packages         # noqa: E402
from vmsync.splat import find_reports             # noqa: E402
from vmsync.util import Fail                      # noqa: E402

NEEDED = ('CONFIG_DEBUG_KMEMLEAK=y', 'CONFIG_DEBUG_FS=y', 'CONFIG_BLK_DEV_INITRD=y')
# how to link a static /init for each kunit arch: (gcc args, packages)
INIT_CC = {
    'um': ([], ()), 'x86_64': ([], ()),
    'i386': (['-m32'], ('libc6-dev-i386', 'lib32gcc-12-dev')),
    'arm': ([], ('libc6-dev-armhf-cross',)),
    'arm64': ([], ('libc6-dev-arm64-cross',)),
    'riscv': ([], ('libc6-dev-riscv64-cross',)),
}
BOOT_TIMEOUT = 900


def newc(files):
    """A cpio archive (newc) of {name: (mode, data)}."""
    out, ino = b'', 1
    for name, (mode, data) in list(files.items()) + [('TRAILER!!!', (0, b''))]:
        n = name.encode() + b'\0'
        hdr = '070701' + ''.join('%08X' % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0))
        out += hdr.encode() + n
        out += b'\0' * (-len(out) % 4) + data
        out += b'\0' * (-len(out) % 4)
        ino += 1
    return out


def boot_command(bdir):
    """kunit.py's own boot command for this build dir, from its exec log."""
    try:
        with open(os.path.join(bdir, 'vmsync-exec.log'), errors='replace') as f:
            log = f.read()
    except OSError as e:
        raise Fail('%s: no exec log (%s): run ./vmsync run first' % (bdir, e.strerror))
    m = re.search(r'^Running tests with:\n\$ (.*)$', log, re.M)
    if not m:
        raise Fail('%s/vmsync-exec.log: kunit.py never booted this kernel' % bdir)
    return shlex.split(m.group(1))


def with_initrd(cmd, cpio):
    """cmd without kunit_shutdown (so that /init runs), with cpio as initrd."""
    def drop(args):
        return ' '.join(a for a in args.split() if not a.startswith('kunit_shutdown='))
    if cmd[0].endswith('/linux'):                       # UML: arguments are the command line
        return [cmd[0]] + [a for a in cmd[1:] if not a.startswith('kunit_shutdown=')] + \
            ['initrd=' + cpio]
    out = list(cmd)
    i = out.index('-append')
    out[i + 1] = drop(out[i + 1])
    return out + ['-initrd', cpio, '-accel', 'tcg']


def leaks(console):
    """The kmemleak records between init's markers, or None if none printed."""
    m = re.search(r'kmemleak-init: report begin\n(.*?)kmemleak-init: report end',
                  console, re.S)
    if not m:
        return None
    return [r for r in re.split(r'(?m)^(?=unreferenced object )', m.group(1))
            if r.startswith('unreferenced object')]


def boot(cmd, console_path):
    """Run cmd, its output to console_path; stop it once init is done (x86
    without ACPI halts instead of powering off).  Returns the output."""
    out = []
    deadline = time.time() + BOOT_TIMEOUT
    with open(console_path, 'w') as con, subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, universal_newlines=True, errors='replace') as p:
        timer = threading.Timer(BOOT_TIMEOUT, p.kill)
        timer.start()
        for line in p.stdout:
            con.write(line)
            out.append(line)
            if line.startswith(('kmemleak-init: report end', 'kmemleak-init: error')):
                break
        p.kill()
        timer.cancel()
    if time.time() > deadline:
        out.append('kmemleak: the boot timed out after %d s\n' % BOOT_TIMEOUT)
    return ''.join(out)


def check_run(run, out_dir):
    arch, bdir = run['arch'], run['build_dir']
    a = ARCHES[arch]
    with open(os.path.join(bdir, '.config')) as f:
        config = f.read().splitlines()
    missing = [k for k in NEEDED if k not in config]
    if missing:
        raise Fail('%s: %s lacks %s: add them with --kconfig_add' % (
            arch, os.path.join(bdir, '.config'), ', '.join(missing)))
    flags, packages = INIT_CC[a.kunit_arch]
    ensure_packages(packages)
    init = os.path.join(out_dir, 'init-' + a.kunit_arch)
    subprocess.run([a.cross + 'gcc', '-static', '-O2', '-Wall'] + flags +
                   ['-o', init, os.path.join(HERE, 'init.c')], check=True)
    cpio = os.path.join(out_dir, arch + '.cpio')
    with open(init, 'rb') as f:
        archive = newc({'init': (0o100755, f.read()), 'sys': (0o40755, b'')})
    with open(cpio, 'wb') as f:
        f.write(archive)
    cmd = with_initrd(boot_command(bdir), cpio)
    console_path = os.path.join(out_dir, arch + '.console')
    print('[%s] %s' % (arch, ' '.join(shlex.quote(c) for c in cmd)), flush=True)
    console = boot(cmd, console_path)
    found = leaks(console)
    if found is None:
        print('[%s] no kmemleak report: the boot did not reach the scan (see %s)'
              % (arch, console_path))
        return 2
    _, during = find_reports(console.split('kmemleak-init: report begin')[0])
    ours = [r for r in found if re.search(r'\bkunit_|vmalloc_sync|\bvs_', r)]
    print('[%s] kmemleak: %d suspected leak(s), %d allocated by a KUnit case; '
          '%d kernel report(s) while the suite ran; console in %s'
          % (arch, len(found), len(ours), len(during), console_path))
    for r in ours:
        print(r.rstrip())
    for r in during:
        print('  report: ' + r)
    others = len(found) - len(ours)
    if others:
        print('[%s] %d leak(s) not allocated by a KUnit case (boot code; not '
              'the suite\'s): see %s' % (arch, others, console_path))
    return 1 if ours or during else 0


def main(argv):
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        with open(argv[0]) as f:
            runs = json.load(f)['runs']
        out_dir = tempfile.mkdtemp(prefix='vmsync-kmemleak-')
        codes = [check_run(r, out_dir) for r in runs]
    except (OSError, ValueError, KeyError) as e:
        print('kmemleak: %s: %s' % (argv[0], e), file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as e:
        print('kmemleak: %s failed (exit %d)' % (e.cmd[0], e.returncode), file=sys.stderr)
        return 2
    except Fail as e:
        print('kmemleak: %s' % e, file=sys.stderr)
        return 2
    return max(codes or [2])


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
