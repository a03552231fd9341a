#!/usr/bin/env bash
# RV32 virt's RAM shared with a Linux process (test_rv32_window.c): build the guest, run the host side on it.
# usage: test_rv32_window.sh SOURCE_DIR BUILD_DIR HOST_PROGRAM
# Exit 77 (ctest: skipped) without the RV32 cross compiler or qemu-system-riscv32.
set -eu
src=$1 out=$2/rv32_window host=$3
skip() {
	echo "SKIPPED: $*"
	exit 77
}
command -v riscv64-unknown-elf-gcc >/dev/null || skip "riscv64-unknown-elf-gcc is not installed (scripts/deps.sh cross)"
command -v qemu-system-riscv32 >/dev/null || skip "qemu-system-riscv32 is not installed (Debian package qemu-system-misc)"
mkdir -p "$out"
riscv64-unknown-elf-gcc -march=rv32imac -mabi=ilp32 -std=c11 -Os -ffreestanding -nostdlib -nostartfiles \
	-Wall -Wextra -Werror -Wmissing-prototypes -Wl,--no-warn-rwx-segments -T "$src/tests/firmware/rv32-virt.ld" \
	"$src/tests/firmware/rv32_window.c" -o "$out/rv32_window.elf"
exec "$host" "$out/rv32_window.elf"
