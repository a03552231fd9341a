#!/usr/bin/env bash
# Build the portable core freestanding with -Werror for Cortex-M4 and RV32 at -Os, and report its code size.
set -eu
cd "$(dirname "$0")/.."
out=${CROSS_BUILD:-build-cross}
for target in cortex-m4 rv32; do
	cmake -S . -B "$out/$target" -DAMPL_CORE_ONLY=ON -DCMAKE_BUILD_TYPE=MinSizeRel \
		-DCMAKE_C_FLAGS_MINSIZEREL="-Os -DNDEBUG" -DCMAKE_TOOLCHAIN_FILE="cmake/$target.cmake" >/dev/null
	cmake --build "$out/$target" -j "$(nproc)" >/dev/null
	echo "== $target: portable core built freestanding with -Werror (-Os)"
done
echo
echo "Code size of the portable core, Cortex-M4 -Os (bytes; text includes read-only data):"
arm-none-eabi-size -t "$out/cortex-m4/libamplink_core.a" | sed 's/(ex .*)//'
echo
echo "Code size of the portable core, RV32IMAC -Os:"
riscv64-unknown-elf-size -t "$out/rv32/libamplink_core.a" | sed 's/(ex .*)//'
