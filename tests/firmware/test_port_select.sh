#!/usr/bin/env bash
# A freestanding build of the portable core must name an interrupt-masking port (amplink/port.h), or fail to
# compile: without one, an interrupt that enters amplink while thread code holds a framework spinlock deadlocks.
# Checked with the host compiler in freestanding mode and, where installed, with the Cortex-M and RV32 compilers.
# usage: test_port_select.sh SOURCE_DIR WORK_DIR
set -u
src=$1 work=$2/port_select
mkdir -p "$work"
core="$src/src/core/mailbox.c" # any core source: they all include amplink/port.h
no_port="freestanding build without an interrupt-masking port"
fails=0
printf '#define ampl_irq_lock() my_irq_lock()\n#define ampl_irq_unlock(k) my_irq_unlock(k)\nunsigned my_irq_lock(void);\nvoid my_irq_unlock(unsigned k);\n' \
	>"$work/my_port.h"

# expect_error WHAT MESSAGE CC FLAGS...: compiling the core source must fail with MESSAGE.
expect_error() {
	local what=$1 msg=$2 cc=$3 out
	shift 3
	if out=$("$cc" "$@" -std=c11 -fsyntax-only -I"$src/include" "$core" 2>&1); then
		echo "FAIL $what: compiled; expected the #error \"$msg\""
		fails=$((fails + 1))
	elif ! grep -q "$msg" <<<"$out"; then
		echo "FAIL $what: failed, but not with \"$msg\":"
		echo "$out" | head -5
		fails=$((fails + 1))
	else
		echo "ok   $what: refused ($msg)"
	fi
}

# expect_ok WHAT CC FLAGS...: compiling the core source must succeed.
expect_ok() {
	local what=$1 cc=$2 out
	shift 2
	if out=$("$cc" "$@" -std=c11 -fsyntax-only -Werror -I"$src/include" "$core" 2>&1); then
		echo "ok   $what: compiles"
	else
		echo "FAIL $what: does not compile:"
		echo "$out" | head -5
		fails=$((fails + 1))
	fi
}

cc=${CC:-cc}
expect_ok "host, hosted (the POSIX no-op)" "$cc"
expect_error "host compiler, -ffreestanding, no port" "$no_port" "$cc" -ffreestanding
expect_ok "host compiler, -ffreestanding, AMPL_PORT_HEADER" "$cc" -ffreestanding "-DAMPL_PORT_HEADER=\"$work/my_port.h\""
expect_error "host compiler, AMPL_PORT_CORTEX_M on a non-M target" "is for M-profile ARM targets" "$cc" \
	-ffreestanding -DAMPL_PORT_CORTEX_M
expect_error "host compiler, AMPL_PORT_RISCV on a non-RISC-V target" "is for RISC-V targets" "$cc" -ffreestanding \
	-DAMPL_PORT_RISCV
if command -v arm-none-eabi-gcc >/dev/null; then
	m4=(-mcpu=cortex-m4 -mthumb -mfloat-abi=soft -ffreestanding)
	expect_error "Cortex-M4, no port" "$no_port" arm-none-eabi-gcc "${m4[@]}"
	expect_ok "Cortex-M4, AMPL_PORT_CORTEX_M (PRIMASK)" arm-none-eabi-gcc "${m4[@]}" -DAMPL_PORT_CORTEX_M
	expect_ok "Cortex-M4, AMPL_PORT_CORTEX_M with BASEPRI" arm-none-eabi-gcc "${m4[@]}" -DAMPL_PORT_CORTEX_M \
		-DAMPL_CORTEX_M_BASEPRI=0x40
	expect_ok "Cortex-M0+, AMPL_PORT_CORTEX_M (PRIMASK)" arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb \
		-ffreestanding -DAMPL_PORT_CORTEX_M
	expect_error "Cortex-M0+, BASEPRI (ARMv6-M has none)" "BASEPRI exists on ARMv7-M" arm-none-eabi-gcc \
		-mcpu=cortex-m0plus -mthumb -ffreestanding -DAMPL_PORT_CORTEX_M -DAMPL_CORTEX_M_BASEPRI=0x40
else
	echo "skip Cortex-M checks: arm-none-eabi-gcc is not installed"
fi
if command -v riscv64-unknown-elf-gcc >/dev/null; then
	rv=(-march=rv32imac -mabi=ilp32 -ffreestanding)
	expect_error "RV32, no port" "$no_port" riscv64-unknown-elf-gcc "${rv[@]}"
	expect_ok "RV32, AMPL_PORT_RISCV" riscv64-unknown-elf-gcc "${rv[@]}" -DAMPL_PORT_RISCV
else
	echo "skip RV32 checks: riscv64-unknown-elf-gcc is not installed"
fi
[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all port selection checks passed"
