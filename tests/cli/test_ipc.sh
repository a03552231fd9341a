#!/usr/bin/env bash
# `amplink ipc list|send|recv|echo`: IPC service endpoints of agents from the shell, between real processes, for each
# backend of the built-in board (ICMsg APU <-> RPU0, multi-endpoint APU <-> RPU1, RPMsg APU <-> RPU0).
# usage: test_ipc.sh AMPLINK_BINARY
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
amp=$1
soc="ipctest-$$"
tmp=$(mktemp -d)
cleanup() {
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	"$amp" soc destroy "$soc" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

expect "help" 0 "usage: amplink ipc list" -- "$amp" ipc --help
expect "no sub-command" 2 "usage: amplink ipc" -- "$amp" ipc
expect "unknown sub-command" 2 "unknown sub-command 'frob'" -- "$amp" ipc frob
expect "send without --endpoint" 2 "--as, --instance and --endpoint are required" -- \
	"$amp" ipc send --as apu --instance ipc-icmsg-apu hi
"$amp" soc create "$soc" >/dev/null || { echo "FAIL: soc create"; exit 1; }
expect "list" 0 "apu +ipc-icmsg-apu +icmsg +rpu0 +ipc_icmsg_apu" -- "$amp" ipc list --soc "$soc"
expect "list: multi" 0 "rpu1 +ipc-multi-rpu1 +multi +apu" -- "$amp" ipc list --soc "$soc"
expect "list: rpmsg" 0 "apu +ipc-rpmsg-apu +rpmsg +rpu0" -- "$amp" ipc list --soc "$soc" --as apu
expect "list: only --as" 1 "^0$" -- sh -c '"$0" ipc list --soc "$1" --as rpu1 | grep -c "^apu "' "$amp" "$soc"
expect "list: unknown agent" 2 "unknown agent 'gpu'" -- "$amp" ipc list --soc "$soc" --as gpu
expect "unknown instance" 2 "agent apu has no IPC instance 'nosuch'" -- \
	"$amp" ipc send --soc "$soc" --as apu --instance nosuch --endpoint e hi
expect "another agent's instance" 2 "agent apu has no IPC instance 'ipc-icmsg-rpu0'" -- \
	"$amp" ipc send --soc "$soc" --as apu --instance ipc-icmsg-rpu0 --endpoint e hi
expect "no peer: ENOTCONN" 1 "did not bind within 300 ms" -- \
	"$amp" ipc send --soc "$soc" --as apu --instance ipc-multi-apu --endpoint e --timeout 300 hi

# with_echo BACKEND PEER_AGENT PEER_INSTANCE ENDPOINT NAME WANT_STATUS PATTERN -- COMMAND...: `expect` with an echo
# peer running for the command only (an ICMsg instance in classic mode, the board's, bonds once per pair of opens:
# a sender that closes and comes back needs the peer to open again too; see the README).
with_echo() {
	local b=$1 agent=$2 inst=$3 ept=$4
	shift 4
	"$amp" ipc echo --soc "$soc" --as "$agent" --instance "$inst" --endpoint "$ept" 2>"$tmp/echo.err" &
	local echo_pid=$!
	expect "$@"
	kill "$echo_pid"
	wait "$echo_pid"
	local status=$?
	if [ "$status" -eq 0 ] && grep -q "echoing $ept" "$tmp/echo.err"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $b: echo peer: status $status: $(cat "$tmp/echo.err")"
	fi
}

big=$(head -c 70000 /dev/zero | tr '\0' x)
# backend: local instance, peer agent, peer instance
for t in "icmsg ipc-icmsg-apu rpu0 ipc_icmsg_rpu0" "multi ipc-multi-apu rpu1 ipc-multi-rpu1" \
	"rpmsg ipc_rpmsg_apu rpu0 ipc-rpmsg-rpu0"; do
	# shellcheck disable=SC2086
	set -- $t
	b=$1 inst=$2 peer=$3 pinst=$4
	with_echo "$b" "$peer" "$pinst" "ep-$b" "$b: send, echo, replies" 0 "^one$" -- "$amp" ipc send --soc "$soc" \
		--as apu --instance "$inst" --endpoint "ep-$b" --timeout 10000 --replies 2 one "two words"
	with_echo "$b" "$peer" "$pinst" "ep-$b" "$b: the second reply, whole" 0 "^two words$" -- "$amp" ipc send \
		--soc "$soc" --as apu --instance "$inst" --endpoint "ep-$b" --timeout 10000 --replies 2 one "two words"
	with_echo "$b" "$peer" "$pinst" "ep-$b" "$b: above the maximum: EMSGSIZE" 1 \
		"message 2 \(70000 bytes\): Message too long" -- "$amp" ipc send --soc "$soc" --as apu --instance "$inst" \
		--endpoint "ep-$b" --timeout 10000 fits "$big"
done

# recv: the peer sends, we print each message on its own line.
"$amp" ipc recv --soc "$soc" --as rpu1 --instance ipc-multi-rpu1 --endpoint r --count 2 --timeout 10000 \
	>"$tmp/recv.out" 2>&1 &
recv_pid=$!
# The sender stays until the receiver has both (--linger; the multi-endpoint backend discards what the peer has not
# read when the sender closes), then is stopped.
"$amp" ipc send --soc "$soc" --as apu --instance ipc-multi-apu --endpoint r --timeout 10000 --linger 60000 \
	first second >"$tmp/send.out" 2>&1 &
send_pid=$!
wait "$recv_pid"
kill "$send_pid"
if wait "$send_pid"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: send: --linger ended by SIGTERM: status $?: $(cat "$tmp/send.out")"
fi
expect "recv: two messages" 0 "^first second$" -- sh -c 'tr "\n" " " <"$0" | sed "s/ $//"' "$tmp/recv.out"
expect "recv: nothing within the timeout" 1 "message 1: none within the timeout" -- \
	"$amp" ipc recv --soc "$soc" --as rpu1 --instance ipc-multi-rpu1 --endpoint r --timeout 200

summary test_ipc
