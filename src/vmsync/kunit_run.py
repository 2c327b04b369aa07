"""Build and run one arch with the kernel's own tools/testing/kunit/kunit.py."""

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

from .util import say, fmt_s, run_cmd, tail, write_if_changed
from .paths import KUNITCONFIG
from .arches import ARCHES
from .ktap import suite_seconds, parse_ktap, json_cases, disagreements
from .splat import find_reports, splat_case


EXEC_TIMEOUT = 300          # seconds; kunit.py exec --timeout


def build_dir_for(cache, kern, arch, kconfig_add=()):
    """Build dir of (kernel, arch, --kconfig_add options).  A stamp records
    what it was built for; a mismatch wipes it, so a build dir is never
    shared across kernels or configurations."""
    name = arch
    if kconfig_add:
        name += '+' + hashlib.sha256('\n'.join(kconfig_add).encode()).hexdigest()[:10]
    bdir = os.path.join(cache, 'build', kern['key'], name)
    stamp = os.path.join(bdir, 'vmsync-stamp.json')
    want = {'kernel': kern['key'], 'version': kern['version'], 'arch': arch}
    if kconfig_add:
        want['kconfig_add'] = list(kconfig_add)
    try:
        with open(stamp) as f:
            have = json.load(f)
    except (OSError, ValueError):
        have = None
    if have != want and os.path.exists(bdir):
        shutil.rmtree(bdir)
    os.makedirs(bdir, exist_ok=True)
    with open(stamp, 'w') as f:
        json.dump(want, f)
    return bdir


def kunit_cmd(kern, arch, sub, bdir, kconfig_add=()):
    a = ARCHES[arch]
    tree = kern['tree']
    cmd = [sys.executable, os.path.join(tree, 'tools/testing/kunit/kunit.py'), sub,
           '--build_dir', bdir, '--arch', a.kunit_arch,
           '--kunitconfig', os.path.join(tree, KUNITCONFIG),
           '--make_options', 'CC=ccache %sgcc' % a.cross]
    if a.cross:
        cmd += ['--cross_compile', a.cross]
    # the runner times the suite from the console's timestamps
    for k in ('CONFIG_PRINTK_TIME=y',) + a.kconfig:
        cmd += ['--kconfig_add', k]
    for path, regex, k in a.kconfig_if:
        with contextlib.suppress(OSError), open(os.path.join(tree, path)) as f:
            if re.search(regex, f.read()):
                cmd += ['--kconfig_add', k]
    for k in kconfig_add:
        cmd += ['--kconfig_add', k]
    for q in a.qemu_args:
        cmd += ['--qemu_args=' + q]
    return cmd


# 7.2's kunit.py asks QEMU for KVM first (6.12's and 6.1's do not).
# Results must not depend on the host: on this project's (nested) KVM hosts
# the 7.2 i386 and x86_64 kernels die in a KVM emulation failure on RDRAND,
# and KVM gives x86_64-la57 no LA57 unless the host CPU has it.  So kunit.py
# finds these wrappers first in PATH: the real QEMU, with TCG whatever
# -accel it was asked for.  With VMSYNC_DT_CPU (JSON: the .dtb to write and
# the string properties to set, see Arch.dt_cpu), the wrapper first has
# QEMU dump the board's own device tree for the same arguments, sets the
# properties in every /cpus/cpu@N node with fdtput, and boots it with -dtb.
TCG_WRAPPER = """#!%s
# written by vmsync (see TCG_WRAPPER in src/vmsync/kunit_run.py)
import json, os, subprocess, sys
real = %r
args, out = sys.argv[1:], []
while args:
    if args[0] == '-accel' and len(args) > 1:
        args = args[2:]
        continue
    out.append(args.pop(0))
out += ['-accel', 'tcg']
edit = os.environ.get('VMSYNC_DT_CPU')
if edit:
    edit = json.loads(edit)
    dtb = edit['dtb']
    try:
        subprocess.run([real] + out + ['-machine', 'dumpdtb=' + dtb], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cpus = subprocess.run(['fdtget', '-l', dtb, '/cpus'], check=True,
                              stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
        for cpu in [c for c in cpus if c.startswith('cpu@')]:
            for name, value in sorted(edit['props'].items()):
                subprocess.run(['fdtput', '-t', 's', dtb, '/cpus/' + cpu, name, value],
                               check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit('vmsync qemu wrapper: cannot write the device tree %%s: %%s' %% (dtb, e))
    out += ['-dtb', dtb]
os.execv(real, [real] + out)
"""


def tcg_wrappers(cache):
    """The directory of TCG-only wrappers for every QEMU in ARCHES."""
    wdir = os.path.join(cache, 'qemu-tcg')
    os.makedirs(wdir, exist_ok=True)
    for q in sorted(set(a.qemu for a in ARCHES.values() if a.qemu)):
        real = shutil.which(q)
        if real:
            path = os.path.join(wdir, q)
            write_if_changed(path, (TCG_WRAPPER % (sys.executable, real)).encode())
            os.chmod(path, 0o755)
    return wdir


def kunit_env(cache, arch=None, bdir=None):
    env = dict(os.environ, CCACHE_DIR=os.path.join(cache, 'ccache'),
               PYTHONDONTWRITEBYTECODE='1',
               PATH=tcg_wrappers(cache) + os.pathsep + os.environ.get('PATH', ''))
    env.pop('VMSYNC_DT_CPU', None)
    if arch and ARCHES[arch].dt_cpu:
        env['VMSYNC_DT_CPU'] = json.dumps({'dtb': os.path.join(bdir, 'vmsync-board.dtb'),
                                           'props': dict(ARCHES[arch].dt_cpu)})
    return env


def stage(arch, name, fn):
    say('[%s] %s ...' % (arch, name))
    t0 = time.time()
    ok = fn()
    dt = time.time() - t0
    say('[%s] %s ... %s%s' % (arch, name, fmt_s(dt), '' if ok else ' FAILED'))
    return ok, dt


def run_arch(kern, arch, cache, jobs, kconfig_add=()):
    """config, build, exec for one arch; returns the run's result dict."""
    a = ARCHES[arch]
    bdir = build_dir_for(cache, kern, a.build_name, kconfig_add)
    env = kunit_env(cache, arch, bdir)
    res = {'arch': arch, 'status': 'build-error', 'build_s': 0.0, 'run_s': 0.0,
           'cases': [], 'build_dir': bdir}
    for f in ('vmsync-config.log', 'vmsync-build.log', 'vmsync-exec.log',
              'test.log', 'kunit.json'):
        with contextlib.suppress(OSError):
            os.remove(os.path.join(bdir, f))

    for name, extra in (('config', []), ('build', ['--jobs', str(jobs)])):
        log = os.path.join(bdir, 'vmsync-%s.log' % name)
        cmd = kunit_cmd(kern, arch, name, bdir, kconfig_add) + extra
        ok, dt = stage(arch, name, lambda: run_cmd(cmd, env=env, log=log,
                                                    check=False)[0] == 0)
        res['build_s'] = round(res['build_s'] + dt, 1)
        if not ok:
            res['error'] = 'kunit.py %s failed, see %s' % (name, log)
            res['error_tail'] = tail(log)
            return res

    log = os.path.join(bdir, 'vmsync-exec.log')
    cmd = (kunit_cmd(kern, arch, 'exec', bdir, kconfig_add) +
           ['--timeout', str(EXEC_TIMEOUT),
            # '--json=FILE', not '--json FILE': kunit.py rewrites a bare --json
            '--json=' + os.path.join(bdir, 'kunit.json')])
    for k in a.kernel_args:
        cmd += ['--kernel_args=' + k]
    def boot():         # kunit.py's exit status says nothing we need
        run_cmd(cmd, env=env, log=log, check=False)
        return True
    ok, dt = stage(arch, 'exec', boot)
    res['run_s'] = round(dt, 1)
    try:
        with open(os.path.join(bdir, 'test.log'), errors='replace') as f:
            raw = f.read()
    except OSError:
        raw = ''
    cases, saw = parse_ktap(raw)
    if not saw:
        res['error'] = 'kernel did not boot or printed no KTAP (see %s)' % (
            os.path.join(bdir, 'test.log'))
        res['error_tail'] = raw.splitlines()[-25:] or tail(log)
        return res
    agreement = parser_agreement(cases, os.path.join(bdir, 'kunit.json'))
    if any(re.search(r'\.#\d+$', c['name']) for c in cases):
        name_unfinished(cases, kern, arch, bdir, env)
    if not cases:
        cases = [{'name': 'vmsync.no_tests', 'status': 'ERROR',
                  'log': 'the kernel ran no test case'}]
    if agreement:
        cases.append(agreement)
    said = re.search(r'vmalloc_sync: \d-level .*$', raw, re.M)
    for regex in a.expect_log:
        if not re.search(regex, raw, re.M):
            cases.append({'name': 'vmsync.boot_log', 'status': 'ERROR',
                          'log': 'the boot log has no line matching %r (the suite '
                                 'said: %s): this is not the page-table setup --arch '
                                 '%s is for (its depth, or its ARCH_PAGE_TABLE_SYNC_MASK)'
                                 % (regex, repr(said.group(0)) if said else 'nothing',
                                    arch)})
    boot_reports, suite_reports = find_reports(raw)
    if boot_reports:
        res['boot_reports'] = boot_reports
    if suite_reports:
        cases.append(splat_case(suite_reports))
    res['cases'] = cases
    res['suite_s'] = suite_seconds(raw)
    bad = any(c['status'] in ('FAIL', 'ERROR') for c in cases)
    res['status'] = 'fail' if bad else 'pass'
    return res


def parser_agreement(cases, json_path):
    """vmsync's cases against kunit.py's own reading of the same run
    (kunit.json from kunit.py exec --json): None when they agree, else a
    failed case 'vmsync.parser_agreement' naming each case and both statuses.
    Deliberate differences (ktap.disagreements) are not disagreements, nor is
    a failing case kunit.json has no entry for (the status of a test with
    subtests, which kunit.json does not list)."""
    try:
        with open(json_path) as f:
            theirs = json_cases(json.load(f))
    except (OSError, ValueError, AttributeError) as e:
        return {'name': 'vmsync.parser_agreement', 'status': 'FAIL',
                'log': 'no kunit.py result to cross-check vmsync\'s with: %s: %s'
                       % (json_path, e)}
    diff = disagreements(cases, theirs, unnamed=True, strict=False)
    if not diff:
        return None
    return {'name': 'vmsync.parser_agreement', 'status': 'FAIL',
            'log': 'vmsync and kunit.py read the kernel\'s output differently '
                   '(%s):\n' % json_path + '\n'.join(diff)}


def name_unfinished(cases, kern, arch, bdir, env):
    """Replace 'suite.#N' by the Nth test name from kunit.py --list_tests."""
    cmd = kunit_cmd(kern, arch, 'exec', bdir) + ['--list_tests', '--timeout', '120']
    cmd += ['--kernel_args=' + k for k in ARCHES[arch].kernel_args]
    try:
        out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, universal_newlines=True,
                             errors='replace', timeout=300).stdout
    except (OSError, subprocess.SubprocessError):
        return
    by_suite = {}
    for line in out.splitlines():
        m = re.match(r'^(\w+)\.(\S+)$', line.strip())
        if m:
            by_suite.setdefault(m.group(1), []).append(m.group(2))
    for c in cases:
        m = re.match(r'^(\w+)\.#(\d+)$', c['name'])
        if m:
            tests = by_suite.get(m.group(1), [])
            i = int(m.group(2)) - 1
            if 0 <= i < len(tests):
                c['name'] = '%s.%s' % (m.group(1), tests[i])
