#!/bin/sh
# Package sizes on ARM firmware pairs: `vmodem delta make` next to bsdiff,
# zstd --patch-from -19, xdelta3 -9 and HDiffPatch (hdiffz, LZMA2), all run
# here on the same files. Sizes only (no timing).
#
# Usage: tests/bench/fota/arm_pairs.sh [PAIRS_DIR]
#   PAIRS_DIR (or $ARM_PAIRS_DIR; default /tmp/armcorpus/pairs) holds raw
#   images named NAME-VERSION.bin; each NAME's versions, in `sort -V` order,
#   are measured as consecutive pairs (see README "Delta packages on ARM" for
#   how the published pairs are built).
#   $VMODEM  the vmodem binary (default: build/arm, then build/release)
#   $HDIFFZ  hdiffz built from github.com/sisong/HDiffPatch (column skipped if absent)
#   $VMODEM_ARGS extra `delta make` options (e.g. "--arch none" to compare)
# Exits 0 and prints "skipped" when the pairs directory is absent.
set -eu

here=$(cd "$(dirname "$0")/../../.." && pwd)
pairs=${1:-${ARM_PAIRS_DIR:-/tmp/armcorpus/pairs}}
if [ ! -d "$pairs" ]; then
  echo "arm_pairs: skipped: no pairs directory $pairs"
  exit 0
fi
vmodem=${VMODEM:-}
for candidate in "$here/build/arm/simulator/vmodem" "$here/build/release/simulator/vmodem"; do
  if [ -z "$vmodem" ] && [ -x "$candidate" ]; then vmodem=$candidate; fi
done
if [ -z "$vmodem" ]; then
  echo "arm_pairs: no vmodem binary (set VMODEM)" >&2
  exit 2
fi
hdiffz=${HDIFFZ:-$(command -v hdiffz || true)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

size() { if [ -f "$1" ]; then wc -c <"$1" | tr -d ' '; else echo "-"; fi; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%+.1f%%", 100 * (a - b) / b; else print "-" }'; }

printf '%-40s %8s %8s %8s %-15s %8s %8s %8s %8s %9s\n' pair new vmodem patch algorithm bsdiff zstd-19 xdelta3 hdiffz vs-bsdiff
names=$(ls "$pairs" | sed -n 's/^\(.*\)-[^-]*\.bin$/\1/p' | sort -u)
for name in $names; do
  prev=
  for file in $(ls "$pairs"/"$name"-*.bin | sort -V); do
    if [ -n "$prev" ]; then
      old=$prev new=$file
      label="$name $(basename "$old" .bin | sed "s/^$name-//")>$(basename "$new" .bin | sed "s/^$name-//")"
      # shellcheck disable=SC2086
      "$vmodem" delta make -q --json ${VMODEM_ARGS:-} "$old" "$new" -o "$work/v.pkg" >"$work/v.json"
      patch=$(python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["images"][0]; print(i["patch_bytes"], i["algorithm"].replace("bsdiff-lzma", "bsdiff"))' "$work/v.json")
      bsdiff "$old" "$new" "$work/b.patch"
      zstd -q -f -19 --patch-from="$old" "$new" -o "$work/z.patch" 2>/dev/null
      xdelta3 -9 -e -f -s "$old" "$new" "$work/x.patch"
      rm -f "$work/h.patch"
      if [ -n "$hdiffz" ]; then "$hdiffz" -f -c-lzma2-9 "$old" "$new" "$work/h.patch" >/dev/null; fi
      v=$(size "$work/v.pkg") b=$(size "$work/b.patch")
      # shellcheck disable=SC2086
      printf '%-40s %8s %8s %8s %-15s %8s %8s %8s %8s %9s\n' "$label" "$(size "$new")" "$v" $patch "$b" \
        "$(size "$work/z.patch")" "$(size "$work/x.patch")" "$(size "$work/h.patch")" "$(pct "$v" "$b")"
    fi
    prev=$file
  done
done
