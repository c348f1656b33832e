#!/usr/bin/env bash
# vmodem developer entry point. On a fresh Debian 12 machine, as root:
#
#   ./dev.sh run     install what is missing, build, start the virtual BG95-M3
#   ./dev.sh test    install what is missing, build, run every test (quick tier, ASan+UBSan)
#
# More:  ./dev.sh test full | test release | test tsan | bench | fuzz [SECONDS [TARGET...]]
#        | soak [CYCLES] | lint | deps
# Everything comes from Debian packages; nothing else is downloaded.
set -euo pipefail
cd "$(dirname "$0")"

BUILD_PACKAGES=(g++ lld cmake ninja-build pkg-config git libboost-dev nlohmann-json3-dev libspdlog-dev
  libfmt-dev libcli11-dev libexpected-dev libfuse3-dev fuse3 libcurl4-openssl-dev libzstd-dev
  liblzma-dev libdivsufsort-dev libssl-dev libxxhash-dev libisal-dev libyaml-cpp-dev)
# The real host software the e2e tests point at the module: gammu (SMS),
# gsm0710muxd on a private D-Bus (CMUX), picocom; mtd-utils' ubinize makes
# the UBI images the UBI tests attach.
TEST_PACKAGES=(libgtest-dev libgmock-dev libbenchmark-dev bsdiff xdelta3 zstd python3
  python3-pyftpdlib nginx-light procps gammu gsm0710muxd dbus-daemon dbus-bin picocom mtd-utils)
TOOL_PACKAGES=(clang libclang-rt-14-dev clang-format clang-tidy)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_missing() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# build PRESET [cmake -D options...]
build() {
  local preset=$1
  shift
  local werror=OFF
  [ "${CI:-}" = "true" ] && werror=ON
  say "configuring ($preset)"
  VMODEM_WERROR=$werror cmake --preset "$preset" -DVMODEM_WERROR=$werror "$@" >/dev/null
  say "building ($preset)"
  cmake --build --preset "$preset" -j "$(nproc)"
}

run_tests() {
  local preset=$1 tier=$2
  shift 2
  local label=(-L quick)
  [ "$tier" = "full" ] && label=()
  say "testing ($preset, tier: $tier)"
  ctest --test-dir "build/$preset" --output-on-failure -j "$(nproc)" "${label[@]}" "$@"
}

# The threaded parts under ThreadSanitizer: the PTY ports and the control
# server in-process (their test binaries built with TSan), then the e2e
# suites (ctest label "e2e") against a `vmodem` built with TSan — its io
# thread with FUSE threads, the FOTA download thread, the fault listener; a
# report in the daemon fails the test. The e2e test programs only drive the
# daemon, so the ones the asan build made are reused (VMODEM_BINARY).
TSAN_TARGETS=(vmodem_at_tests control_tests fota_tests)
# Only the suites that run threads: the generator matches and encodes on
# every core (fota's NAND power-cut suites take minutes under TSan, no threads).
declare -A TSAN_FILTERS=([fota_tests]='RoundTrip*:Thumb2*:SparseCodec*')
E2E_TARGETS=(e2e_tests e2e_fota_tests e2e_backup_fuse_tests e2e_campaign_workers_tests)

cmd=${1:-help}
shift || true
case "$cmd" in
  deps)
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${TOOL_PACKAGES[@]}"
    ;;
  run)
    install_missing "${BUILD_PACKAGES[@]}"
    build release -DVMODEM_BUILD_TESTS=OFF -DVMODEM_BUILD_BENCH=OFF
    exec build/release/simulator/vmodem run "$@"
    ;;
  test)
    variant=${1:-quick}
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    case "$variant" in
      # Tests run under ASan+UBSan: one build catches crashes, leaks and
      # undefined behaviour as well as wrong answers.
      quick | full | asan)
        [ "$variant" = "asan" ] && variant=quick
        build asan -DVMODEM_BUILD_TESTS=ON
        run_tests asan "$variant"
        ;;
      release)
        build release -DVMODEM_BUILD_TESTS=ON -DVMODEM_BUILD_BENCH=OFF
        run_tests release quick
        ;;
      tsan)
        install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
        werror=$([ "${CI:-}" = "true" ] && echo ON || echo OFF)
        say "configuring (tsan)"
        VMODEM_WERROR=$werror cmake --preset tsan -DVMODEM_WERROR=$werror -DVMODEM_BUILD_TESTS=ON >/dev/null
        say "building the threaded parts (tsan)"
        cmake --build --preset tsan -j "$(nproc)" --target vmodem "${TSAN_TARGETS[@]}"
        # Built already when `./dev.sh test` ran first (CI); else built now.
        VMODEM_WERROR=$werror cmake --preset asan -DVMODEM_WERROR=$werror -DVMODEM_BUILD_TESTS=ON >/dev/null
        cmake --build --preset asan -j "$(nproc)" --target "${E2E_TARGETS[@]}"
        for t in "${TSAN_TARGETS[@]}"; do
          say "testing $t (tsan)"
          bin=$(find build/tsan/tests -name "$t" -type f -executable | head -n 1)
          "$bin" --gtest_brief=1 --gtest_filter="${TSAN_FILTERS[$t]:-*}"
        done
        say "testing the e2e suites against vmodem built with tsan"
        VMODEM_BINARY=$PWD/build/tsan/simulator/vmodem \
          ctest --test-dir build/asan --output-on-failure -j "$(nproc)" -L e2e
        ;;
      *) echo "usage: ./dev.sh test [quick|full|release|tsan]" >&2; exit 2 ;;
    esac
    ;;
  bench)
    install_missing "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    build release -DVMODEM_BUILD_TESTS=OFF -DVMODEM_BUILD_BENCH=ON
    for b in build/release/tests/bench/*/*_bench; do
      [ -x "$b" ] || continue
      say "$b"
      "$b" --benchmark_min_time=0.2 "$@"
    done
    say "tests/bench/net/socket_bench.py"
    python3 tests/bench/net/socket_bench.py --vmodem build/release/simulator/vmodem
    say "tests/bench/sms/sms_bench.py"
    python3 tests/bench/sms/sms_bench.py --vmodem build/release/simulator/vmodem
    say "tests/bench/startup/startup_bench.py"
    python3 tests/bench/startup/startup_bench.py --vmodem build/release/simulator/vmodem
    ;;
  fuzz)
    # Every libFuzzer target for SECONDS each (default 60; 600 is the full
    # tier). New inputs go to build/fuzz/corpus/<target>/, next to the seeds
    # in tests/fuzz/<lib>/corpus/<target>/ (kept in the repo, replayed by the
    # quick tier); crashes to build/fuzz/artifacts/. A target's dictionary is
    # tests/fuzz/<lib>/<target>.dict when present. Optional: the targets to
    # run, e.g. ./dev.sh fuzz 600 fuzz_module_at fuzz_module_control.
    seconds=${1:-60}
    shift || true
    install_missing "${BUILD_PACKAGES[@]}" "${TOOL_PACKAGES[@]}"
    build fuzz
    mkdir -p build/fuzz/artifacts
    for f in build/fuzz/tests/fuzz/*/*; do
      [ -f "$f" ] && [ -x "$f" ] || continue
      name=$(basename "$f")
      lib=$(basename "$(dirname "$f")")
      seeds=tests/fuzz/$lib/corpus/$name
      [ -d "$seeds" ] || continue # a helper (make_fota_seeds), not a fuzzer
      if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
      corpus=build/fuzz/corpus/$name
      mkdir -p "$corpus"
      dict=()
      [ -f "tests/fuzz/$lib/$name.dict" ] && dict=(-dict="tests/fuzz/$lib/$name.dict")
      say "$name for ${seconds}s (corpus $corpus + $seeds)"
      "$f" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix=build/fuzz/artifacts/ \
        "${dict[@]}" "$corpus" "$seeds"
    done
    ;;
  soak)
    # The kill/restart soak through the real binary (tests/soak/soak.py):
    # ./dev.sh soak [CYCLES] [soak.py options, e.g. --seed 42]
    cycles=${1:-1000}
    shift || true
    install_missing "${BUILD_PACKAGES[@]}" python3
    build release -DVMODEM_BUILD_TESTS=OFF -DVMODEM_BUILD_BENCH=OFF
    exec python3 tests/soak/soak.py --vmodem build/release/simulator/vmodem --cycles "$cycles" "$@"
    ;;
  lint)
    install_missing "${BUILD_PACKAGES[@]}" "${TOOL_PACKAGES[@]}"
    say "clang-format"
    git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror
    say "clang-tidy"
    build debug -DVMODEM_BUILD_BENCH=OFF
    git ls-files 'nand/*.cpp' 'fs/*.cpp' 'at/*.cpp' 'fota/*.cpp' 'simulator/*.cpp' |
      xargs -P "$(nproc)" -n 4 clang-tidy -p build/debug --quiet
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    [ "$cmd" = "help" ] || [ "$cmd" = "-h" ] || [ "$cmd" = "--help" ] || exit 2
    ;;
esac
