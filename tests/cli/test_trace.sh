#!/usr/bin/env bash
# `amplink trace` and `amplink stat` between real processes: APU and RPU0 exchange IPM messages and an ICMsg echo
# with tracing on; the recording is valid Chrome trace-event JSON with one track per agent, each in time order, and
# the right number of events at each layer; the counters say the same; a stopped reader does not slow the
# traffic; tracing off records nothing; bad input is refused; soc destroy removes the trace files.
# usage: test_trace.sh AMPLINK_BINARY
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
amp=$1
soc="tracetest-$$"
tmp=$(mktemp -d)
cleanup() {
	jobs -p | xargs -r kill -CONT 2>/dev/null
	jobs -p | xargs -r kill 2>/dev/null
	wait 2>/dev/null
	"$amp" soc destroy "$soc" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
if ! command -v python3 >/dev/null; then
	echo "test_trace: python3 not found: skipped"
	exit 77
fi

expect "help" 0 "usage: amplink trace" -- "$amp" trace --help
expect "stat help" 0 "usage: amplink stat" -- "$amp" stat --help
expect "no such SoC" 1 "nosuch-$$" -- "$amp" trace "nosuch-$$" --on
expect "bad --seconds" 2 "--seconds: 'soon' is not a duration" -- "$amp" trace "$soc" --record x --seconds soon
expect "--on with --record" 2 "--on takes no other option" -- "$amp" trace "$soc" --on --record x
expect "--on and --off" 2 "exclude each other" -- "$amp" trace "$soc" --on --off
expect "stat: a trace option" 2 "--on is not an option of amplink stat" -- "$amp" stat "$soc" --on
"$amp" soc create "$soc" >/dev/null || { echo "FAIL: soc create"; exit 1; }
expect "stat: unknown agent" 2 "--agent: unknown agent 'gpu'" -- "$amp" stat "$soc" --agent gpu
expect "off by default" 0 "tracing is off for SoC $soc" -- "$amp" trace "$soc" --status

# Tracing off: traffic leaves no trace.
n=20
ipm_traffic() { # N MESSAGES apu -> rpu0, each acknowledged before the next
	"$amp" recv --soc "$soc" --as rpu0 --count "$1" --timeout 20000 >"$tmp/recv.out" 2>&1 &
	local rpid=$!
	wait_for 10 sh -c '"$0" soc show "$1" | grep -Eq "^rpu0 .* [1-9][0-9]*$"' "$amp" "$soc"
	local i=0 failed=0
	while [ $i -lt "$1" ]; do
		"$amp" send --soc "$soc" --as apu --to rpu0 --wait --timeout 10000 "m$i" >/dev/null 2>&1 || failed=1
		i=$((i + 1))
	done
	wait "$rpid" || failed=1
	return $failed
}
holds "traffic with tracing off" ipm_traffic 3
expect "off: no agent traced" 0 "no agent has traced yet" -- "$amp" stat "$soc"

# Tracing on; a recorder follows from the oldest record; then N IPM messages and an ICMsg echo of 3 messages.
expect "on" 0 "tracing is on for SoC $soc" -- "$amp" trace "$soc" --on
expect "status on" 0 "tracing is on" -- "$amp" trace "$soc" --status
"$amp" trace "$soc" --record "$tmp/rec.json" --from-start --seconds 600 >"$tmp/rec.out" 2>&1 &
rec_pid=$!
holds "IPM traffic traced" ipm_traffic $n
"$amp" ipc echo --soc "$soc" --as rpu0 --instance ipc_icmsg_rpu0 --endpoint ep 2>"$tmp/echo.err" &
echo_pid=$!
expect "ICMsg traffic traced" 0 "^c$" -- "$amp" ipc send --soc "$soc" --as apu --instance ipc-icmsg-apu \
	--endpoint ep --timeout 10000 --replies 3 a b c
kill "$echo_pid"
wait "$echo_pid"
sleep 0.1 # the recorder's next polls (5 ms each); it reads what is left when it stops anyway
kill -INT "$rec_pid"
wait "$rec_pid"
check "recorder stops on SIGINT" "^recorded [0-9]+ events to .*lost in the rings: 0" "$(cat "$tmp/rec.out")"

# The recording: JSON, one track per agent, time order per track, the counts of each layer.
python3 - "$tmp/rec.json" "$n" >"$tmp/check.out" 2>&1 <<'EOF'
import json, sys
from collections import Counter
d = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
evs = d["traceEvents"]
names = {e["tid"]: e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "thread_name"}
inst = [e for e in evs if e["ph"] == "i"]
assert all(set(e) >= {"ph", "ts", "pid", "tid", "name", "args", "s"} for e in inst), "fields"
tracks = {names[e["tid"]] for e in inst}
assert tracks == {"apu", "rpu0"}, "tracks %s" % tracks
for tid in names:
    ts = [e["ts"] for e in inst if e["tid"] == tid]
    assert ts == sorted(ts), "track %s out of time order" % names[tid]
# The IPM messages first (each send waits for its acknowledgement, so every event of that phase comes before the
# last ipm.send returns), then the ICMsg echo, whose doorbells ring the same IPI channel.
end_ipm = max(e["ts"] for e in inst if names[e["tid"]] == "apu" and e["name"] == "ipm.send")
c = Counter((names[e["tid"]], e["name"]) for e in inst if e["ts"] <= end_ipm)
want = {("apu", "ipm.send"): n, ("apu", "mbox.send"): n, ("apu", "mbox.txdone"): n, ("apu", "ipi.trig"): n,
        ("rpu0", "ipm.rx"): n, ("rpu0", "mbox.rx"): n, ("rpu0", "ipi.ack"): n}
bad = {k: (c[k], v) for k, v in want.items() if c[k] != v}
assert not bad, "IPM phase counts (got, want): %s" % bad
assert c[("rpu0", "irq")] >= n, "irq %d" % c[("rpu0", "irq")]
c = Counter((names[e["tid"]], e["name"]) for e in inst if e["ts"] > end_ipm)
want = {("apu", "ipc.send"): 3, ("rpu0", "icmsg.rx"): 3, ("rpu0", "ipc.send"): 3, ("apu", "icmsg.rx"): 3,
        ("apu", "ipm.send"): 0}
bad = {k: (c[k], v) for k, v in want.items() if c[k] != v}
assert not bad, "ICMsg phase counts (got, want): %s" % bad
assert c[("apu", "mbox.doorbell")] >= 1 and c[("rpu0", "mbox.rx")] >= 1, "doorbells %s" % c
objs = {e["args"]["obj"] for e in inst if names[e["tid"]] == "apu" and e["name"] == "ipc.send"}
assert objs == {"ipc-icmsg-apu"}, "ipc.send objects %s" % objs
print("recording ok")
EOF
check "recording: JSON, tracks, order, counts" "^recording ok$" "$(cat "$tmp/check.out")"

# The counters: the same numbers (they also count what happened before the recorder started: the 3 messages sent
# while tracing was off are not there, tracing being off).
python3 - "$n" >"$tmp/stat.out" 2>&1 <<EOF
import json, subprocess, sys
d = json.loads(subprocess.run(["$amp", "stat", "$soc", "--json"], capture_output=True, text=True, check=True).stdout)
n = int(sys.argv[1])
a = {x["agent"]: x for x in d["agents"]}
assert d["tracing"] is True
assert a["apu"]["counts"]["ipm.send"] == n, a["apu"]["counts"]
assert a["rpu0"]["counts"]["ipm.rx"] == n, a["rpu0"]["counts"]
assert a["apu"]["counts"]["ipc.send"] == 3 and a["apu"]["counts"]["icmsg.rx"] == 3, a["apu"]["counts"]
ipm = [o for o in a["apu"]["objects"] if o["kind"] == "ipm"]
assert len(ipm) == 1 and ipm[0]["counts"]["ipm.send"] == n, ipm
ic = [o for o in a["rpu0"]["objects"] if o["kind"] == "icmsg"]
assert len(ic) == 1 and ic[0]["name"] == "ipc-icmsg-rpu0" and ic[0]["counts"]["icmsg.rx"] == 3, ic
# No error but the doorbell an ICMsg instance had queued when it closed (tx_done -ECANCELED).
assert set(a["apu"]["errors"]) <= {"ECANCELED"} and set(a["rpu0"]["errors"]) <= {"ECANCELED"}, (a["apu"], a["rpu0"])
assert not [o for x in a.values() for o in x["objects"] if o["kind"] != "mbox" and o["errors"]], a
print("stat ok")
EOF
check "stat --json: counts per agent and object" "^stat ok$" "$(cat "$tmp/stat.out")"
expect "stat --agent" 0 "agent rpu0: .*records written" -- "$amp" stat "$soc" --agent rpu0
expect "stat: errors by kind" 0 "errors: none" -- "$amp" stat "$soc" --agent apu

# An error is counted by kind: a send to an offline agent fails with ESHUTDOWN.
"$amp" agent offline --soc "$soc" rpu0 >/dev/null
"$amp" send --soc "$soc" --as apu --to rpu0 --wait --timeout 2000 x >/dev/null 2>&1
"$amp" agent online --soc "$soc" rpu0 >/dev/null
expect "errors by kind" 0 "ESHUTDOWN=[1-9]" -- "$amp" stat "$soc" --agent apu

# A live reader that is stopped (SIGSTOP) does not slow the traffic: every message still goes through.
"$amp" trace "$soc" >"$tmp/live.out" 2>&1 &
live_pid=$!
sleep 0.3 # (had it not started yet, it would only see less)
kill -STOP "$live_pid"
holds "traffic while the reader is stopped" ipm_traffic 10
kill -CONT "$live_pid"
sleep 0.2
kill -INT "$live_pid"
wait "$live_pid"
check "live view prints the events" "apu +ipm +ipm.send" "$(cat "$tmp/live.out")"

expect "off" 0 "tracing is off" -- "$amp" trace "$soc" --off
before=$("$amp" stat "$soc" --json)
holds "traffic after off" ipm_traffic 2
check "off: counters stay" "^$(printf '%s' "$before" | sed 's/[][{}.*^$]/\\&/g')$" "$("$amp" stat "$soc" --json)"

holds "trace files exist" test -e "/dev/shm/amplink-trace.$soc.apu"
"$amp" soc destroy "$soc" >/dev/null
holds "soc destroy removes the trace files" sh -c '! ls /dev/shm | grep -q "^amplink-trace\.$0"' "$soc"
summary test_trace
