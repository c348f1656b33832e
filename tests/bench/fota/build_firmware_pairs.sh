#!/bin/sh
# Builds the ARM firmware pairs of README's "Delta packages" tables from
# their public sources, so anyone can measure them again with arm_pairs.sh:
#   * MicroPython v1.22.1 v1.22.2 v1.24.0 v1.24.1 for qemu MPS2-AN385
#     (Cortex-M3), and v1.24.0 v1.24.1 for stm32 NUCLEO_G474RE (Cortex-M4F);
#   * Trusted Firmware-A BL31, LTS tags lts-v2.10.29..31 and lts-v2.12.11..12,
#     for PLAT=qemu and PLAT=rpi3 (AArch64).
# Each image's ELF is kept beside it (NAME-VERSION.elf): arm_pairs.sh gives
# it to detools' ARM-aware data formats.
# Each tree is a `git archive` of its tag (submodules at the commits the tag
# pins), built with SOURCE_DATE_EPOCH=1700000000, so the same compilers give
# the same bytes.
#
# Usage: tests/bench/fota/build_firmware_pairs.sh OUT_DIR [micropython] [tfa]
#   (default: both). Needs Debian's gcc-arm-none-eabi,
#   libnewlib-arm-none-eabi, gcc-aarch64-linux-gnu, git, make, python3.
#   Sources are cloned (bare, once) into OUT_DIR/.work from GitHub; point
#   MICROPYTHON_GIT, MICROPYTHON_LIB_GIT, STM32LIB_GIT or TFA_GIT at a local
#   clone or bare repository to build offline. MICROPYTHON_TAGS / TFA_TAGS
#   narrow the tags. Exit 1 on the first build that fails (its log is named).
set -eu

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
out=$(mkdir -p "$1" && cd "$1" && pwd)
shift
what=${*:-micropython tfa}
work=$out/.work
mkdir -p "$work"
github=https://github.com
MICROPYTHON_GIT=${MICROPYTHON_GIT:-$github/micropython/micropython.git}
MICROPYTHON_LIB_GIT=${MICROPYTHON_LIB_GIT:-$github/micropython/micropython-lib.git}
STM32LIB_GIT=${STM32LIB_GIT:-$github/micropython/stm32lib.git}
TFA_GIT=${TFA_GIT:-$github/ARM-software/arm-trusted-firmware.git}
MICROPYTHON_TAGS=${MICROPYTHON_TAGS:-v1.22.1 v1.22.2 v1.24.0 v1.24.1}
TFA_TAGS=${TFA_TAGS:-lts-v2.10.29 lts-v2.10.30 lts-v2.10.31 lts-v2.12.11 lts-v2.12.12}
export SOURCE_DATE_EPOCH=1700000000
jobs=$(nproc)

# A git directory holding `url`'s history: the repository itself when it is
# one here, else a bare clone made once under .work.
git_dir() {
  name=$1 url=$2
  if [ -d "$url" ]; then
    git -C "$url" rev-parse --absolute-git-dir
    return
  fi
  if [ ! -d "$work/$name.git" ]; then
    git clone --quiet --bare "$url" "$work/$name.git" >&2
  fi
  echo "$work/$name.git"
}

# The tree of `rev` at `dest` (once).
tree_at() {
  gitdir=$1 rev=$2 dest=$3
  [ -d "$dest" ] && return 0
  mkdir -p "$dest.part"
  git --git-dir="$gitdir" archive "$rev" | tar x -C "$dest.part"
  mv "$dest.part" "$dest"
}

# The submodule at `path` of `tag`, at the commit the tag pins.
submodule_at() {
  gitdir=$1 tag=$2 path=$3 subgit=$4 src=$5
  commit=$(git --git-dir="$gitdir" ls-tree "$tag" "$path" | awk '{print $3}')
  rmdir "$src/$path" 2>/dev/null || true
  tree_at "$subgit" "$commit" "$src/$path"
}

# Runs make with its output in a log; names the log if it fails.
build() {
  log=$1
  shift
  if ! make -j"$jobs" "$@" >"$log" 2>&1; then
    echo "build_firmware_pairs: failed, see $log" >&2
    exit 1
  fi
}

micropython() {
  mp=$(git_dir micropython "$MICROPYTHON_GIT")
  lib=$(git_dir micropython-lib "$MICROPYTHON_LIB_GIT")
  for tag in $MICROPYTHON_TAGS; do
    src=$work/micropython-$tag
    tree_at "$mp" "$tag" "$src"
    submodule_at "$mp" "$tag" lib/micropython-lib "$lib" "$src"
    build "$work/mpy-cross-$tag.log" -C "$src/mpy-cross"
    case $tag in
      v1.22.*) port=qemu-arm board=mps2-an385 dir=build-mps2-an385 ;;
      *) port=qemu board=MPS2_AN385 dir=build-MPS2_AN385 ;;
    esac
    build "$work/qemu-$tag.log" -C "$src/ports/$port" BOARD=$board BUILD=$dir "$dir/firmware.elf"
    arm-none-eabi-objcopy -O binary "$src/ports/$port/$dir/firmware.elf" \
      "$out/mpy-qemu-mps2an385-$tag.bin"
    cp "$src/ports/$port/$dir/firmware.elf" "$out/mpy-qemu-mps2an385-$tag.elf"
    case $tag in
      v1.24.*)
        stm=$(git_dir stm32lib "$STM32LIB_GIT")
        submodule_at "$mp" "$tag" lib/stm32lib "$stm" "$src"
        build "$work/stm32-$tag.log" -C "$src/ports/stm32" BOARD=NUCLEO_G474RE \
          build-NUCLEO_G474RE/firmware.elf
        arm-none-eabi-objcopy -O binary "$src/ports/stm32/build-NUCLEO_G474RE/firmware.elf" \
          "$out/mpy-stm32-nucleo-g474re-$tag.bin"
        cp "$src/ports/stm32/build-NUCLEO_G474RE/firmware.elf" "$out/mpy-stm32-nucleo-g474re-$tag.elf"
        ;;
    esac
  done
}

tfa() {
  tf=$(git_dir arm-trusted-firmware "$TFA_GIT")
  for tag in $TFA_TAGS; do
    src=$work/tfa-$tag
    tree_at "$tf" "$tag" "$src"
    version=${tag#lts-}               # v2.10.29
    series=$(echo "$version" | sed 's/^v\([0-9]*\)\.\([0-9]*\)\..*/\1\2/')  # 210
    for plat in qemu rpi3; do
      build "$work/tfa-$plat-$tag.log" -C "$src" CROSS_COMPILE=aarch64-linux-gnu- PLAT=$plat \
        BUILD_STRING=fixed bl31
      cp "$src/build/$plat/release/bl31.bin" "$out/tfa$series-bl31-$plat-$version.bin"
      cp "$src/build/$plat/release/bl31/bl31.elf" "$out/tfa$series-bl31-$plat-$version.elf"
    done
  done
}

for part in $what; do
  case $part in
    micropython) micropython ;;
    tfa) tfa ;;
    *) echo "build_firmware_pairs: unknown part '$part' (micropython, tfa)" >&2; exit 2 ;;
  esac
done
ls -l "$out"/*.bin
