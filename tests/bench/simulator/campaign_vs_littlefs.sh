#!/bin/sh
# Power-cut campaign speed (issue 15, Benchmarks), all in one run on one core
# (taskset -c 0):
#
#  1. vmodem campaign over examples/cert-backup (AT+QFUPL of a certificate,
#     then AT+QPRTPARA=11; safe mode; every operation of the action, cut
#     torn_partial), cuts branched off one uncut run, and the same cuts each
#     replayed (--replay-cuts), in four cut modes (504 cuts): cuts/s of CPU
#     time (user + sys, less a one-cut run's: the manufacture, setup and
#     reference run), the median of RUNS runs each, and their ratio;
#  2. littlefs's own power-loss test runner, `-P1` (every single power loss
#     of the case: a copy-on-write branch of the block device at each prog
#     and erase, the case re-run on it to the end), NAND-like geometry (2 KB
#     read/program, 128 KB erase block, 64 blocks), on a comparable file
#     workload: test_files_reentrant_write (mount or format, check the file,
#     write it whole, read it back) with a file of LFS_SIZE bytes (default
#     32 KB: a certificate and the backup's copy of the file system are a
#     few dozen pages). cuts/s = its "powerloss" lines / CPU time (user +
#     sys), median of RUNS runs;
#  3. the ratio vmodem branched / littlefs.
#  4. Scaling: -j 2 against -j 1 (wall time, the same tally), and a 4-way
#     sharded run (4 processes at once) merged, against the unsharded one
#     (same totals, wall time).
#
# Usage: tests/bench/simulator/campaign_vs_littlefs.sh LITTLEFS_DIR
#   LITTLEFS_DIR a littlefs source tree (github.com/littlefs-project/littlefs);
#                its runners/test_runner is built there when missing
#                (`make test-runner NO_COV=1`: needs python3 with the toml
#                module, Debian's python3-toml, and a C compiler).
#   $VMODEM      the vmodem binary (default build/release/simulator/vmodem)
#   $RUNS        runs per measurement (default 11)
#   $LFS_SIZE    littlefs file size in bytes (default 32768)
#   $SCENARIO    default examples/cert-backup/scenario-safe.json
set -eu

here=$(cd "$(dirname "$0")/../../.." && pwd)
lfs=${1:?usage: campaign_vs_littlefs.sh LITTLEFS_DIR}
vmodem=${VMODEM:-$here/build/release/simulator/vmodem}
runs=${RUNS:-11}
lfs_size=${LFS_SIZE:-32768}
scenario=${SCENARIO:-$here/examples/cert-backup/scenario-safe.json}
[ -x "$vmodem" ] || { echo "no vmodem binary at $vmodem (set VMODEM)" >&2; exit 2; }
one_core="taskset -c 0"
command -v taskset >/dev/null 2>&1 || one_core=""

runner=$lfs/runners/test_runner
if [ ! -x "$runner" ]; then
  # Debian's python3 has python3-toml; a pyenv shim's python3 may not.
  (cd "$lfs" && PATH=/usr/bin:$PATH make test-runner NO_COV=1 >/dev/null)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# cuts, engine seconds and wall seconds of a --json report
field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r[sys.argv[2]])" "$@"; }

# CPU seconds (user + sys) of a command, one core. From the kernel's
# rusage of the child, to the microsecond (time(1) prints hundredths, too
# coarse for runs of a few dozen milliseconds).
cpu() {  # command...
  # (The difference: a python3 started through a shim such as pyenv's has
  # children of its own counted before the command runs.)
  python3 -c '
import resource, subprocess, sys
def used():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime
before = used()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(f"{used() - before:.6f}")' $one_core "$@"
}

# The scenario with every operation cut in four modes (504 cuts): enough
# cuts that the manufacture and setup (measured alone: a one-cut run, and
# subtracted) are a small part.
sed 's/"modes": \[[^]]*\]/"modes": ["torn_partial", "torn_unstable", "before", "after"]/' \
  "$scenario" >"$work/scenario.json"
cp "$(dirname "$scenario")"/*.pem "$work/" 2>/dev/null || true
echo "vmodem $vmodem, scenario $scenario in four cut modes"
: >"$work/branched"
: >"$work/replayed"
: >"$work/base"
"$vmodem" campaign run "$work/scenario.json" --json "$work/r.json" >/dev/null 2>&1 || true
cuts=$(field "$work/r.json" cuts)
ops=$(field "$work/r.json" operations)
for _ in $(seq "$runs"); do
  cpu "$vmodem" campaign run "$work/scenario.json" --sample 1 --replay-cuts >>"$work/base"
  cpu "$vmodem" campaign run "$work/scenario.json" >>"$work/branched"
  cpu "$vmodem" campaign run "$work/scenario.json" --replay-cuts >>"$work/replayed"
done
base=$(median <"$work/base")
# cuts/s of the cutting alone: the cuts over the CPU time less a one-cut run's
rate() { echo "$cuts $1 $base" | awk '{printf "%.0f", $1 / ($2 - $3)}'; }
branched=$(rate "$(median <"$work/branched")")
replayed=$(rate "$(median <"$work/replayed")")
echo "vmodem campaign, $cuts cuts of $ops operations (one worker, one core; CPU s, median of $runs):"
echo "  one-cut run (manufacture, setup, reference)  $base s   (runs: $(tr '\n' ' ' <"$work/base"))"
echo "  branched  $branched cuts/s   (runs, s: $(tr '\n' ' ' <"$work/branched"))"
echo "  replayed  $replayed cuts/s   (runs, s: $(tr '\n' ' ' <"$work/replayed"))"
echo "  branched / replayed = $(echo "$branched $replayed" | awk '{printf "%.1f", $1 / $2}')x"

geometry="-DREAD_SIZE=2048 -DPROG_SIZE=2048 -DCACHE_SIZE=2048 -DERASE_SIZE=131072 \
-DBLOCK_SIZE=131072 -DERASE_COUNT=64 -DBLOCK_COUNT=64"
workload="-DSIZE=$lfs_size -DCHUNKSIZE=1024 -DINLINE_MAX=-1 -DPOWERLOSS_BEHAVIOR=0"
# One run takes milliseconds: each measurement is LFS_REPEAT runs in a row,
# less as many runs of the case without power loss (-Pnone: the process
# and the one uncut run, as a one-cut vmodem run is subtracted above).
repeat=${LFS_REPEAT:-200}
cat >"$work/lfs_loop.sh" <<LOOP
i=0
while [ "\$i" -lt $repeat ]; do
  "$runner" test_files_reentrant_write -P"\$1" $geometry $workload >"$work/lfs.out" 2>&1 || true
  i=\$((i + 1))
done
LOOP
: >"$work/lfs"
: >"$work/lfs_base"
for _ in $(seq "$runs"); do
  cpu sh "$work/lfs_loop.sh" none >>"$work/lfs_base"
  cpu sh "$work/lfs_loop.sh" 1 >>"$work/lfs"
done
losses=$(grep -c '^powerloss' "$work/lfs.out" || true)
lfs_base=$(median <"$work/lfs_base")
lfs_rate=$(echo "$losses $repeat $(median <"$work/lfs") $lfs_base" |
  awk '{printf "%.0f", $1 * $2 / ($3 - $4)}')
echo "littlefs test_runner -P1, test_files_reentrant_write SIZE=$lfs_size, 2 KB prog / 128 KB block"
echo "  ($losses power losses per run; CPU s of $repeat runs, median of $runs):"
echo "  -Pnone $lfs_base s   (runs: $(tr '\n' ' ' <"$work/lfs_base"))"
echo "  -P1    $(median <"$work/lfs") s   (runs: $(tr '\n' ' ' <"$work/lfs"))"
echo "  $lfs_rate cuts/s"
echo "vmodem branched / littlefs = $(echo "$branched $lfs_rate" | awk '{printf "%.1f", $1 / $2}')x"

# Scaling: wall time of whole runs (manufacture, setup and the uncut action
# included: each worker and each shard pays them).
wall() {  # command...; prints wall seconds
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true
  end=$(date +%s.%N)
  echo "$start $end" | awk '{print $2 - $1}'
}
tally() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['cuts'], r['failed'], sorted(r['tally'].items()))" "$1"; }
: >"$work/j1"
: >"$work/j2"
for _ in $(seq "$runs"); do
  wall "$vmodem" campaign run "$work/scenario.json" -j 1 --json "$work/j1.json" >>"$work/j1"
  wall "$vmodem" campaign run "$work/scenario.json" -j 2 --json "$work/j2.json" >>"$work/j2"
done
j1=$(median <"$work/j1")
j2=$(median <"$work/j2")
same=no
[ "$(tally "$work/j1.json")" = "$(tally "$work/j2.json")" ] && same=yes
echo "-j 1: $j1 s, -j 2: $j2 s wall (median of $runs): speed-up $(echo "$j1 $j2" | awk '{printf "%.2f", $1 / $2}')x; same tally: $same"

shards() {
  for i in 1 2 3 4; do
    "$vmodem" campaign run "$work/scenario.json" --shard "$i/4" --json "$work/s$i.json" \
      >/dev/null 2>&1 &
  done
  wait
  "$vmodem" campaign merge "$work/s1.json" "$work/s2.json" "$work/s3.json" "$work/s4.json" \
    --json "$work/merged.json" >/dev/null 2>&1 || true
}
: >"$work/sh"
for _ in $(seq "$runs"); do
  wall shards >>"$work/sh"
done
sh=$(median <"$work/sh")
same=no
[ "$(tally "$work/merged.json")" = "$(tally "$work/j1.json")" ] && same=yes
echo "4 shards at once + merge: $sh s wall against $j1 s unsharded (median of $runs; $(nproc) cores); same totals: $same"
