"""The command line: arguments, dispatch to a command, and errors as one line."""

import argparse
import sys

from .util import Fail
from .arches import ARCHES
from .run import do_run
from .check import do_check
from .series import SERIES_KERNELS, do_series
from .selftest import FULL_KERNELS, do_test
from .compile import TARGETS, do_compile


class Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Fail(message)


def main(argv):
    p = Parser(prog='vmsync', description='Run the vmsync KUnit suite.')
    sub = p.add_subparsers(dest='cmd', parser_class=Parser)
    r = sub.add_parser('run', help='build a kernel with the suite and run it')
    r.add_argument('--kernel', default='6.12',
                   help='6.12 (default), 6.1, newest, or PATH to a kernel tree')
    r.add_argument('--arch', default='um',
                   help='ARCH[,ARCH...] or all; known: %s' % ', '.join(ARCHES))
    r.add_argument('--patch', action='append', default=[], metavar='FILE',
                   help='patch to apply after the suite (repeatable)')
    r.add_argument('--json', metavar='FILE', help='write results as JSON')
    r.add_argument('--jobs', type=int, metavar='N', help='make -j (default: nproc)')
    r.add_argument('--kconfig_add', action='append', default=[], metavar='CONFIG_X=y',
                   help="passed to kunit.py like its own flag (repeatable); "
                        "each set of options has its own build dir")
    r.add_argument('--fault-injection', action='store_true',
                   help='also run the cases that need page-table allocations to fail '
                        '(a second boot through tools/rerun; um, i386, i386-pae, arm, arm64)')
    c = sub.add_parser('check', help='what patches change in the results (pre-merge)')
    c.add_argument('patches', nargs='*', metavar='PATCH_OR_MBOX')
    c.add_argument('--kernel', default='6.12',
                   help='6.12 (default), 6.1, newest, or PATH to a kernel tree')
    c.add_argument('--arch', default='um',
                   help='ARCH[,ARCH...] or all; known: %s' % ', '.join(ARCHES))
    c.add_argument('--kconfig_add', action='append', default=[], metavar='CONFIG_X=y',
                   help="as for run, on both the base and the patched kernel (repeatable)")
    c.add_argument('--json', metavar='FILE', help='write the comparison as JSON')
    c.add_argument('--jobs', type=int, metavar='N', help='make -j (default: nproc)')
    c.add_argument('--fault-injection', action='store_true',
                   help='also run the cases that need page-table allocations to fail '
                        '(a second boot through tools/rerun; um, i386, i386-pae, arm, arm64)')
    s = sub.add_parser('series', help='write the suite as a patch series for linux-mm')
    s.add_argument('--kernel', default='newest',
                   help='base: %s, or your kernel tree (default newest)' % ' or '.join(SERIES_KERNELS))
    s.add_argument('--out', metavar='DIR', help='output directory (default ./vmsync-series)')
    s.add_argument('--check', action='store_true',
                   help='also git am it on the base and check each patch')
    b = sub.add_parser('compile', help="the series' objects for every cross compiler "
                                        "Debian has, KUNIT_ALL_TESTS=y, warnings fail")
    b.add_argument('--kernel', default='6.12',
                   help='6.12 (default), 6.1, newest, or PATH to a kernel tree')
    b.add_argument('--arch', default='all',
                   help='TARGET[,TARGET...] or all (default); known: %s' % ', '.join(TARGETS))
    b.add_argument('--jobs', type=int, metavar='N', help='make -j (default: nproc)')
    t = sub.add_parser('test', help="the project's tests: unit tests, suite, mutants")
    t.add_argument('--corpus', action='store_true',
                   help='also ./vmsync check on every corpus/ entry')
    t.add_argument('--full', action='store_true',
                   help='also --arch all on %s' % ', '.join(FULL_KERNELS))
    args = p.parse_args(argv)
    if args.cmd == 'run':
        return do_run(kernel=args.kernel, arch=args.arch, patches=args.patch,
                      json_file=args.json, jobs=args.jobs,
                      kconfig_add=args.kconfig_add,
                      fault_injection=args.fault_injection)[0]
    if args.cmd == 'check':
        return do_check(args.patches, kernel=args.kernel, arch=args.arch,
                        json_file=args.json, jobs=args.jobs,
                        fault_injection=args.fault_injection,
                        kconfig_add=args.kconfig_add)
    if args.cmd == 'series':
        return do_series(kernel=args.kernel, out=args.out, check=args.check)
    if args.cmd == 'compile':
        return do_compile(kernel=args.kernel, targets=args.arch, jobs=args.jobs)
    if args.cmd == 'test':
        return do_test(full=args.full, corpus=args.corpus)
    p.print_help()
    return 2


def entry(argv=None):
    """./vmsync: main(), with every error as one line on stderr, never a
    traceback.  Exits."""
    try:
        sys.exit(main(sys.argv[1:] if argv is None else argv))
    except Fail as e:
        print('vmsync: %s' % e, file=sys.stderr, flush=True)
        sys.exit(e.code)
    except KeyboardInterrupt:
        print('vmsync: interrupted', file=sys.stderr, flush=True)
        sys.exit(130)
    except Exception as e:      # never a traceback
        print('vmsync: internal error: %s: %s' % (type(e).__name__, e),
              file=sys.stderr, flush=True)
        sys.exit(2)
