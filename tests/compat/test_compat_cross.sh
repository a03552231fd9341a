#!/usr/bin/env bash
# include/amplink/compat in firmware: the Zephyr ICMsg remote and the seeds' C examples compile
# freestanding with -Werror for Cortex-M4 (arm-none-eabi-gcc) and RV32 (riscv64-unknown-elf-gcc when installed)
# against `amplink dt gen --agent rpu0 --map ...` of the compat board, as the QEMU firmware gets its devicetree;
# K_THREAD_DEFINE, which only the virtual SoC runs, is refused there at compile time with a message saying so.
# usage: test_compat_cross.sh AMPLINK_BINARY SOURCE_DIR      exit 77 (skipped) without arm-none-eabi-gcc
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
amp=$1
src=$2
t=$src/tests/compat
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v arm-none-eabi-gcc >/dev/null || { echo "SKIP: no arm-none-eabi-gcc"; exit 77; }

"$amp" dt gen --agent rpu0 --map 0x3ecf0000=0x21000000,0x1000000 "$t/compat-board.dts" \
	-o "$tmp/devicetree_generated" || { echo "FAIL: amplink dt gen"; exit 1; }
warn=(-std=c11 -Wall -Wextra -Werror -pedantic -ffreestanding -Os -I"$src/include" -I"$src/include/amplink/compat" -I"$tmp")
# The seeds' snippets: as on the host (three warnings off), and printk's %u of a uint32_t, which is unsigned long
# with newlib.
seedwarn=(-Wno-unused-parameter -Wno-unused-variable -Wno-missing-prototypes -Wno-format
	-include "$t/seeds/seed_prelude.h")
compilers=("arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -DAMPL_PORT_CORTEX_M")
command -v riscv64-unknown-elf-gcc >/dev/null &&
	compilers+=("riscv64-unknown-elf-gcc -march=rv32imac -mabi=ilp32 -DAMPL_PORT_RISCV")
for cc in "${compilers[@]}"; do
	read -r -a c <<<"$cc"
	# The sample uses <string.h>: skipped with a compiler that has no C library headers (riscv64-unknown-elf-gcc
	# without newlib).
	if echo '#include <string.h>' | "${c[@]}" -E -x c - >/dev/null 2>&1; then
		"${c[@]}" "${warn[@]}" -c "$t/samples/zephyr_ipc_remote/main.c" -o "$tmp/x.o" && ok ||
			bad "${c[0]}: samples/zephyr_ipc_remote/main.c"
	else
		echo "${c[0]}: no <string.h>: samples/zephyr_ipc_remote/main.c not compiled"
	fi
	for f in seeds/ipc_service_usage.c seeds/shared_memory.c seeds/ipm_basic_operation.c seeds/ipm_usage.c; do
		"${c[@]}" "${warn[@]}" "${seedwarn[@]}" -c "$t/$f" -o "$tmp/x.o" && ok || bad "${c[0]}: $f"
	done
	out=$("${c[@]}" "${warn[@]}" -c "$t/samples/zephyr_ipm_echo/main.c" -o "$tmp/x.o" 2>&1)
	if [ $? -ne 0 ] && grep -q "K_THREAD_DEFINE is not covered in firmware" <<<"$out"; then
		ok
	else
		bad "${c[0]}: K_THREAD_DEFINE was not refused with its message: $out"
	fi
done
summary test_compat_cross
