#!/usr/bin/env bash
# Install the Debian packages a make target needs, or, without root, print the exact command and stop.
# usage: scripts/deps.sh build|test|cross|bench|bench-extra
set -eu

base=(cmake make gcc pkg-config libfdt-dev device-tree-compiler cpp) # cpp: devicetree sources are preprocessed
fuse=(libfuse3-dev fuse3) # amplink mount: user-space channels as files
cross=(gcc-arm-none-eabi libnewlib-arm-none-eabi gcc-riscv64-unknown-elf binutils-arm-none-eabi)
# The firmware tests (tests/firmware) run the interrupt-masking ports on Cortex-M4 (mps2-an386) and RV32 (virt).
qemu=(qemu-system-arm qemu-system-misc)
# The iceoryx rows of amplink bench (test_bench runs them): its C binding, and its daemon RouDi (iox-roudi).
iceoryx=(libiceoryx-binding-c-dev iceoryx)
case "${1:-build}" in
build|demo) pkgs=("${base[@]}" "${fuse[@]}") ;;
# valgrind: the instruction counts (make icount, and test_bench checks them). g++: the C++ header tests.
test) pkgs=("${base[@]}" libcmocka-dev g++ clang libclang-rt-14-dev valgrind "${iceoryx[@]}" "${fuse[@]}" "${cross[@]}" "${qemu[@]}") ;;
cross) pkgs=("${cross[@]}") ;;
bench) pkgs=("${base[@]}" valgrind "${iceoryx[@]}") ;;
# Optional for amplink bench: gnuplot for its figures (--plot).
bench-extra) pkgs=(gnuplot-nox) ;;
*) echo "scripts/deps.sh: unknown target '$1'" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "amplink needs these Debian packages: ${missing[*]}" >&2
	echo "Install them as root, then run make again:" >&2
	echo "  sudo sh -c '$line'" >&2
	exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
