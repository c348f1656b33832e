#!/bin/sh
# Package sizes on ARM firmware pairs: `vmodem delta make` next to bsdiff,
# zstd --patch-from -19, xdelta3 -9, HDiffPatch (hdiffz, LZMA2) and detools
# (LZMA, with its ARM-aware data format when the ELFs are there), all run
# here on the same files. Sizes only (no timing).
#
# Usage: tests/bench/fota/arm_pairs.sh [PAIRS_DIR]
#   PAIRS_DIR (or $ARM_PAIRS_DIR; default /tmp/armcorpus/pairs) holds raw
#   images named NAME-VERSION.bin; each NAME's versions, in `sort -V` order,
#   are measured as consecutive pairs (see README "Delta packages on ARM" for
#   how the published pairs are built).
#   $VMODEM  the vmodem binary (default: build/arm, then build/release)
#   $HDIFFZ  hdiffz built from github.com/sisong/HDiffPatch (column skipped if absent)
#   $DETOOLS the detools command, e.g. "python3 -m detools" (column skipped if
#            absent). Its column is the smaller of plain `create_patch -c lzma`
#            and, when NAME-VERSION.elf lies beside both images, the same with
#            --data-format arm-cortex-m4 or aarch64 (from the ELF's machine)
#            and the ELF files (build_firmware_pairs.sh keeps them).
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
detools=${DETOOLS:-$(command -v detools || true)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

size() { if [ -f "$1" ]; then wc -c <"$1" | tr -d ' '; else echo "-"; fi; }
# The data format and ELF offset (file offset of the lowest loaded segment,
# which is where a raw image made by objcopy -O binary starts) of ELF $1.
elf_facts() {
  python3 - "$1" <<'PY'
import sys
from elftools.elf.elffile import ELFFile
with open(sys.argv[1], "rb") as f:
    elf = ELFFile(f)
    fmt = {"EM_ARM": "arm-cortex-m4", "EM_AARCH64": "aarch64"}.get(elf["e_machine"], "-")
    loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD" and s["p_filesz"] > 0]
    first = min(loads, key=lambda s: s["p_paddr"])
    print(fmt, first["p_offset"])
PY
}

# detools' smallest package for old $1 -> new $2 into $3 (see $DETOOLS).
detools_patch() {
  # shellcheck disable=SC2086
  $detools create_patch -c lzma "$1" "$2" "$3" >/dev/null
  old_elf=${1%.bin}.elf new_elf=${2%.bin}.elf
  [ -f "$old_elf" ] && [ -f "$new_elf" ] || return 0
  set -- "$1" "$2" "$3" $(elf_facts "$old_elf") $(elf_facts "$new_elf")
  [ "$4" != "-" ] || return 0
  # shellcheck disable=SC2086
  $detools create_patch -c lzma --data-format "$4" --from-elf-file "$old_elf" --to-elf-file "$new_elf" \
    --from-elf-offset "$5" --to-elf-offset "$7" "$1" "$2" "$3.arm" >/dev/null
  if [ "$(wc -c <"$3.arm")" -lt "$(wc -c <"$3")" ]; then mv "$3.arm" "$3"; fi
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "-") printf "%+.1f%%", 100 * (a - b) / b; else print "-" }'; }

printf '%-40s %8s %8s %8s %-15s %8s %8s %8s %8s %8s %9s\n' pair new vmodem patch algorithm bsdiff zstd-19 xdelta3 hdiffz detools vs-bsdiff
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
      rm -f "$work/d.patch"
      if [ -n "$detools" ]; then detools_patch "$old" "$new" "$work/d.patch"; fi
      v=$(size "$work/v.pkg") b=$(size "$work/b.patch")
      # shellcheck disable=SC2086
      printf '%-40s %8s %8s %8s %-15s %8s %8s %8s %8s %8s %9s\n' "$label" "$(size "$new")" "$v" $patch "$b" \
        "$(size "$work/z.patch")" "$(size "$work/x.patch")" "$(size "$work/h.patch")" \
        "$(size "$work/d.patch")" "$(pct "$v" "$b")"
    fi
    prev=$file
  done
done
