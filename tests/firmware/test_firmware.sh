#!/usr/bin/env bash
# The interrupt-masking port on a real core under QEMU (tests/firmware/irq_lock.c): build the image with the size
# images' start-up code and vector table and the framework's spinlock (src/core/spinlock.c, out of line in firmware
# builds), run it with semihosting, and pass on its exit status.
# usage: test_firmware.sh cortex-m4|cortex-m4-basepri|rv32 SOURCE_DIR BUILD_DIR
# Exit 77 (ctest: skipped) when the cross compiler or QEMU for the target is not installed.
set -eu
target=$1 src=$2 out=$3/$1
skip() {
	echo "SKIPPED: $*" >&2
	exit 77
}
case $target in
cortex-m4 | cortex-m4-basepri)
	cc=arm-none-eabi-gcc qemu=qemu-system-arm pkg=qemu-system-arm
	arch=(-mcpu=cortex-m4 -mthumb -mfloat-abi=soft -DAMPL_PORT_CORTEX_M)
	[ "$target" = cortex-m4-basepri ] && arch+=(-DAMPL_CORTEX_M_BASEPRI=0x40)
	ld=(-nostartfiles --specs=nano.specs -T "$src/firmware/size/common/cortex-m4.ld")
	extra=() libs=(-lc -lgcc)
	machine=(-M mps2-an386)
	;;
rv32)
	cc=riscv64-unknown-elf-gcc qemu=qemu-system-riscv32 pkg=qemu-system-misc
	arch=(-march=rv32imac -mabi=ilp32 -DAMPL_PORT_RISCV)
	ld=(-nostdlib -nostartfiles -Wl,--no-warn-rwx-segments -T "$src/tests/firmware/rv32-virt.ld")
	extra=("$src/firmware/size/common/rv32_support.c") libs=(-lgcc)
	machine=(-M virt -bios none)
	;;
*)
	echo "test_firmware.sh: unknown target '$target'" >&2
	exit 2
	;;
esac
command -v "$cc" >/dev/null || skip "$cc is not installed (scripts/deps.sh cross)"
command -v "$qemu" >/dev/null || skip "$qemu is not installed (Debian package $pkg; scripts/deps.sh test)"

mkdir -p "$out"
"$cc" "${arch[@]}" -std=c11 -Os -g -ffreestanding -ffunction-sections -fdata-sections -Wall -Wextra -Werror \
	-Wmissing-prototypes -I"$src/include" -I"$src/firmware/size/common" "${ld[@]}" -Wl,--gc-sections \
	"$src/firmware/size/common/startup.c" "$src/tests/firmware/irq_lock.c" "$src/src/core/spinlock.c" "${extra[@]}" "${libs[@]}" \
	-o "$out/irq_lock.elf"
# The program takes milliseconds; the bound only turns a hang (a handler spinning, a wrong vector) into a failure.
bound=120
status=0
timeout "$bound" "$qemu" "${machine[@]}" -nographic -monitor none -serial none \
	-semihosting-config enable=on,target=native -kernel "$out/irq_lock.elf" || status=$?
if [ "$status" -eq 124 ]; then
	echo "FAIL: the image did not finish within $bound s (a handler spinning on the lock, or a wrong vector)" >&2
	exit 1
fi
exit "$status"
