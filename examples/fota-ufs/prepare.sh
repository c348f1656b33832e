#!/bin/sh
# Makes the FOTA campaign's working directory DIR (default ./fota-ufs-run):
# a module (DIR/state, seed 15), a delta package from the firmware it runs
# to one with a changed modem image (DIR/update.bin, version
# BG95M3LAR02A04), and the scenario beside them. Then:
#   vmodem campaign run DIR/scenario.json
# A package fits the firmware it was made from, and a module's firmware is
# drawn from its seed: the package is made here, for this module.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-fota-ufs-run}
vmodem=${VMODEM:-vmodem}
if [ -e "$dir" ]; then
  echo "prepare.sh: $dir exists; give a new directory" >&2
  exit 2
fi
mkdir -p "$dir"
"$vmodem" run --once --seed 15 --log-level warn --state "$dir/state" >/dev/null
"$vmodem" firmware export "$dir/state" -o "$dir/fw" >/dev/null
cp -r "$dir/fw" "$dir/new"
printf 'fixed' | dd of="$dir/new/modem" bs=1 seek=4096 conv=notrunc status=none
"$vmodem" delta make "$dir/fw/manifest.json" "$dir/new/manifest.json" \
  --new-version BG95M3LAR02A04 -o "$dir/update.bin" >/dev/null
cp "$here/scenario.json" "$dir/scenario.json"
echo "$dir/scenario.json"
