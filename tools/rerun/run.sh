#!/bin/bash
# Re-run vmalloc_sync N times in one boot through KUnit's debugfs "run" file
# and compare the runs (see docs in tools/rerun/README.md).
#
#   tools/rerun/run.sh [--build] [--fail] [--patch FILE]... ARCH [RUNS]
#                                           ARCH: um i386 i386-pae arm arm64
#   tools/rerun/run.sh --print-kconfig [--fail] ARCH
#
# --build applies tools/rerun/kunit-rerun-skipped-6.12.118.patch (KUnit
# core: re-run a case that skipped last time; KUNIT_FIX=0 leaves it out)
# and the --patch files.  --print-kconfig prints the options the kernel
# needs, one per line, and stops (./vmsync run --fault-injection).  --fail builds with fail_page_alloc and has init
# let it fail page-table allocations before the first re-run.
#
# The kernel is the one `./vmsync run --arch ARCH --kconfig_add ...` built
# with this script's KCONFIG_ADD (its own build dir under
# ~/.cache/vmsync/build/); --build runs exactly that first (through the
# runner, which takes the build lock).  Never builds a kernel any other way.
# Output: $OUT (default /tmp/rerun)/ARCH.console, ARCH.json, and the
# comparison table on stdout.  Exit status: split.py's (0 = runs agree).
set -euo pipefail

HERE=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-/tmp/rerun}
TIMEOUT=${TIMEOUT:-900}
BUILD=0
PRINT=0
FAIL=
PATCHES=()
[ "${KUNIT_FIX:-1}" = 0 ] || PATCHES+=("$HERE/kunit-rerun-skipped-6.12.118.patch")
while [ $# -gt 0 ]; do
    case $1 in
    --build) BUILD=1; shift ;;
    --print-kconfig) PRINT=1; shift ;;
    --fail)  FAIL=fail_page_alloc; shift ;;
    --patch) PATCHES+=("$(readlink -f "${2:?--patch FILE}")"); shift 2 ;;
    *)       break ;;
    esac
done
ARCH=${1:?usage: run.sh [--build] [--fail] [--patch FILE]... um|i386|i386-pae|arm|arm64 [RUNS]}
RUNS=${2:-5}
# i386: the boot-time run leaves 14 fresh 4 MiB PMD entries of the 120 MiB
# vmalloc area, one run takes 14; table_alloc_failure_still_syncs needs 6
# more, so --fail gets a bigger area unless VMALLOC= says otherwise
if [ -n "$FAIL" ] && { [ "$ARCH" = i386 ] || [ "$ARCH" = i386-pae ] || [ "$ARCH" = arm ]; }; then
    VMALLOC=${VMALLOC-256M}
fi

# install Debian packages PKG... unless they are there
need() {
    dpkg -s "$@" >/dev/null 2>&1 || apt-get install -y -q "$@" >/dev/null ||
        { echo "run.sh: needs $*" >&2; exit 2; }
}

KCONFIG_ADD=(CONFIG_BLK_DEV_INITRD=y CONFIG_DEBUG_FS=y CONFIG_KUNIT_DEBUGFS=y)
[ -z "$FAIL" ] || KCONFIG_ADD+=(CONFIG_DEBUG_KERNEL=y CONFIG_FAULT_INJECTION=y CONFIG_FAIL_PAGE_ALLOC=y CONFIG_FAULT_INJECTION_DEBUG_FS=y)
CC=gcc
PKGS=()
case $ARCH in
um)   CFLAGS=(-static -O2) ;;
arm)  CC=arm-linux-gnueabihf-gcc
      PKGS=(libc6-dev-armhf-cross)
      # Debian's armhf libc uses VFP, which kunit.py's arm config leaves out
      # (without it init dies of SIGILL)
      KCONFIG_ADD+=(CONFIG_VFP=y)
      CFLAGS=(-static -O2) ;;
i386|i386-pae)
      # ptdump of the kernel page tables after each run: counts the entries
      KCONFIG_ADD+=(CONFIG_PTDUMP_DEBUGFS=y)
      # Debian's gcc-multilib only adds /usr/include/asm, and it conflicts
      # with the gcc-{arm,aarch64}-linux-gnu cross compilers vmsync needs:
      # use libc6-dev-i386 + lib32gcc-12-dev and point <asm/...> at the
      # (bi-arch) x86_64 headers instead
      PKGS=(libc6-dev-i386 lib32gcc-12-dev)
      CFLAGS=(-m32 -static -O2 -idirafter "$OUT/inc32") ;;
arm64) CC=aarch64-linux-gnu-gcc
      PKGS=(libc6-dev-arm64-cross)
      CFLAGS=(-static -O2) ;;
*)    echo "run.sh: arch $ARCH: only um, i386, i386-pae, arm and arm64" >&2; exit 2 ;;
esac
if [ $PRINT = 1 ]; then
    printf '%s\n' "${KCONFIG_ADD[@]}"
    exit 0
fi
need cpio "${PKGS[@]}"
mkdir -p "$OUT"
case $ARCH in
i386*) mkdir -p "$OUT/inc32"
       ln -sfn /usr/include/x86_64-linux-gnu/asm "$OUT/inc32/asm" ;;
esac

if [ $BUILD = 1 ]; then
    args=()
    for k in "${KCONFIG_ADD[@]}"; do args+=(--kconfig_add "$k"); done
    for p in "${PATCHES[@]}"; do args+=(--patch "$p"); done
    "$TOP/vmsync" run --arch "$ARCH" "${args[@]}" --json "$OUT/vmsync-$ARCH.json" ||
        echo "run.sh: vmsync run exited $? (test results do not matter here)" >&2
fi

# the build dir vmsync's build_dir_for() gives these options on 6.12
BDIR=${BDIR:-$(python3 - "$ARCH" "${KCONFIG_ADD[@]}" <<'EOF'
import glob, hashlib, os, sys
arch, opts = sys.argv[1], sys.argv[2:]
h = hashlib.sha256('\n'.join(opts).encode()).hexdigest()[:10]
d = glob.glob(os.path.expanduser('~/.cache/vmsync/build/linux-source-6.12_*/%s+%s' % (arch, h)))
print(d[0] if d else '')
EOF
)}
[ -n "$BDIR" ] || { echo "run.sh: no build dir for $ARCH with ${KCONFIG_ADD[*]}; run with --build" >&2; exit 2; }
for k in "${KCONFIG_ADD[@]}"; do
    grep -qx "$k" "$BDIR/.config" || { echo "run.sh: $BDIR/.config lacks $k" >&2; exit 2; }
done
echo "run.sh: kernel from $BDIR"

# the initramfs: /init, /dev/console, mount points
ROOT=$(mktemp -d "$OUT/root-$ARCH.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT"/{dev,proc,sys}
$CC "${CFLAGS[@]}" -Wall -o "$ROOT/init" "$HERE/init.c"
mknod "$ROOT/dev/console" c 5 1
(cd "$ROOT" && find . | cpio -o -H newc --owner root:root --quiet) > "$OUT/$ARCH.cpio"

CON=$OUT/$ARCH.console
case $ARCH in
um)
    # kunit.py boots UML with: mem=1G console=tty kunit.enable=1 (and
    # kunit_shutdown=halt, left out: init does the shutdown after the runs)
    timeout "$TIMEOUT" "$BDIR/linux" mem=1G console=tty kunit.enable=1 \
        initrd="$OUT/$ARCH.cpio" "$RUNS" $FAIL </dev/null >"$CON" 2>&1 || echo "run.sh: linux exited $?" >&2
    ;;
*)
    # kunit.py's own QEMU command from the build's exec log, without
    # kunit_shutdown, with -initrd (tools/kmemleak/run.py does the same)
    mapfile -t CMD < <(python3 - "$TOP" "$BDIR" "$OUT/$ARCH.cpio" \
        "${VMALLOC:+vmalloc=$VMALLOC} $RUNS $FAIL" <<'EOF'
import importlib.util, sys
top, bdir, cpio, extra = sys.argv[1:]
spec = importlib.util.spec_from_file_location('kmemleak_run', top + '/tools/kmemleak/run.py')
k = importlib.util.module_from_spec(spec)
spec.loader.exec_module(k)
cmd = k.with_initrd(k.boot_command(bdir), cpio)
i = cmd.index('-append')
cmd[i + 1] += ' ' + extra.strip()
print('\n'.join(cmd))
EOF
)
    [ ${#CMD[@]} -gt 0 ] || { echo "run.sh: no kunit.py boot command in $BDIR/vmsync-exec.log" >&2; exit 2; }
    echo "run.sh: ${CMD[*]}"
    timeout "$TIMEOUT" "${CMD[@]}" </dev/null >"$CON" 2>&1 || echo "run.sh: qemu exited $?" >&2
    ;;
esac
echo "run.sh: console in $CON ($(wc -l <"$CON") lines)"
grep -q 'rerun-init: done' "$CON" || echo "run.sh: init did not finish (see $CON)" >&2
SPLIT=()
[ "$ARCH" != i386-pae ] || SPLIT=(--entry-kib 2048)     # PAE: 2 MiB PMD entries
python3 "$HERE/split.py" "$CON" --json "$OUT/$ARCH.json" "${SPLIT[@]}"
