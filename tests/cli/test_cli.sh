#!/usr/bin/env bash
# The amplink command's behaviour and error paths, through the real binary and real processes.
# usage: test_cli.sh AMPLINK_BINARY SOURCE_DIR
set -u
amp=$1
src=$2
soc="clitest-$$"
tmp=$(mktemp -d)
pass=0
fail=0
cleanup() {
	"$amp" soc destroy "$soc" >/dev/null 2>&1
	"$amp" soc destroy "$soc-v" >/dev/null 2>&1
	"$amp" soc destroy "$soc-n" >/dev/null 2>&1
	rm -rf "$tmp"
	jobs -p | xargs -r kill 2>/dev/null
}
trap cleanup EXIT

# expect NAME WANT_STATUS PATTERN -- COMMAND...: run, check the exit status and that stdout+stderr match PATTERN.
expect() {
	local name=$1 want=$2 pattern=$3
	shift 4
	local out status
	out=$("$@" 2>&1)
	status=$?
	if [ "$status" -eq "$want" ] && grep -Eq -- "$pattern" <<<"$out"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $name: status $status (want $want), output did not match /$pattern/:"
		sed 's/^/    /' <<<"$out"
	fi
}

# --help everywhere
for c in "" "soc" "soc create" "soc destroy" "soc list" "soc show" "send" "recv" "dt" "dt check" "demo"; do
	# shellcheck disable=SC2086
	expect "help: $c" 0 "usage: amplink" -- "$amp" $c --help
done
expect "no command" 2 "usage: amplink" -- "$amp"
expect "unknown command" 2 "unknown command 'frobnicate'" -- "$amp" frobnicate
expect "unknown soc sub-command" 2 "unknown sub-command 'explode'" -- "$amp" soc explode

# SoC lifecycle
expect "create" 0 "created SoC $soc \(zynqmp" -- "$amp" soc create "$soc"
expect "create twice" 1 "already exists" -- "$amp" soc create "$soc"
expect "create bad name" 1 "invalid SoC name" -- "$amp" soc create "../evil"
expect "create bad profile" 2 "unknown profile 'pentium'" -- "$amp" soc create --profile pentium x
expect "list" 0 "$soc +zynqmp" -- "$amp" soc list
expect "show" 0 "rpu0 +1 +8 0xff310000 +0x00000000 0x00000000 0x00000000 0x0f0f0301" -- "$amp" soc show "$soc"
expect "show missing" 1 "no SoC named 'nosuch-$$'" -- "$amp" soc show "nosuch-$$"
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

# Versal SoC with a bufferless agent: doorbells only.
expect "create versal" 0 "created SoC $soc-v \(versal" -- "$amp" soc create --profile versal "$soc-v"
expect "doorbell data" 1 "carries at most 0" -- "$amp" send --soc "$soc-v" --as apu --to ipi6 x
"$amp" recv --soc "$soc-v" --as ipi6 --timeout 10000 >"$tmp/db.out" 2>&1 &
rpid=$!
sleep 0.3
expect "doorbell send" 0 "sent 0 bytes, acknowledged" -- "$amp" send --soc "$soc-v" --as apu --to ipi6 --wait ""
wait "$rpid"
expect "doorbell recv" 0 "^apu: \(doorbell\)$" -- cat "$tmp/db.out"

# Devicetree
expect "dt seed zynqmp" 0 "pmu1" -- "$amp" dt check "$src/dts/seeds/zynqmp-ipi.dts"
expect "dt seed versal" 0 "versal" -- "$amp" dt check "$src/dts/seeds/versal-ipi.dts"
expect "dt seed versal strict" 1 "warning" -- "$amp" dt check --strict "$src/dts/seeds/versal-ipi.dts"
expect "dt seed mu" 0 "ipm0" -- "$amp" dt check "$src/dts/seeds/imx-mu.dts"
expect "dt seed shared_ram" 0 "shared_ram" -- "$amp" dt check "$src/dts/seeds/shared-ram.dts"
expect "dt default board" 0 "rpu0" -- "$amp" dt check "$src/dts/zynqmp-apu-rpu0.dts"
sed 's/xlnx,ipi-id = <4>;/xlnx,ipi-id = <12>;/' "$src/dts/seeds/zynqmp-ipi.dts" >"$tmp/bad.dts"
expect "dt bad id" 1 "bad.dts: /.*mailbox@ff9905c0: xlnx,ipi-id:" -- "$amp" dt check "$tmp/bad.dts"
expect "dt missing file" 1 "nosuch.dts" -- "$amp" dt check "$tmp/nosuch.dts"
printf '/dts-v1/;\n/ { oops' >"$tmp/syntax.dts"
expect "dt syntax" 1 "syntax.dts" -- "$amp" dt check "$tmp/syntax.dts"
expect "create from bad dts" 1 "bad.dts" -- "$amp" soc create --dts "$tmp/bad.dts" "$soc-bad"

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
fi

# Demo, short
expect "demo" 0 "messages: +200 sent, 200 answered correctly, 0 errors" -- "$amp" demo --count 200
expect "demo icmsg" 0 "messages: +200 sent, 200 answered correctly, 0 errors" -- "$amp" demo --backend icmsg --count 200
expect "demo multi" 0 "messages: +200 sent, 200 answered correctly, 0 errors" -- "$amp" demo --backend multi --count 200
expect "demo rpmsg" 0 "messages: +200 sent, 200 answered correctly, 0 errors" -- "$amp" demo --backend rpmsg --count 200
expect "demo rpmsg blocking" 0 "messages: +200 sent, 200 answered correctly, 0 errors" -- "$amp" demo --backend rpmsg --mode blocking --count 200
expect "demo bad backend" 2 "--backend: 'nope'" -- "$amp" demo --backend nope
expect "demo bad count" 2 "--count: '0'" -- "$amp" demo --count 0

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

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
