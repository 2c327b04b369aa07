#!/bin/sh
# Dry-run every corpus patch against a kernel tree: ./dry-run.sh /path/to/linux
# (a scratch copy, never ~/.cache/vmsync). Prints YES/NO per patch.
tree=${1:?usage: $0 KERNEL_TREE}
dir=$(cd "$(dirname "$0")" && pwd)
for p in "$dir"/[0-9]*.patch; do
	if out=$(cd "$tree" && patch -p1 --dry-run -f < "$p" 2>&1); then
		case $out in *fuzz*) echo "YES (fuzz) $(basename "$p")";; *) echo "YES $(basename "$p")";; esac
	else
		echo "NO  $(basename "$p")"
	fi
done
