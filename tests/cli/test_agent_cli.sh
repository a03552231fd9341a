#!/usr/bin/env bash
# amplink agent: retire and list, and the interrupt routing of a running receiver (route, mask, unmask), through the
# real binary and real processes.
# usage: test_agent_cli.sh AMPLINK_BINARY
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
amp=$1
soc="agentcli-$$"
tmp=$(mktemp -d)
cleanup() {
	jobs -p | xargs -r kill 2>/dev/null
	wait
	"$amp" soc destroy "$soc" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
# attached AGENT: `agent list` shows a process attached as AGENT, online.
attached() {
	"$amp" agent list --soc "$soc" | grep -Eq "^$1 +online +[0-9]+$"
}

expect "create" 0 "created SoC $soc" -- "$amp" soc create "$soc"
expect "route: nobody attached" 1 "no process is attached as rpu0" -- "$amp" agent route --soc "$soc" rpu0
expect "route: nobody to ask" 1 "no process is attached as rpu0" -- "$amp" agent route --soc "$soc" rpu0 apu 1

"$amp" recv --soc "$soc" --as rpu0 --count 0 >"$tmp/recv.out" 2>&1 &
r0=$!
wait_for 10 attached rpu0 || bad "recv did not attach"
expect "list" 0 "^rpu0 +online +$r0$" -- "$amp" agent list --soc "$soc"
expect "routes: default" 0 "^line 0: apu,rpu1,pmu0" -- "$amp" agent route --soc "$soc" rpu0
expect "route" 0 "rpu0: apu on line 2" -- "$amp" agent route --soc "$soc" rpu0 apu 2
expect "routes: changed" 0 "line 2: apu" -- "$amp" agent route --soc "$soc" rpu0
expect "send on line 2" 0 "acknowledged" -- "$amp" send --soc "$soc" --as apu --to rpu0 --wait one
expect "mask" 0 "rpu0: apu masked" -- "$amp" agent mask --soc "$soc" rpu0 apu
expect "routes: masked" 0 "masked: apu" -- "$amp" agent route --soc "$soc" rpu0
expect "masked source not delivered" 1 "did not acknowledge" -- \
	"$amp" send --soc "$soc" --as apu --to rpu0 --wait --timeout 200 two
expect "other source delivered" 0 "acknowledged" -- "$amp" send --soc "$soc" --as rpu1 --to rpu0 --wait three
expect "unmask" 0 "rpu0: apu unmasked" -- "$amp" agent unmask --soc "$soc" rpu0 apu
wait_for 5 grep -q "^apu: two$" "$tmp/recv.out" || bad "the request pending while masked was not delivered at unmask"
expect "receiver output" 0 "apu: one" -- cat "$tmp/recv.out"
expect "route: bad line" 2 "LINE: '4' is not a line \(0 to 3\)" -- "$amp" agent route --soc "$soc" rpu0 apu 4
expect "route: bad source" 2 "SOURCE: unknown agent 'gpu'" -- "$amp" agent route --soc "$soc" rpu0 gpu 1
expect "mask: itself" 2 "'rpu0' is AGENT itself" -- "$amp" agent mask --soc "$soc" rpu0 rpu0
expect "mask: missing SOURCE" 2 "expected AGENT SOURCE" -- "$amp" agent mask --soc "$soc" rpu0

expect "retire" 0 "rpu1 is retired" -- "$amp" agent retire --soc "$soc" rpu1
expect "retire twice" 1 "rpu1 is already retired" -- "$amp" agent retire --soc "$soc" rpu1
expect "list: retired" 0 "^rpu1 +retired +-" -- "$amp" agent list --soc "$soc"
expect "send to retired" 1 "rpu1 or apu is offline" -- "$amp" send --soc "$soc" --as apu --to rpu1 --wait hi
# Attaching as the retired id brings it back.
"$amp" recv --soc "$soc" --as rpu1 --count 1 >"$tmp/recv1.out" 2>&1 &
r1=$!
wait_for 10 attached rpu1 || bad "rpu1 did not come back"
expect "send to the new rpu1" 0 "acknowledged" -- "$amp" send --soc "$soc" --as apu --to rpu1 --wait back
wait "$r1"
expect "new rpu1 received" 0 "^apu: back$" -- cat "$tmp/recv1.out"
expect "retire unknown" 2 "unknown agent 'gpu'" -- "$amp" agent retire --soc "$soc" gpu
expect "list: arguments" 2 "list takes no arguments" -- "$amp" agent list --soc "$soc" rpu0
expect "help" 0 "amplink agent route" -- "$amp" agent --help
summary test_agent_cli
