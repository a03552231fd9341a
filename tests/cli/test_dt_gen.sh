#!/usr/bin/env bash
# `amplink dt gen`: the generated C compiles with the host compiler and, -Werror and freestanding, with
# arm-none-eabi-gcc (and riscv64-unknown-elf-gcc when installed); --map moves the agent's addresses and nothing
# else; bad input is refused with a message naming the file, the node and the property, and leaves no output.
# (tests/unit/test_dt_gen.c compares every generated value with the run-time loader's.)
# usage: test_dt_gen.sh AMPLINK_BINARY SOURCE_DIR      exit 77 (skipped) without arm-none-eabi-gcc
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
amp=$1
src=$2
build=$(cd "$(dirname "$amp")" && pwd)
dts=$src/dts/zynqmp-apu-rpu0.dts
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! command -v arm-none-eabi-gcc >/dev/null; then
	echo "SKIP: arm-none-eabi-gcc is not installed (make deps installs it): the generated code cannot be cross-built"
	exit 77
fi

warn=(-std=c11 -Wall -Wextra -Werror -pedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes)
mkdir -p "$tmp/rpu0"
"$amp" dt gen --agent rpu0 "$dts" -o "$tmp/rpu0/board_gen" || bad "dt gen rpu0 failed"
[ -s "$tmp/rpu0/board_gen.h" ] && [ -s "$tmp/rpu0/board_gen.c" ] && ok || bad "no board_gen.h / board_gen.c"
grep -q '#include "board_gen.h"' "$tmp/rpu0/board_gen.c" && ok || bad "board_gen.c does not include board_gen.h"

# compile: host, Cortex-M4, RV32 (freestanding, -Werror)
cc "${warn[@]}" -I"$src/include" -c "$tmp/rpu0/board_gen.c" -o "$tmp/host.o" && ok || bad "host compile"
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -DAMPL_PORT_CORTEX_M -ffreestanding -Os "${warn[@]}" -I"$src/include" \
	-c "$tmp/rpu0/board_gen.c" -o "$tmp/m4.o" && ok || bad "arm-none-eabi-gcc -Werror compile"
if command -v riscv64-unknown-elf-gcc >/dev/null; then
	riscv64-unknown-elf-gcc -march=rv32imac -mabi=ilp32 -DAMPL_PORT_RISCV -ffreestanding -Os "${warn[@]}" \
		-I"$src/include" -c "$tmp/rpu0/board_gen.c" -o "$tmp/rv32.o" && ok || bad "riscv64-unknown-elf-gcc compile"
fi
# The instance's channels: its consumer with the registry (the host build above), its IPI destination's own channels
# without it (a firmware port's default: the Cortex-M4 compile above); the registry can be selected in firmware too
ipi=DT_N_S_amba_S_rpu0_mailbox_S_mailbox_ff990080_MBOX
ipi_db=DT_N_S_amba_S_rpu0_mailbox_S_mailbox_ff990080_IPC_DOORBELL
grep -qF "#define DT_N_S_ipc_icmsg_rpu0_MBOXES AMPL_BOARD_MBOXES(&DT_N_S_ipc_icmsg_rpu0_MBOX_CONSUMER, &$ipi.chans[0], &$ipi.chans[1], &$ipi_db)" \
	"$tmp/rpu0/board_gen.c" && ok || bad "the ICMsg instance's configuration does not name its IPI destination's channels"
# Without the mailbox (AMPL_IPC_LINK_MBOX=0) the instance's configuration names the destination's doorbell function,
# with it the destination's channels (the relocations of the configuration's own section)
cfg_refs() {
	arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -DAMPL_PORT_CORTEX_M "$@" -ffreestanding -Os -fdata-sections \
		"${warn[@]}" -I"$src/include" -c "$tmp/rpu0/board_gen.c" -o "$tmp/refs.o" &&
		arm-none-eabi-objdump -r -j .rodata.DT_N_S_ipc_icmsg_rpu0_CONFIG "$tmp/refs.o" | awk 'NR > 5 { print $3 }'
}
case "$(cfg_refs -DAMPL_IPC_LINK_MBOX=0 | tr '\n' ' ')" in
*"$ipi_db"*) case "$(cfg_refs | tr '\n' ' ')" in
	*"${ipi}"[!_]* | *"${ipi} "*) ok ;;
	*) bad "with the mailbox the ICMsg configuration does not name the destination's channels: $(cfg_refs | tr '\n' ' ')" ;;
	esac ;;
*) bad "AMPL_IPC_LINK_MBOX=0: the ICMsg configuration does not name $ipi_db: $(cfg_refs -DAMPL_IPC_LINK_MBOX=0 | tr '\n' ' ')" ;;
esac
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -DAMPL_PORT_CORTEX_M -DAMPL_MBOX_REGISTRY=1 -ffreestanding -Os "${warn[@]}" \
	-I"$src/include" -c "$tmp/rpu0/board_gen.c" -o "$tmp/m4-registry.o" && ok || bad "Cortex-M4 compile with the registry"
# With AMPL_XLNX_IPI_DIRECT each IPI destination's IPM device is the register-level driver's, on the same constant
# settings: the object refers to that driver and not to the framework's IPM device
arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -DAMPL_PORT_CORTEX_M -DAMPL_XLNX_IPI_DIRECT=1 -ffreestanding -Os "${warn[@]}" \
	-I"$src/include" -c "$tmp/rpu0/board_gen.c" -o "$tmp/m4-direct.o" && ok || bad "Cortex-M4 compile, register-level IPM"
undef() { arm-none-eabi-nm -u "$1" | awk '{ print $2 }'; }
undef "$tmp/m4-direct.o" | grep -qx xlnx_ipi_direct_api && undef "$tmp/m4-direct.o" | grep -qx xlnx_ipi_direct_init &&
	! undef "$tmp/m4-direct.o" | grep -qx xlnx_ipi_ipm_init && ok ||
	bad "AMPL_XLNX_IPI_DIRECT: the devices are not the register-level driver's ($(undef "$tmp/m4-direct.o" | tr '\n' ' '))"
undef "$tmp/m4.o" | grep -qx xlnx_ipi_ipm_init && ! undef "$tmp/m4.o" | grep -qx xlnx_ipi_direct_api && ok ||
	bad "the default build's devices are not the framework's IPM devices ($(undef "$tmp/m4.o" | tr '\n' ' '))"
# -o with .h names the same pair
mkdir -p "$tmp/h"
"$amp" dt gen --agent rpu0 "$dts" -o "$tmp/h/x.h" && [ -s "$tmp/h/x.h" ] && [ -s "$tmp/h/x.c" ] && ok ||
	bad "-o x.h does not write x.h and x.c"
# another agent: the APU's instances, none of RPU0's
mkdir -p "$tmp/apu"
"$amp" dt gen --agent apu "$dts" -o "$tmp/apu/board_gen" || bad "dt gen apu failed"
grep -q "DT_N_NODELABEL_ipc_icmsg_apu " "$tmp/apu/board_gen.h" && grep -q "DT_N_NODELABEL_ipc_multi_apu " \
	"$tmp/apu/board_gen.h" && ! grep -q "DT_N_NODELABEL_ipc_icmsg_rpu0 " "$tmp/apu/board_gen.h" && ok ||
	bad "the APU's generated code does not hold exactly the APU's instances"
cc "${warn[@]}" -I"$src/include" -c "$tmp/apu/board_gen.c" -o "$tmp/apu.o" && ok || bad "host compile (apu)"

# Messaging Units (their binding's C): an enabled unit's values, none of a disabled one's; the result compiles
{ cat "$dts"; cat <<'EOF'
/ {
	aliases { ipm0 = &mu_a; };
	mu_a: mailbox@40028000 { compatible = "nxp,imx-mu"; reg = <0x0 0x40028000 0x0 0x4000>; interrupts = <0 33 4>;
		fsl,mu-side-b; };
	mu_off: mailbox@4002c000 { compatible = "fsl,imx6sx-mu"; reg = <0x0 0x4002c000 0x0 0x4000>; status = "disabled"; };
};
EOF
} >"$tmp/mu.dts"
mkdir -p "$tmp/mu"
"$amp" dt gen --agent rpu0 "$tmp/mu.dts" -o "$tmp/mu/board_gen" || bad "dt gen with Messaging Units failed"
mu=DT_N_S_mailbox_40028000
for want in "#define DT_N_NODELABEL_mu_a $mu" "#define ${mu}_REG_IDX_0_VAL_ADDRESS 0x40028000u" "#define ${mu}_IRQN 0x21u" \
	"#define ${mu}_P_fsl_mu_side_b 0x1u" '#define '"${mu}"'_ALIAS "ipm0"' "extern const struct ampl_dt_mu ${mu}_NODE;"; do
	grep -qF "$want" "$tmp/mu/board_gen.h" && ok || bad "Messaging Unit: no '$want' in board_gen.h"
done
grep -qF '.alias = "ipm0", .irq = 33, .okay = true, .side_b = true,' "$tmp/mu/board_gen.c" && ok ||
	bad "Messaging Unit: its description is not in board_gen.c"
! grep -q "4002c000" "$tmp/mu/board_gen.h" "$tmp/mu/board_gen.c" && ok || bad "a disabled Messaging Unit was generated"
cc "${warn[@]}" -I"$src/include" -c "$tmp/mu/board_gen.c" -o "$tmp/mu.o" && ok || bad "host compile (Messaging Units)"

# --map: the shared RAM seen at 0x21000000 (QEMU's mps2-an386 window); the resource table keeps the SoC's address
mkdir -p "$tmp/map"
"$amp" dt gen --agent rpu0 --map 0x3ed00000=0x21000000,0x100000 --rx-buf-max 512 "$dts" -o "$tmp/map/board_gen" ||
	bad "dt gen --map failed"
cat >"$tmp/map/main.c" <<'EOF'
#include <stdio.h>
#include "board_gen.h"
int main(void)
{
	const struct ipc_icmsg_config *ic = DEVICE_DT_GET(DT_NODELABEL(ipc_icmsg_rpu0))->config;
	const struct ipc_rpmsg_config *rc = DEVICE_DT_GET(DT_NODELABEL(ipc_rpmsg_rpu0))->config;
	printf("%llx %llx %p %p %u %p %x %llx %llx\n", (unsigned long long)DT_REG_ADDR(DT_NODELABEL(icmsg_rpu0_tx)),
	       (unsigned long long)DT_REG_SIZE(DT_NODELABEL(icmsg_rpu0_tx)), ic->icmsg.tx_mem, ic->icmsg.rx_mem,
	       (unsigned)ic->icmsg.rx_buf_size, rc->shm, (unsigned)rc->da_base,
	       (unsigned long long)AMPL_DT_NODE(DT_NODELABEL(icmsg_rpu0_tx))->addr,
	       (unsigned long long)DT_REG_ADDR_BY_NAME(DT_NODELABEL(ipi_rpu0_apu), local_request_region));
	return 0;
}
EOF
# shellcheck disable=SC2086 # AMPL_SAN_FLAGS: the library's sanitizer flags, if any (word-split on purpose)
if "${CC:-cc}" -std=c11 -Wall -Werror ${AMPL_SAN_FLAGS:-} -I"$src/include" -I"$tmp/map" "$tmp/map/main.c" \
	"$tmp/map/board_gen.c" "$build/libamplink.a" -lfdt -lpthread -o "$tmp/map/main"; then
	got=$("$tmp/map/main")
	want="21048000 8000 0x21048000 0x21040000 512 0x21080000 3ed80000 3ed48000 ff990080"
	[ "$got" = "$want" ] && ok || bad "--map: got '$got', want '$want'"
else
	bad "--map: the program does not build"
fi

# bad input: refused, the file, node and property named, nothing written
awk '/ipc_icmsg_rpu0: ipc-icmsg-rpu0/ { f = 1 } f && /dcache-alignment/ { sub(/<64>/, "<3>"); f = 0 } { print }' \
	"$dts" >"$tmp/bad-align.dts"
expect "bad property" 1 "bad-align.dts: /ipc-icmsg-rpu0: dcache-alignment: 3: must be 0 or a power of two" -- \
	"$amp" dt gen --agent rpu0 "$tmp/bad-align.dts" -o "$tmp/bad1"
[ ! -e "$tmp/bad1.h" ] && [ ! -e "$tmp/bad1.c" ] && ok || bad "a refused devicetree left output behind"
expect "rx-region misaligned by --map" 1 \
	"zynqmp-apu-rpu0.dts: /ipc-icmsg-rpu0: rx-region: 0x3ed40000\+0x8000 is not a valid ring for dcache-alignment 64 at this agent's address 0x21000004" -- \
	"$amp" dt gen --agent rpu0 --map 0x3ed40000=0x21000004,0x10000 "$dts" -o "$tmp/bad2"
[ ! -e "$tmp/bad2.h" ] && [ ! -e "$tmp/bad2.c" ] && ok || bad "a refused generation left output behind"
sed 's/shared_ram: shared_ram@3ed00000/shared_ram: icmsg-apu-tx@3ed40000/' "$dts" >"$tmp/collide.dts"
expect "two nodes, one identifier" 1 \
	"/reserved-memory/icmsg_apu_tx@3ed40000: its C identifier DT_N_S_reserved_memory_S_icmsg_apu_tx_3ed40000 is also /reserved-memory/icmsg-apu-tx@3ed40000's" -- \
	"$amp" dt gen --agent rpu0 "$tmp/collide.dts" -o "$tmp/bad3"
expect "unknown agent" 1 "--agent rpu9: no such agent on a zynqmp SoC \(agents: apu, rpu0" -- \
	"$amp" dt gen --agent rpu9 "$dts" -o "$tmp/bad4"
expect "bad --map" 2 "--map '0x3ed4=zz': expected PHYS=LOCAL" -- \
	"$amp" dt gen --agent rpu0 --map 0x3ed4=zz "$dts" -o "$tmp/bad5"
expect "small --rx-buf-max" 2 "--rx-buf-max '3': expected" -- \
	"$amp" dt gen --agent rpu0 --rx-buf-max 3 "$dts" -o "$tmp/bad6"
expect "no agent" 2 "expected --agent NAME" -- "$amp" dt gen "$dts" -o "$tmp/bad7"
expect "help" 0 "usage: amplink dt gen" -- "$amp" dt gen --help

summary test_dt_gen
