#!/usr/bin/env bash
# The amplink command's behaviour and error paths, through the real binary and real processes.
# usage: test_cli.sh AMPLINK_BINARY SOURCE_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
amp=$1
src=$2
soc="clitest-$$"
tmp=$(mktemp -d)
cleanup() {
	"$amp" soc destroy "$soc" >/dev/null 2>&1
	"$amp" soc destroy "$soc-v" >/dev/null 2>&1
	"$amp" soc destroy "$soc-demo" >/dev/null 2>&1
	"$amp" soc destroy "$soc-n" >/dev/null 2>&1
	"$amp" soc destroy "$soc-bk" >/dev/null 2>&1
	"$amp" soc destroy "$soc-fw" >/dev/null 2>&1
	"$amp" soc destroy "$soc-dead" >/dev/null 2>&1
	rm -f "/dev/shm/amplink-clitest-backing.$$"
	rm -rf "$tmp"
	jobs -p | xargs -r kill 2>/dev/null
}
trap cleanup EXIT

# expect_none NAME WANT_STATUS PATTERN -- COMMAND...: run, check the exit status and that no line of stdout+stderr
# matches PATTERN.
expect_none() {
	local name=$1 want=$2 pattern=$3
	shift 4
	local out status
	out=$("$@" 2>&1)
	status=$?
	if [ "$status" -eq "$want" ] && ! grep -Eq -- "$pattern" <<<"$out"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $name: status $status (want $want), or output matched /$pattern/:"
		sed 's/^/    /' <<<"$out"
	fi
}

# wait_attached SOC AGENT PID: until `soc show` names PID as AGENT's process (bounded: 10 s).
wait_attached() {
	for _ in $(seq 100); do
		"$amp" soc show "$1" 2>/dev/null | grep -Eq "^$2 .* $3\$" && return 0
		sleep 0.1
	done
	return 1
}

# --help everywhere
for c in "" "soc" "soc create" "soc destroy" "soc list" "soc show" "soc buffers" "soc faults" "send" "recv" "dt" "dt check" "demo"; do
	# shellcheck disable=SC2086
	expect "help: $c" 0 "usage: amplink" -- "$amp" $c --help
done
expect "no command" 2 "usage: amplink" -- "$amp"
expect "unknown command" 2 "unknown command 'frobnicate'" -- "$amp" frobnicate
expect "unknown soc sub-command" 2 "unknown sub-command 'explode'" -- "$amp" soc explode

# --version: the project's version, from the one place it is set (CMakeLists.txt's project()).
ver=$(sed -n 's/^project(amplink VERSION \([0-9.]*\) .*/\1/p' "$src/CMakeLists.txt")
holds "project version found" test -n "$ver"
expect "--version" 0 "^amplink ${ver//./\\.}$" -- "$amp" --version
# A mistyped command gets the nearest one; a word near none gets none.
expect "did you mean: command" 2 "unknown command 'sned'; did you mean 'send'\?" -- "$amp" sned
expect "did you mean: dropped letter" 2 "did you mean 'bench'\?" -- "$amp" bnch
expect "did you mean: soc" 2 "unknown sub-command 'shwo'; did you mean 'show'\?.*create, destroy, list, show" -- \
	"$amp" soc shwo
expect "did you mean: dt" 2 "unknown sub-command 'chek'; did you mean 'check'\?" -- "$amp" dt chek
expect "did you mean: agent" 2 "unknown sub-command 'ofline'; did you mean 'offline'\?" -- "$amp" agent ofline
expect_none "did you mean: nothing near" 2 "did you mean" -- "$amp" frobnicate
# bench --help names every row the benchmark prints (the names in its source: latency, throughput, firmware).
bench_help=$("$amp" bench --help 2>&1)
rows=0
while IFS= read -r row; do
	rows=$((rows + 1))
	holds "bench --help lists '$row'" grep -qF -- "$row" <<<"$bench_help"
done < <(
	grep -ohE '(bench_rtt|bench_icmsg|bench_iceoryx|summarize)\("[^"]+"' "$src/bench/bench_lib.c" | sed -E 's/^[a-z_]+\("//; s/"$//' | sort -u
	sed -n '/^} lat_rows\[\] = {/,/^};/p' "$src/bench/bench_lib.c" | grep -oE '^	\{ "[^"]+"' | sed -E 's/^	\{ "//; s/"$//'
	grep -ohE '\[AMPL_TP_[A-Z_]+\] = "[^"]+"' "$src/bench/bench_lib.c" | sed -E 's/.*= "//; s/"$//'
	grep -ohE '^	\{ "[^"]+", "[a-z_]+\.elf"' "$src/bench/bench_fw.c" | sed -E 's/^	\{ "//; s/", .*//'
)
holds "bench rows found in the source ($rows)" test "$rows" -ge 30
# Every profile (src/soc/profile.c) in the help of the commands that take --profile.
for p in $(sed -n 's/^	\.name = "\(.*\)",$/\1/p' "$src/src/soc/profile.c"); do
	expect "dt check --help: profile $p" 0 "--profile [a-z|]*\b$p\b" -- "$amp" dt check --help
	expect "soc create --help: profile $p" 0 "--profile [a-z|]*\b$p\b" -- "$amp" soc create --help
done

# SoC lifecycle
expect "create" 0 "created SoC $soc \(zynqmp" -- "$amp" soc create "$soc"
expect "create twice" 1 "already exists" -- "$amp" soc create "$soc"
expect "create bad name" 1 "invalid SoC name" -- "$amp" soc create "../evil"
expect "create bad profile" 2 "unknown profile 'pentium'" -- "$amp" soc create --profile pentium x
expect "list" 0 "$soc +zynqmp" -- "$amp" soc list
expect "show" 0 "rpu0 +1 +8 0xff310000 +0x00000000 0x00000000 0x00000000 0x0f0f0301" -- "$amp" soc show "$soc"
expect "show missing" 1 "no SoC named 'nosuch-$$'" -- "$amp" soc show "nosuch-$$"
expect "faults none" 0 "rpu0 +0 +-" -- "$amp" soc faults "$soc"
expect "faults usage" 2 "expected one NAME" -- "$amp" soc faults
# IPI buffer pairs: 64 on ZynqMP; 16 = apu -> rpu0. A reserved pair refuses the channels that need it.
expect "buffers all" 0 "16 +apu +rpu0 +0xff990400 0xff990420 free" -- "$amp" soc buffers --all "$soc"
expect "buffers reserve" 0 "buffer 16 reserved" -- "$amp" soc buffers --reserve 16 "$soc"
expect "buffers list" 0 "16 +apu +rpu0 .*reserved" -- "$amp" soc buffers "$soc"
expect "buffers reserve twice" 1 "is reserved already" -- "$amp" soc buffers --reserve 16 "$soc"
expect "send over a reserved buffer" 2 "is reserved: channel" -- "$amp" send --soc "$soc" --as apu --to rpu0 hi
expect "buffers release" 0 "buffer 16 released" -- "$amp" soc buffers --release 16 "$soc"
expect "buffers release twice" 1 "is not reserved" -- "$amp" soc buffers --release 16 "$soc"
expect "buffers bad number" 1 "no IPI buffer 64" -- "$amp" soc buffers --reserve 64 "$soc"
expect "destroy missing" 1 "no SoC named 'nosuch-$$'" -- "$amp" soc destroy "nosuch-$$"

# send / recv error paths
expect "send missing soc" 1 "no SoC named 'nosuch-$$'" -- "$amp" send --soc "nosuch-$$" --as apu --to rpu0 hi
expect "send unknown agent" 2 "unknown agent 'gpu'.*agents: apu, rpu0" -- "$amp" send --soc "$soc" --as gpu --to rpu0 hi
expect "send unknown target" 2 "unknown agent 'dsp'" -- "$amp" send --soc "$soc" --as apu --to dsp hi
expect "send to self" 2 "another agent" -- "$amp" send --soc "$soc" --as apu --to apu hi
expect "send oversize" 1 "message is 33 bytes; the apu -> rpu0 channel carries at most 32" -- \
	"$amp" send --soc "$soc" --as apu --to rpu0 "$(printf 'x%.0s' $(seq 33))"
expect "send bad id" 1 "--id 5 is invalid" -- "$amp" send --soc "$soc" --as apu --to rpu0 --id 5 hi
expect "send bad hex" 2 "not hex bytes" -- "$amp" send --soc "$soc" --as apu --to rpu0 --hex "zz"
expect "send missing args" 2 "--as AGENT and --to AGENT are required" -- "$amp" send --soc "$soc" hi
expect "send bad mode" 2 "--mode: 'fast'" -- "$amp" send --soc "$soc" --as apu --to rpu0 --mode fast hi
expect "recv missing --as" 2 "--as AGENT is required" -- "$amp" recv --soc "$soc"
expect "recv bad --from" 2 "--from: 'apu' is not another agent" -- "$amp" recv --soc "$soc" --as apu --from apu
expect "recv timeout" 1 "timed out after 50 ms: received 0 of 1" -- "$amp" recv --soc "$soc" --as rpu1 --timeout 50

# A request nobody consumes: the sender is told, and it stays pending (visible in soc show).
expect "send no receiver" 1 "rpu1 did not acknowledge within 100 ms" -- \
	"$amp" send --soc "$soc" --as apu --to rpu1 --wait --timeout 100 lost?
expect "pending shown" 0 "apu -> rpu1" -- "$amp" soc show "$soc"
expect "busy while pending" 1 "rpu1 has not consumed the previous request from apu" -- \
	"$amp" send --soc "$soc" --as apu --to rpu1 again
# ...and is delivered, not lost, once a receiver comes up.
expect "pending delivered" 0 "^apu: lost\?$" -- "$amp" recv --soc "$soc" --as rpu1 --timeout 5000

# A real exchange between two processes, with a response.
"$amp" recv --soc "$soc" --as rpu0 --count 2 --timeout 10000 --reply pong >"$tmp/recv.out" 2>&1 &
rpid=$!
sleep 0.3
expect "send wait" 0 "^response: pong$" -- "$amp" send --soc "$soc" --as apu --to rpu0 --wait hello
expect "response" 0 "response: 70 6f 6e 67 00 00" -- "$amp" send --soc "$soc" --as apu --to rpu0 --wait --hex "de ad be ef"
wait "$rpid"
rstatus=$?
expect "recv exit" 0 "" -- test "$rstatus" -eq 0
expect "recv text" 0 "^apu: hello$" -- cat "$tmp/recv.out"
expect "recv hex" 0 "^apu: de ad be ef$" -- cat "$tmp/recv.out"

# send --wait to a receiver that writes no response: acknowledged, and no empty "response:" line.
"$amp" recv --soc "$soc" --as rpu0 --count 1 --timeout 10000 >"$tmp/noreply.out" 2>&1 &
rpid=$!
holds "recv attached" wait_attached "$soc" rpu0 "$rpid"
# (exit status 0: acknowledged)
expect_none "send wait, no response: no response line" 0 "response" -- \
	"$amp" send --soc "$soc" --as apu --to rpu0 --wait hello
wait "$rpid"
expect "recv of no response" 0 "^apu: hello$" -- cat "$tmp/noreply.out"

# soc show marks an agent whose process died without detaching.
expect "create for a dead agent" 0 "created SoC $soc-dead" -- "$amp" soc create "$soc-dead"
"$amp" recv --soc "$soc-dead" --as rpu1 --timeout 30000 >/dev/null 2>&1 &
dpid=$!
holds "recv attached as rpu1" wait_attached "$soc-dead" rpu1 "$dpid"
expect_none "show: alive is not dead" 0 "\\(dead\\)" -- "$amp" soc show "$soc-dead"
kill -KILL "$dpid"
wait "$dpid" 2>/dev/null
expect "show: dead agent marked" 0 "^rpu1 .* $dpid \(dead\)$" -- "$amp" soc show "$soc-dead"
expect "destroy for a dead agent" 0 "destroyed SoC $soc-dead" -- "$amp" soc destroy "$soc-dead"

# Versal SoC with a bufferless agent: doorbells only.
expect "create versal" 0 "created SoC $soc-v \(versal" -- "$amp" soc create --profile versal "$soc-v"
expect "doorbell data" 1 "carries at most 0" -- "$amp" send --soc "$soc-v" --as apu --to ipi6 x
"$amp" recv --soc "$soc-v" --as ipi6 --timeout 10000 >"$tmp/db.out" 2>&1 &
rpid=$!
sleep 0.3
expect "doorbell send" 0 "sent 0 bytes, acknowledged" -- "$amp" send --soc "$soc-v" --as apu --to ipi6 --wait ""
wait "$rpid"
expect "doorbell recv" 0 "^apu: \(doorbell\)$" -- cat "$tmp/db.out"

# Acceptance filter on the receiver: a request with id 0x41 ('A') is acknowledged unread, the next one printed.
expect "filter bad action" 2 "does not start with accept" -- "$amp" recv --soc "$soc-v" --as rpu0 --filter drop
expect "filter bad field" 2 "unknown field 'len=3'" -- "$amp" recv --soc "$soc-v" --as rpu0 --filter accept,len=3
"$amp" recv --soc "$soc-v" --as rpu0 --timeout 10000 --filter refuse-ack,from=apu,id=0x41/0xff >"$tmp/flt.out" 2>&1 &
rpid=$!
sleep 0.3
expect "filter refused send" 0 "sent 1 bytes, acknowledged" -- "$amp" send --soc "$soc-v" --as apu --to rpu0 --wait A
expect "filter accepted send" 0 "sent 1 bytes, acknowledged" -- "$amp" send --soc "$soc-v" --as apu --to rpu0 --wait B
wait "$rpid"
expect "filter recv" 0 "^apu: B$" -- cat "$tmp/flt.out"
expect "filter counts" 0 "^filter: accepted 1, refused 1 \(0 by the default\), released 0$" -- cat "$tmp/flt.out"

# Devicetree
expect "dt seed zynqmp" 0 "pmu1" -- "$amp" dt check "$src/dts/seeds/zynqmp-ipi.dts"
expect "dt seed versal" 0 "versal" -- "$amp" dt check "$src/dts/seeds/versal-ipi.dts"
expect "dt seed versal strict" 1 "warning" -- "$amp" dt check --strict "$src/dts/seeds/versal-ipi.dts"
expect "dt seed mu" 0 "ipm0" -- "$amp" dt check "$src/dts/seeds/imx-mu.dts"
expect "dt seed shared_ram" 0 "shared_ram" -- "$amp" dt check "$src/dts/seeds/shared-ram.dts"
expect "dt default board" 0 "rpu0" -- "$amp" dt check "$src/dts/zynqmp-apu-rpu0.dts"
expect "dt user agent" 0 "^user  /icmsg-m4  &icmsg_m4  agent m4$" -- \
	"$amp" dt check -I "$src/dts" "$src/tests/integration/ctrl_loop/imx-icmsg-board.dts"
sed 's/xlnx,ipi-id = <4>;/xlnx,ipi-id = <12>;/' "$src/dts/seeds/zynqmp-ipi.dts" >"$tmp/bad.dts"
expect "dt bad id" 1 "bad.dts: /.*mailbox@ff9905c0: xlnx,ipi-id:" -- "$amp" dt check "$tmp/bad.dts"
expect "dt missing file" 1 "nosuch.dts" -- "$amp" dt check "$tmp/nosuch.dts"
printf '/dts-v1/;\n/ { oops' >"$tmp/syntax.dts"
expect "dt syntax" 1 "syntax.dts" -- "$amp" dt check "$tmp/syntax.dts"
expect "create from bad dts" 1 "bad.dts" -- "$amp" soc create --dts "$tmp/bad.dts" "$soc-bad"

# Devicetree files as Linux and Zephyr write them (through the C preprocessor, -I DIR), bounded input, and one
# memory-map rule for dt check and soc create.
expect "dt help lists every profile" 0 "--profile zynqmp\|versal\|imx" -- "$amp" dt check --help
expect "dt help -I" 0 "-I, --include DIR" -- "$amp" dt check --help
expect "soc create help -I" 0 "--dts FILE \[-I DIR\]" -- "$amp" soc create --help
expect "dt seed zynqmp GIC macros" 0 "irq 29" -- "$amp" dt check "$src/dts/seeds/zynqmp-ipi.dts"
mkdir -p "$tmp/cpp/inc/board" "$tmp/cpp/dts"
printf '#define SHM_BASE 0x3ed00000\n#define SHM_SIZE 0x8000\n' >"$tmp/cpp/inc/board/shm.h"
cat >"$tmp/cpp/dts/board.dts" <<'DTS'
/dts-v1/;
#include <board/shm.h>
#include <dt-bindings/interrupt-controller/arm-gic.h>

/ {
	#address-cells = <1>;
	#size-cells = <1>;
	flags = <IRQ_TYPE_LEVEL_HIGH>;
	reserved-memory {
		#address-cells = <1>;
		#size-cells = <1>;
		ranges;
		shm: shm@3ed00000 {
			reg = <SHM_BASE SHM_SIZE>;
		};
	};
};
DTS
expect "dt -I" 0 "mem +0x3ed00000 size 0x8000 +/reserved-memory/shm@3ed00000" -- \
	"$amp" dt check -I "$tmp/cpp/inc" "$tmp/cpp/dts/board.dts"
expect "dt --include" 0 "shm@3ed00000" -- "$amp" dt check --include "$tmp/cpp/inc" "$tmp/cpp/dts/board.dts"
expect "dt without -I" 1 "board.dts: cpp failed .*board.dts:2:10: fatal error: board/shm.h: No such file" -- \
	"$amp" dt check "$tmp/cpp/dts/board.dts"
printf '/dts-v1/;\n#include <board/shm.h>\n\n/ {\n\tx = <SHM_BASE>\n};\n' >"$tmp/cpp/dts/line.dts"
expect "dt error at the user's line" 1 "line.dts:6\.1-2 syntax error" -- \
	"$amp" dt check -I "$tmp/cpp/inc" "$tmp/cpp/dts/line.dts"
expect "soc create --dts -I" 0 "created SoC $soc-cpp \(zynqmp, .*board.dts" -- \
	"$amp" soc create --dts "$tmp/cpp/dts/board.dts" -I "$tmp/cpp/inc" "$soc-cpp"
"$amp" soc destroy "$soc-cpp" >/dev/null 2>&1
expect "soc create --dts without -I" 1 "board/shm.h: No such file" -- \
	"$amp" soc create --dts "$tmp/cpp/dts/board.dts" "$soc-cpp"
expect "soc create -I without --dts" 2 "-I is for the --dts file" -- "$amp" soc create -I "$tmp/cpp/inc" "$soc-cpp"
# /dev/zero never ends: refused after AMPL_DT_FILE_MAX bytes (memory and time bounded here in case it is not; a
# sanitizer build reserves terabytes of address space for its shadow, so there only the time bound applies)
vlimit='ulimit -v 2000000;'
[ "${AMPL_TEST_SCALE:-}" = sanitizer ] && vlimit=''
expect "dt /dev/zero" 1 "/dev/zero: larger than 4194304 bytes" -- \
	timeout 120 bash -c "$vlimit"' exec "$0" dt check /dev/zero' "$amp"
expect "soc create --dts /dev/zero" 1 "/dev/zero: larger than 4194304 bytes" -- \
	timeout 120 bash -c "$vlimit"' exec "$0" soc create --dts /dev/zero "$1"' "$amp" "$soc-zero"
"$amp" soc destroy "$soc-zero" >/dev/null 2>&1
# the same rule, the same answer: overlapping, wrapping and empty regions
map() { # map FILE REG...: a board with these reserved-memory regs (2 address and 2 size cells)
	local f=$1 i=0
	shift
	{
		printf '/dts-v1/;\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\treserved-memory {\n'
		printf '\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n\t\tranges;\n'
		for r in "$@"; do
			printf '\t\tr%d@%d { reg = <%s>; };\n' "$i" "$i" "$r"
			i=$((i + 1))
		done
		printf '\t};\n};\n'
	} >"$f"
}
map "$tmp/overlap.dts" "0x0 0x3ed00000 0x0 0x10000" "0x0 0x3ed08000 0x0 0x1000"
map "$tmp/wrap.dts" "0xffffffff 0xfffff000 0x0 0x2000"
map "$tmp/empty.dts" "0x0 0x3ed00000 0x0 0x0"
map "$tmp/ipibuf.dts" "0x0 0xff990000 0x0 0x1000"
overlap_why="/reserved-memory/r1@1: reg: 0x3ed08000\+0x1000 overlaps /reserved-memory/r0@0 \(0x3ed00000\+0x10000\)"
wrap_why="/reserved-memory/r0@0: reg: 0xfffffffffffff000\+0x2000 runs past the end of the 64-bit address space"
empty_why="/reserved-memory/r0@0: reg: 0x3ed00000\+0x0 is empty"
ipibuf_why="/reserved-memory/r0@0: reg: 0xff990000\+0x1000 overlaps the zynqmp IPI message-buffer RAM"
expect "dt overlap" 1 "overlap.dts: $overlap_why" -- "$amp" dt check "$tmp/overlap.dts"
expect "soc create overlap" 1 "$overlap_why" -- "$amp" soc create --dts "$tmp/overlap.dts" "$soc-map"
expect "dt wrap" 1 "wrap.dts: $wrap_why" -- "$amp" dt check "$tmp/wrap.dts"
expect "soc create wrap" 1 "$wrap_why" -- "$amp" soc create --dts "$tmp/wrap.dts" "$soc-map"
expect "dt empty" 1 "empty.dts: $empty_why" -- "$amp" dt check "$tmp/empty.dts"
expect "soc create empty" 1 "$empty_why" -- "$amp" soc create --dts "$tmp/empty.dts" "$soc-map"
expect "dt over IPI buffers" 1 "ipibuf.dts: $ipibuf_why" -- "$amp" dt check --profile zynqmp "$tmp/ipibuf.dts"
expect "soc create over IPI buffers" 1 "$ipibuf_why" -- "$amp" soc create --dts "$tmp/ipibuf.dts" "$soc-map"
"$amp" soc destroy "$soc-map" >/dev/null 2>&1

# IPM console: lines carried in the message data, receiver and sender as two processes.
expect "console help" 0 "usage: amplink console" -- "$amp" console --help
expect "console neither" 2 "one of --from AGENT \(receive\) or --to AGENT \(send\) is required" -- \
	"$amp" console --soc "$soc" --as apu
expect "console both" 2 "--from and --to are mutually exclusive" -- "$amp" console --soc "$soc" --as apu --from rpu0 --to rpu0
expect "console missing --as" 2 "--as AGENT is required" -- "$amp" console --soc "$soc" --from rpu0
expect "console count with --to" 2 "--count is for receiving" -- "$amp" console --soc "$soc" --as rpu0 --to apu --count 1
expect "console bad --from" 2 "--from: 'apu' is not another agent" -- "$amp" console --soc "$soc" --as apu --from apu
expect "console unknown agent" 2 "unknown agent 'gpu'" -- "$amp" console --soc "$soc" --as gpu --from rpu0
expect "console missing soc" 1 "no SoC named 'nosuch-$$'" -- "$amp" console --soc "nosuch-$$" --as apu --from rpu0
expect "console timeout" 1 "timed out after 50 ms: received 0 of 1 lines from rpu1" -- \
	"$amp" console --soc "$soc" --as apu --from rpu1 --count 1 --timeout 50
expect "console doorbell" 1 "apu -> ipi6 channel is doorbell-only" -- \
	"$amp" console --soc "$soc-v" --as apu --to ipi6 </dev/null
# console_send TEXT TO [OPTION...]: send TEXT (printf %b escapes) as rpu0 through the console sender.
console_send() {
	local text=$1 to=$2
	shift 2
	printf '%b' "$text" | "$amp" console --soc "$soc" --as rpu0 --to "$to" "$@"
}
"$amp" console --soc "$soc" --as apu --from rpu0 --count 2 --timeout 10000 >"$tmp/console.out" 2>&1 &
rpid=$!
sleep 0.3
expect "console send" 0 "" -- console_send 'hello world\nsecond line that is longer than thirty-two bytes\n' apu
wait "$rpid"
rstatus=$?
expect "console recv exit" 0 "" -- test "$rstatus" -eq 0
expect "console line 1" 0 "^rpu0: hello world$" -- cat "$tmp/console.out"
expect "console line 2" 0 "^rpu0: second line that is longer than thirty-two bytes$" -- cat "$tmp/console.out"
expect "console 2 lines" 0 "^2$" -- grep -c . "$tmp/console.out"
# A last line without a newline is ended at end of input; a sender with no receiver is told so.
"$amp" console --soc "$soc" --as apu --from rpu0 --count 1 --timeout 10000 >"$tmp/console2.out" 2>&1 &
rpid=$!
sleep 0.3
expect "console send no newline" 0 "" -- console_send 'no newline' apu
wait "$rpid"
expect "console no newline" 0 "^rpu0: no newline$" -- cat "$tmp/console2.out"
expect "console no receiver" 1 "pl0 did not acknowledge within 100 ms \(is a receiver running" -- \
	console_send 'lost\n' pl0 --timeout 100

# Hotplug
expect "agent offline" 0 "rpu1 is offline" -- "$amp" agent offline --soc "$soc" rpu1
expect "agent offline twice" 1 "already offline" -- "$amp" agent offline --soc "$soc" rpu1
expect "send to offline" 1 "rpu1 or apu is offline" -- "$amp" send --soc "$soc" --as apu --to rpu1 --wait hi
expect "agent online" 0 "rpu1 is online" -- "$amp" agent online --soc "$soc" rpu1
expect "agent unknown" 2 "unknown agent 'gpu'" -- "$amp" agent offline --soc "$soc" gpu
expect "agent bad sub-command" 2 "unknown sub-command 'reboot'" -- "$amp" agent reboot --soc "$soc" rpu1
expect "agent help" 0 "usage: amplink agent" -- "$amp" agent --help

# amplink mount: usage and error paths (the file system itself: tests/integration/test_fuse.sh)
expect "mount help" 0 "usage: amplink mount" -- "$amp" mount --help
expect "mount missing --as" 2 "--as AGENT is required" -- "$amp" mount "$tmp"
expect "mount missing DIR" 2 "expected one directory DIR" -- "$amp" mount --as apu
expect "mount not a directory" 1 "not a directory|built without libfuse3" -- \
	"$amp" mount --soc "$soc" --as apu "$src/README.md"

# Bench: short, figures only; the JSON must parse
expect "bench help" 0 "usage: amplink bench" -- "$amp" bench --help
expect "bench bad option" 2 "not latency or throughput" -- "$amp" bench --only speed
if [ "${AMPL_TEST_SCALE:-}" = sanitizer ]; then
	# A sanitized benchmark measures the sanitizer; TSan also refuses threads in children forked after threads.
	echo "note: bench short run skipped in a sanitizer build"
else
	expect "bench short" 0 "One-way streaming" -- "$amp" bench --count 2000 --seconds 0.1 --json "$tmp/bench.json"
	expect "bench json parses" 0 "" -- python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/bench.json"
	# Firmware rows: a missing image or a missing QEMU makes each row (and each size) report skipped with the
	# reason; the benchmark still succeeds and the JSON has the rows.
	expect "bench firmware, no image" 0 "ICMsg, bridge \(virtual SoC\) +interrupts skipped: no image .*icmsg_echo_soc.elf" \
		-- "$amp" bench --firmware="$tmp/no-firmware" --only latency --count 200 --seconds 0.01 --json "$tmp/fw.json"
	expect "bench firmware json" 0 "" -- python3 -c 'import json,sys
j = json.load(open(sys.argv[1]))
assert len(j["firmware"]) == 14 and all(r["status"] == "skipped" for r in j["firmware"]), j["firmware"]
assert len(j["firmware_size"]) == 7 and all(r["status"] == "skipped" for r in j["firmware_size"])' "$tmp/fw.json"
	expect "bench firmware, no qemu" 0 "RPMsg, emulator link +polling +skipped: .*qemu" \
		-- env AMPL_QEMU="$tmp/no-qemu" "$amp" bench --firmware --only latency --count 200 --seconds 0.01
fi

# Demo, short
expect "demo" 0 "messages: +200 sent, 200 answered correctly, 0 errors" -- "$amp" demo --count 200
expect "demo icmsg" 0 "messages: +200 sent, 200 answered correctly, 0 errors" -- "$amp" demo --backend icmsg --count 200
expect "demo multi" 0 "messages: +200 sent, 200 answered correctly, 0 errors" -- "$amp" demo --backend multi --count 200
expect "demo rpmsg" 0 "messages: +200 sent, 200 answered correctly, 0 errors" -- "$amp" demo --backend rpmsg --count 200
expect "demo rpmsg blocking" 0 "messages: +200 sent, 200 answered correctly, 0 errors" -- "$amp" demo --backend rpmsg --mode blocking --count 200
expect "demo bad backend" 2 "--backend: 'nope'" -- "$amp" demo --backend nope
expect "demo bad count" 2 "--count: '0'" -- "$amp" demo --count 0

# Demo exit paths and oversize DATA: every wait of the demo is bounded, its SoC is removed however it ends, errors
# name the backend; send states the real size of DATA above its 4096-byte buffer.
big=$(head -c 5000 /dev/zero | tr '\0' x)
expect "send 5000 bytes" 1 "message is 5000 bytes; the apu -> rpu0 channel carries at most 32" -- \
	"$amp" send --soc "$soc" --as apu --to rpu0 "$big"
expect "send 5000 hex bytes" 1 "message is 5000 bytes; the apu -> rpu0 channel carries at most 32" -- \
	"$amp" send --soc "$soc" --as apu --to rpu0 --hex "$(head -c 5000 /dev/zero | od -An -v -tx1 | tr -d '\n')"
dsoc="$soc-demo"
dimg="/dev/shm/amplink.$dsoc"
# corrupt_region REGION SECONDS: once the demo's image exists, overwrite its memory region REGION (found in the
# image header's memory map: name[64], phys, size, offset, checked against the address in the name) with 0xff
# every 20 ms until the image is removed or SECONDS pass.
corrupt_region() {
	python3 - "$dimg" "$1" "$2" <<'PY'
import os, struct, sys, time
img, region, end = sys.argv[1], sys.argv[2].encode(), time.monotonic() + float(sys.argv[3])
where = None
while where is None and time.monotonic() < end:
    try:
        head = open(img, 'rb').read(65536)
        i = head.find(region + b'@')
        if i >= 0:
            name = head[i:i + 64].split(b'\0')[0]
            phys, size, off = struct.unpack_from('<QQQ', head, i + 64)
            if phys != int(name.split(b'@')[1], 16):
                sys.exit('%s: unexpected image header layout' % name.decode())
            where = (off, size)
    except FileNotFoundError:
        pass
    time.sleep(0.01)
n = 0
while where and os.path.exists(img) and time.monotonic() < end:
    try:
        with open(img, 'r+b') as f:
            f.seek(where[0])
            f.write(b'\xff' * where[1])
        n += 1
    except FileNotFoundError:
        break
    time.sleep(0.02)
print('corrupted %s %d times' % (region.decode(), n))
PY
}
# running PID: the process exists and is not a zombie.
running() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! grep -q ') Z ' "/proc/$1/stat" 2>/dev/null
}
# demo_start ARGS...: run the demo on SoC $dsoc in the background ($dpid, output in $tmp/demo.out); returns once
# its remote process exists ($dremote) or 30 s passed.
demo_start() {
	"$amp" demo --soc "$dsoc" --count 5000000 "$@" >"$tmp/demo.out" 2>&1 &
	dpid=$!
	dremote=
	for _ in $(seq 300); do
		dremote=$(pgrep -P "$dpid" | head -n1)
		[ -n "$dremote" ] && break
		sleep 0.1
	done
}
# demo_end NAME SECONDS: wait up to SECONDS for the demo to exit; $dstatus is its status, or "hung" (then it and
# its remote are killed and the SoC removed).
demo_end() {
	local name=$1 i
	for i in $(seq $(($2 * 10))); do
		kill -0 "$dpid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$dpid" 2>/dev/null; then
		dstatus=hung
		echo "note: $name: the demo still ran after $2 s; killing it"
		[ -n "$dremote" ] && kill -9 "$dremote" 2>/dev/null
		kill -9 "$dpid" 2>/dev/null
		wait "$dpid" 2>/dev/null
		"$amp" soc destroy "$dsoc" >/dev/null 2>&1
	else
		wait "$dpid"
		dstatus=$?
	fi
}
# demo_check NAME STATUS_PATTERN OUTPUT_PATTERN: the demo's status, output, and nothing of it left behind.
demo_check() {
	local name=$1
	expect "$name: exits" 0 "" -- grep -Eqx "$2" <<<"$dstatus"
	expect "$name: says" 0 "$3" -- cat "$tmp/demo.out"
	expect "$name: SoC removed" 0 "" -- test ! -e "$dimg"
	expect "$name: remote found" 0 "" -- test -n "$dremote"
	expect "$name: remote gone" 1 "" -- running "$dremote"
	running "$dremote" && kill -9 "$dremote" # what a failed case left, so that the next case starts clean
	"$amp" soc destroy "$dsoc" >/dev/null 2>&1
}
# A corrupt ring: the demo ends with status 1 within the bound, the error names the backend and the instance.
for b in icmsg:icmsg_apu_tx:rpu0 multi:multi_apu_tx:rpu1 rpmsg:rpmsg_shm:rpu0 icmsg-blocking:icmsg_rpu0_tx:rpu0; do
	IFS=: read -r backend region remote <<<"$b"
	mode=adaptive
	[ "$backend" = icmsg-blocking ] && backend=icmsg mode=blocking
	demo_start --backend "$backend" --mode "$mode"
	corrupt_region "$region" 60 >"$tmp/corrupt.out" 2>&1
	demo_end "demo corrupt $region" 60
	demo_check "demo corrupt $region ($mode)" 1 "^amplink demo: $backend: ($remote|apu)[ :]"
	expect "demo corrupt $region: no other label" 1 "" -- \
		grep -Ev "^amplink demo: $backend: |^  |^amplink demo: virtual" "$tmp/demo.out"
done
# SIGTERM and SIGINT mid-run: status 128 + N, the remote stopped, the SoC removed.
demo_start
sleep 0.5
kill -TERM "$dpid"
demo_end "demo SIGTERM" 60
demo_check "demo SIGTERM" 143 "stopped by signal 15 .*SoC $dsoc removed"
demo_start --backend multi
sleep 0.5
kill -INT "$dpid"
demo_end "demo SIGINT" 60
demo_check "demo SIGINT" 130 "stopped by signal 2 "
# The remote killed: reported with its pid and signal, status 1, the SoC removed.
demo_start --backend icmsg
sleep 0.5
[ -n "$dremote" ] && kill -KILL "$dremote"
demo_end "demo remote killed" 60
demo_check "demo remote killed" 1 "^amplink demo: icmsg: .*rpu0 \(pid $dremote\) was killed by signal 9"
# The demo's process killed (SIGKILL, no clean-up of its own): the remote notices, removes the SoC and exits.
demo_start --backend rpmsg
sleep 0.5
kill -KILL "$dpid"
wait "$dpid" 2>/dev/null
for _ in $(seq 600); do
	running "$dremote" || break
	sleep 0.1
done
expect "demo killed: remote found" 0 "" -- test -n "$dremote"
expect "demo killed: remote gone" 1 "" -- running "$dremote"
expect "demo killed: SoC removed" 0 "" -- test ! -e "$dimg"
expect "demo killed: says" 0 "rpu0: the demo's process \(pid $dpid\) died: removed SoC $dsoc" -- cat "$tmp/demo.out"
running "$dremote" && kill -9 "$dremote"
"$amp" soc destroy "$dsoc" >/dev/null 2>&1

expect "destroy" 0 "destroyed SoC $soc" -- "$amp" soc destroy "$soc"
expect "gone" 0 "NAME" -- "$amp" soc list

# i.MX SoC: agents a (MU side A) and m4 (side B), IPM over the default Messaging Unit (16-byte messages, id 0).
mx="$soc-imx"
expect "imx help lists the profile" 0 "zynqmp\|versal\|imx" -- "$amp" soc create --help
expect "imx create" 0 "created SoC $mx \(imx, one Messaging Unit" -- "$amp" soc create --profile imx "$mx"
expect "imx list" 0 "$mx +imx" -- "$amp" soc list
expect "imx show side A" 0 "ipm0 +A +a +0x00f00000 0x00000000" -- "$amp" soc show "$mx"
expect "imx show side B" 0 "^ +B +m4 +0x00f00000 0x00000000" -- "$amp" soc show "$mx"
expect "imx unknown agent" 2 "unknown agent 'apu'.*agents: a, m4" -- "$amp" send --soc "$mx" --as apu --to m4 hi
expect "imx oversize" 1 "message is 17 bytes; the a -> m4 channel carries at most 16" -- \
	"$amp" send --soc "$mx" --as a --to m4 "$(printf 'x%.0s' $(seq 17))"
expect "imx bad id" 1 "--id 1 is invalid: the largest id the a -> m4 channel carries is 0" -- \
	"$amp" send --soc "$mx" --as a --to m4 --id 1 hi
"$amp" recv --soc "$mx" --as m4 --count 2 --timeout 10000 >"$tmp/mx.out" 2>&1 &
rpid=$!
sleep 0.3
expect "imx send a -> m4" 0 "^a -> m4: sent 5 bytes, acknowledged$" -- "$amp" send --soc "$mx" --as a --to m4 --wait hello
expect "imx send 16 bytes" 0 "sent 16 bytes, acknowledged" -- \
	"$amp" send --soc "$mx" --as a --to m4 --wait --hex "00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff"
wait "$rpid"
rstatus=$?
expect "imx recv exit" 0 "" -- test "$rstatus" -eq 0
expect "imx recv text" 0 "^a: hello$" -- cat "$tmp/mx.out"
expect "imx recv hex" 0 "^a: 00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff$" -- cat "$tmp/mx.out"
"$amp" recv --soc "$mx" --as a --from m4 --timeout 10000 >"$tmp/mx2.out" 2>&1 &
rpid=$!
sleep 0.3
expect "imx send m4 -> a" 0 "^m4 -> a: sent 4 bytes, acknowledged$" -- "$amp" send --soc "$mx" --as m4 --to a --wait pong
wait "$rpid"
expect "imx recv m4 -> a" 0 "^m4: pong$" -- cat "$tmp/mx2.out"
# A message nobody reads stays in the MU (RF0-3 set at m4, TE0-3 clear at a) and is delivered later.
expect "imx no receiver" 1 "m4 did not acknowledge within 100 ms" -- \
	"$amp" send --soc "$mx" --as a --to m4 --wait --timeout 100 later
expect "imx pending shown at a" 0 "ipm0 +A +a +0x00000000" -- "$amp" soc show "$mx"
expect "imx pending shown at m4" 0 "B +m4 +0x0ff00000" -- "$amp" soc show "$mx"
expect "imx busy" 1 "m4 has not consumed the previous request from a" -- "$amp" send --soc "$mx" --as a --to m4 again
expect "imx pending delivered" 0 "^a: later$" -- "$amp" recv --soc "$mx" --as m4 --timeout 5000
expect "imx destroy" 0 "destroyed SoC $mx" -- "$amp" soc destroy "$mx"
# A devicetree whose only mailbox is an MU selects the imx profile.
expect "imx from the seed" 0 "created SoC $mx \(imx, .*imx-mu.dts" -- "$amp" soc create --dts "$src/dts/seeds/imx-mu.dts" "$mx"
expect "imx seed show" 0 "/ipm@40028000 at 0x40028000" -- "$amp" soc show "$mx"
expect "imx seed destroy" 0 "destroyed SoC $mx" -- "$amp" soc destroy "$mx"

# Memory backed by an external file (an emulator's RAM): soc create --backing FILE@BASE.
bk="/dev/shm/amplink-clitest-backing.$$"
truncate -s 16M "$bk"
expect "soc create --backing" 0 "memory from 0x3ecf0000 backed by $bk" -- "$amp" soc create --backing "$bk@0x3ecf0000" "$soc-bk"
expect "soc show --backing" 0 "memory \[0x3ecf0000, 0x3fcf0000\) backed by $bk" -- "$amp" soc show "$soc-bk"
expect "destroy backed" 0 "destroyed SoC $soc-bk" -- "$amp" soc destroy "$soc-bk"
expect "--backing cuts a region" 1 "cuts memory region shared_ram@3ed00000" -- \
	"$amp" soc create --backing "$bk@0x3ed10000" "$soc-bk"
expect "--backing holds nothing" 1 "holds no memory region" -- "$amp" soc create --backing "$bk@0x10000000" "$soc-bk"
expect "--backing relative" 1 "must be an absolute path" -- "$amp" soc create --backing "x@0x3ecf0000" "$soc-bk"
expect "--backing no address" 2 "wants FILE@BASE" -- "$amp" soc create --backing "$bk" "$soc-bk"
expect "--backing bad address" 2 "'0x3ecg' is not an address" -- "$amp" soc create --backing "$bk@0x3ecg" "$soc-bk"
ln -s "$bk" "$tmp/bk-link"
expect "--backing symlink" 1 "symbolic link, which is never followed" -- \
	"$amp" soc create --backing "$tmp/bk-link@0x3ecf0000" "$soc-bk"
expect "--backing missing" 1 "does not exist" -- "$amp" soc create --backing "$bk.none@0x3ecf0000" "$soc-bk"
truncate -s 5000 "$bk"
expect "--backing odd size" 1 "5000 bytes: not a multiple of the 4096-byte page" -- \
	"$amp" soc create --backing "$bk@0x3ecf0000" "$soc-bk"
rm -f "$bk"

# amplink demo --firmware: the remote as firmware under QEMU through the bridge, for every backend (skipped without
# the images or QEMU). Without a file, --firmware takes the backend's image from firmware/ beside amplink.
fwdir="$(dirname "$amp")/firmware"
fw="$fwdir/ipm_echo.elf"
if [ -f "$fw" ] && [ -f "$fwdir/icmsg_echo_soc.elf" ] && [ -f "$fwdir/rpmsg_remote_soc.elf" ] &&
	[ -f "$fwdir/multi_soc.elf" ] && command -v qemu-system-arm >/dev/null; then
	expect "demo --firmware" 0 "messages: +300 sent, 300 answered correctly, 0 errors" -- \
		"$amp" demo --firmware "$fw" --count 300 --soc "$soc-fw"
	expect "demo --firmware leaves nothing" 0 "^0$" -- sh -c "ls /dev/shm | grep -c 'amplink.$soc-fw' ; true"
	expect "demo --firmware=FILE" 0 "rpu0 is .*ipm_echo.elf under QEMU" -- \
		"$amp" demo --firmware="$fw" --count 50 --soc "$soc-fw"
	for b in ipm icmsg rpmsg multi; do
		case $b in
		ipm) img=ipm_echo rpu=rpu0 ;;
		icmsg) img=icmsg_echo_soc rpu=rpu0 ;;
		rpmsg) img=rpmsg_remote_soc rpu=rpu0 ;;
		multi) img=multi_soc rpu=rpu1 ;;
		esac
		# status 0: every message answered correctly (the demo fails otherwise); the line says which image ran
		expect "demo --firmware --backend $b" 0 "$rpu is $fwdir/$img.elf under QEMU" -- \
			"$amp" demo --firmware --backend $b --count 300 --soc "$soc-fw"
		expect "demo --firmware --backend $b --mode polling" 0 "messages: +300 sent, 300 answered correctly, 0 errors" -- \
			"$amp" demo --backend $b --firmware "$fwdir/$img.elf" --mode polling --count 300 --soc "$soc-fw"
		expect "demo --firmware --backend $b leaves nothing" 0 "^0$" -- \
			sh -c "ls /dev/shm | grep -c 'amplink.$soc-fw' ; true"
	done
	# --trace: the firmware's trace points (its icmsg receive and its IPC service sends) merged into rpu0's trace
	expect "demo --firmware --trace: the firmware's sends" 0 "ipc firmware:ipc-icmsg-rpu0: ipc.send 300$" -- \
		"$amp" demo --firmware --backend icmsg --trace --count 300 --soc "$soc-fw"
	expect "demo --firmware --trace --mode polling: the firmware's receives" 0 \
		"icmsg firmware:icmsg@[0-9a-f]{8}: icmsg.rx 30[01]$" -- \
		"$amp" demo --firmware --backend icmsg --trace --count 300 --mode polling --soc "$soc-fw"
	expect "demo --firmware not built" 1 \
		"rpmsg: --firmware: rpmsg is not built: no rpmsg_remote_soc.elf in /nonexistent \(AMPL_FIRMWARE_DIR\)" -- \
		env AMPL_FIRMWARE_DIR=/nonexistent "$amp" demo --firmware --backend rpmsg --soc "$soc-fw"
	expect "demo --firmware without QEMU" 1 "qemu-system-arm not found in PATH: install the Debian package qemu-system-arm" -- \
		env PATH=/nonexistent "$amp" demo --firmware "$fw" --soc "$soc-fw"
else
	echo "SKIP: amplink demo --firmware (needs the images in $fwdir and qemu-system-arm)"
fi

# Co-tenants: another user's SoC (root only: the second user is nobody), a full /dev/shm (a private mount namespace
# with a 16 KiB tmpfs).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	asnobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
	expect "destroy another user's SoC" 1 "cannot remove SoC '$soc-v' .*permission denied; it belongs to root \(uid 0\)" -- \
		asnobody "$amp" soc destroy "$soc-v"
	expect "create as nobody" 0 "created SoC $soc-n" -- asnobody "$amp" soc create "$soc-n"
	expect "show another user's SoC" 1 "belongs to nobody \(uid [0-9]+\), not to root.*--allow-other-owner" -- \
		"$amp" soc show "$soc-n"
	expect "create over another user's SoC" 1 "already exists and belongs to nobody" -- "$amp" soc create "$soc-n"
	expect "show it when allowed" 0 "SoC $soc-n \(zynqmp\)" -- "$amp" --allow-other-owner soc show "$soc-n"
	expect "destroy it" 0 "destroyed SoC $soc-n" -- "$amp" soc destroy "$soc-n"
else
	echo "SKIP: another user's SoC (needs root, setpriv and the user nobody)"
fi
expect "allow-other-owner without a command" 2 "usage: amplink" -- "$amp" --allow-other-owner
if unshare -m true 2>/dev/null; then
	# Exit status 3 if the half-made image is left behind.
	expect "create on a full /dev/shm" 1 "amplink.full needs [0-9]+ bytes .*ENOSPC" -- unshare -m sh -c \
		'mount -t tmpfs -o size=16k tmpfs /dev/shm || exit 4; "$0" soc create full; s=$?; [ -z "$(ls /dev/shm)" ] || exit 3; exit $s' "$amp"
else
	echo "SKIP: a full /dev/shm (needs a private mount namespace: unshare -m)"
fi

# The README's command summary names every command of `amplink --help`, with bench and demo --backend; its
# examples run from the source folder on files the repository ships, and it names no file outside it.
readme_summary=$(sed -n '/^## The `amplink` command/,/^```$/p' "$src/README.md" | sed -n '/^```sh$/,/^```$/p')
for c in $("$amp" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' | sort -u); do
	holds "README summary: amplink $c" grep -q "^amplink $c\b" <<<"$readme_summary"
done
holds "README summary: demo --backend" grep -q "^amplink demo .*--backend ipm|icmsg|multi|rpmsg" <<<"$readme_summary"
holds "README summary: --version" grep -q "^amplink --version" <<<"$readme_summary"
examples=0
while IFS= read -r line; do
	case $line in
	"$ amplink "*) ;;
	*) continue ;;
	esac
	[[ $line == *"["* ]] && continue # a synopsis, not an example
	cmd=${line#\$ amplink }
	cmd=${cmd%%#*}
	want=$(grep -A1 -xF -- "$line" "$src/README.md" | sed -n 2p)
	[[ $want == '$'* || $want == '```'* ]] && want=""
	examples=$((examples + 1))
	for a in $cmd; do # every file an example names is in the repository
		case $a in
		-* | *=* | [0-9]*) ;;
		*/* | *.dts | *.dtb | *.h) holds "README example file $a" test -e "$src/$a" ;;
		esac
	done
	# shellcheck disable=SC2086
	out=$(cd "$src" && "$amp" ${cmd//-o /-o $tmp\/} 2>&1)
	status=$?
	if [ -n "$want" ]; then
		holds "README example: amplink $cmd" grep -qF -- "${want:0:60}" <<<"$out"
	else
		holds "README example: amplink $cmd (status $status)" test "$status" -eq 0
	fi
done <"$src/README.md"
holds "README examples found ($examples)" test "$examples" -ge 5
expect_none "README names no file outside the repository" 0 "shared/reference|/work/|~/" -- cat "$src/README.md"

summary test_cli
