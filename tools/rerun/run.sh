#!/bin/bash
# Re-run vmalloc_sync N times in one boot through KUnit's debugfs "run" file
# and compare the runs (see docs in tools/rerun/README.md).
#
#   tools/rerun/run.sh [--build] ARCH [RUNS]     ARCH: um | i386
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
if [ "${1:-}" = --build ]; then BUILD=1; shift; fi
ARCH=${1:?usage: run.sh [--build] um|i386 [RUNS]}
RUNS=${2:-5}

KCONFIG_ADD=(CONFIG_BLK_DEV_INITRD=y CONFIG_DEBUG_FS=y CONFIG_KUNIT_DEBUGFS=y)
case $ARCH in
um)   CFLAGS=(-static -O2) ;;
i386) # ptdump of the kernel page tables after each run: counts the entries
      KCONFIG_ADD+=(CONFIG_PTDUMP_DEBUGFS=y)
      # Debian's gcc-multilib only adds /usr/include/asm, and it conflicts
      # with the gcc-{arm,aarch64}-linux-gnu cross compilers vmsync needs:
      # use libc6-dev-i386 + lib32gcc-12-dev and point <asm/...> at the
      # (bi-arch) x86_64 headers instead
      mkdir -p "$OUT/inc32"
      ln -sfn /usr/include/x86_64-linux-gnu/asm "$OUT/inc32/asm"
      CFLAGS=(-m32 -static -O2 -idirafter "$OUT/inc32") ;;
*)    echo "run.sh: arch $ARCH: only um and i386" >&2; exit 2 ;;
esac
mkdir -p "$OUT"

if [ $BUILD = 1 ]; then
    args=()
    for k in "${KCONFIG_ADD[@]}"; do args+=(--kconfig_add "$k"); done
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
gcc "${CFLAGS[@]}" -Wall -o "$ROOT/init" "$HERE/init.c"
mknod "$ROOT/dev/console" c 5 1
(cd "$ROOT" && find . | cpio -o -H newc --owner root:root --quiet) > "$OUT/$ARCH.cpio"

CON=$OUT/$ARCH.console
case $ARCH in
um)
    # kunit.py boots UML with: mem=1G console=tty kunit.enable=1 (and
    # kunit_shutdown=halt, left out: init does the shutdown after the runs)
    timeout "$TIMEOUT" "$BDIR/linux" mem=1G console=tty kunit.enable=1 \
        initrd="$OUT/$ARCH.cpio" "$RUNS" </dev/null >"$CON" 2>&1 || echo "run.sh: linux exited $?" >&2
    ;;
i386)
    # kunit.py's QEMU command, arches.py's kernel args, TCG as vmsync's
    # qemu-tcg wrappers force; plus -initrd
    timeout "$TIMEOUT" qemu-system-i386 -nodefaults -m 1024 -kernel "$BDIR/arch/x86/boot/bzImage" \
        -initrd "$OUT/$ARCH.cpio" \
        -append "mem=896M vmalloc_sync_kunit.spare_ram=0x3c000000 kunit.enable=1 console=ttyS0 $RUNS" \
        -no-reboot -nographic -serial stdio -accel tcg </dev/null >"$CON" 2>&1 ||
        echo "run.sh: qemu exited $?" >&2
    ;;
esac
echo "run.sh: console in $CON ($(wc -l <"$CON") lines)"
grep -q 'rerun-init: done' "$CON" || echo "run.sh: init did not finish (see $CON)" >&2
python3 "$HERE/split.py" "$CON" --json "$OUT/$ARCH.json"
