#!/usr/bin/env bash
# amplink bench's outputs people look at, and the instruction counts: the latency histogram in the JSON (counts
# summing to each row's round trips), the figures gnuplot draws (--plot), progress on stderr only on a terminal
# and not with --quiet, and scripts/icount.sh's output (parses, same numbers on every run, budgets enforced, the
# columns beside a build without trace points).
# usage: test_bench.sh AMPLINK_BINARY BUILD_DIR SOURCE_DIR
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
amp=$1
build=$2
src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Options that need nothing to run.
expect "bench help names --plot" 0 "--plot DIR" -- "$amp" bench --help
expect "bench bad plot format" 2 "--plot-format: 'gif' is not svg or png" -- "$amp" bench --plot "$tmp/p" --plot-format gif
expect "bench plot without gnuplot" 2 "gnuplot not found \(install Debian's gnuplot-nox" -- \
	env AMPL_GNUPLOT="$tmp/no-gnuplot" "$amp" bench --plot "$tmp/nope" --count 100
[ ! -e "$tmp/nope" ] || { fail=$((fail + 1)); echo "FAIL: --plot without gnuplot ran the benchmark"; }
expect "bench rows matching nothing" 2 "--rows: no row's name holds 'zigbee' \(see --help for the rows\)" -- \
	"$amp" bench --rows zigbee --count 100
expect "bench rows of the limits only" 2 "--rows: no row's name holds 'limit'" -- "$amp" bench --rows limit
expect "bench help names --rows" 0 "--rows TEXT" -- "$amp" bench --help

# The demo's figures: it says what they depend on.
expect "demo timing note" 0 "times depend on this machine's load and on which CPUs" -- "$amp" demo --count 50

if [ "${AMPL_TEST_SCALE:-}" = sanitizer ]; then
	# A sanitized benchmark measures the sanitizer (and valgrind does not run sanitized programs).
	echo "note: bench runs and instruction counts skipped in a sanitizer build"
	summary test_bench
	exit
fi

# --rows: the rows whose name holds the text (any case) and the limit rows, nothing else, each target line whose
# rows ran.
"$amp" bench --rows icmsg --count 300 --seconds 0.01 --quiet >"$tmp/rows.txt" 2>&1
expect "bench rows: status and the chosen rows" 0 "ICMsg \(IPC service\), adaptive" -- cat "$tmp/rows.txt"
expect "bench rows: the limits beside them" 0 "futex ping-pong \(limit\).*" -- cat "$tmp/rows.txt"
expect "bench rows: throughput" 0 "4096  ICMsg, copy" -- cat "$tmp/rows.txt"
others="(RPMsg|multi-endpoint|IPM|raw IPI|mailbox client|iceoryx)"
expect "bench rows: no other row" 1 "^$" -- \
	grep -E "^$others|^ +[0-9]+  $others|^  (round trip|one way) $others" "$tmp/rows.txt"
expect "bench rows: the ICMsg targets" 0 "one way ICMsg, copy at 256 B / ring limit" -- cat "$tmp/rows.txt"

# The histogram: every latency row has one, its counts sum to the row's round trips, its buckets are those the
# header describes (log-scaled, per_decade buckets per decade from min_us), in order.
plot_args=()
have_gnuplot=0
if command -v gnuplot >/dev/null; then
	have_gnuplot=1
	plot_args=(--plot "$tmp/fig")
else
	echo "SKIP: figures (gnuplot not installed: Debian's gnuplot-nox)"
fi
expect "bench short with json" 0 "One-way streaming" -- sh -c '"$@" >"$0" 2>&1; st=$?; cat "$0"; exit $st' \
	"$tmp/out.txt" "$amp" bench --count 1000 --seconds 0.02 --json "$tmp/b.json" "${plot_args[@]}"
expect "bench histogram" 0 "histograms ok" -- python3 -c 'import json, math, sys
j = json.load(open(sys.argv[1]))
hb = j["histogram_buckets"]
assert hb["per_decade"] == 10 and hb["min_us"] == 0.01 and hb["buckets"] == 80, hb
assert len(j["results"]) == 22, len(j["results"])
for r in j["results"]:
    if r["status"] != "ok":
        continue  # the iceoryx row when it cannot run: checked below
    h = r["histogram"]
    assert h, r["name"]
    assert sum(c for lo, hi, c in h) == r["n"], (r["name"], r["n"], h)
    for lo, hi, c in h:
        k = round(math.log10(lo / hb["min_us"]) * hb["per_decade"])
        assert 0 <= k < hb["buckets"] and c > 0, (r["name"], lo, hi, c)
        assert math.isclose(lo, hb["min_us"] * 10 ** (k / 10), rel_tol=1e-4), (lo, k)
        assert math.isclose(hi, hb["min_us"] * 10 ** ((k + 1) / 10), rel_tol=1e-4), (hi, k)
    assert all(a[1] <= b[0] * (1 + 1e-6) for a, b in zip(h, h[1:])), (r["name"], h)
    # the median falls in a bucket at or below the one holding p50 and p90 above it
    below = sum(c for lo, hi, c in h if hi <= r["p50"] * (1 - 1e-6))
    assert below <= r["n"] / 2 + 1, (r["name"], r["p50"], h)
print("histograms ok")' "$tmp/b.json"
# The iceoryx rows: measured beside amplink's in the same run, with sane figures, or skipped with the reason (no
# iceoryx in this build, no iox-roudi, RouDi not ready in time, another RouDi running).
expect "bench iceoryx rows" 0 "iceoryx rows ok" -- python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
lat = [r for r in j["results"] if r["name"] == "iceoryx pub/sub, polling"]
tp = [r for r in j["throughput"] if r["name"] == "iceoryx, zero-copy"]
assert len(lat) == 1 and sorted(r["size"] for r in tp) == [32, 256, 4096], (lat, tp)
for r in lat + tp:
    # A row that got no result within its time bound (a loaded machine) is reported, not failed: timings never
    # fail a test. So is a sender aborted by the iceoryx runtime (SIGABRT: its own time-outs towards RouDi on a
    # loaded machine; the harness reports its own failures with a reason of its own). Any other failure fails.
    reason = r.get("reason", "")
    timed_out = r["status"] == "failed" and (reason.startswith("no result within") or
                                             reason == "the sending process ended with signal 6")
    assert r["status"] in ("ok", "skipped") or timed_out, r
    if timed_out:
        print("iceoryx row not measured:", r["name"], reason)
    if r["status"] == "skipped":
        assert len(r["reason"]) > 10, r
        print("iceoryx skipped:", r["reason"])
r = lat[0]
if r["status"] == "ok":
    assert 0 < r["p50"] <= r["p90"] <= r["p99"] <= r["max"] and r["n"] == j["count"], r
    assert r["p50"] >= [x for x in j["results"] if x["name"] == "cache-line ping-pong (limit)"][0]["p50"] / 2, r
for r in tp:
    if r["status"] == "ok":
        assert r["msgs"] > 0 and r["msgs_per_s"] > 0 and r["gb_per_s"] > 0, r
        assert r["msgs"] / r["msgs_per_s"] >= j["seconds"] * 0.9, r  # streamed for --seconds
print("iceoryx rows ok")' "$tmp/b.json"
expect "bench iceoryx rows in the text" 0 "iceoryx pub/sub, polling +([0-9.]+ |skipped: |FAILED: (no result within |the sending process ended with signal 6)).*iceoryx, zero-copy" -- \
	tr '\n' ' ' <"$tmp/out.txt"
# Without RouDi, or with one that ends at once, the rows say why; the benchmark still exits 0.
expect "bench iceoryx without iox-roudi" 0 "4096  iceoryx, zero-copy +skipped: (iox-roudi not found \(Debian's iceoryx package; AMPL_IOX_ROUDI names no program\)|built without iceoryx)" -- \
	env AMPL_IOX_ROUDI="$tmp/no-iox-roudi" "$amp" bench --only throughput --seconds 0.01 --quiet
expect "bench iceoryx RouDi ends at once" 0 "32  iceoryx, zero-copy +skipped: (.*/false exited \(status 1\) before it was ready: no output|built without iceoryx)" -- \
	env AMPL_IOX_ROUDI="$(type -P false)" "$amp" bench --only throughput --seconds 0.01 --quiet
if [ "$have_gnuplot" = 1 ]; then
	for f in latency-polling latency-adaptive latency-blocking throughput; do
		expect "figure $f.svg" 0 "<svg" -- head -c 4000 "$tmp/fig/$f.svg"
	done
	expect "figure data and script" 0 "latency.dat" -- ls "$tmp/fig/latency.dat" "$tmp/fig/throughput.dat" "$tmp/fig/bench.gp"
	expect "figures png" 0 "Figures in .*throughput \(\.png" -- \
		"$amp" bench --only throughput --seconds 0.01 --plot "$tmp/png" --plot-format png --quiet
	expect "figure png magic" 0 "PNG" -- head -c 8 "$tmp/png/throughput.png"
	[ ! -e "$tmp/png/latency-polling.png" ] || { fail=$((fail + 1)); echo "FAIL: latency figure without latency rows"; }
fi

# Progress: on stderr when it is a terminal (script(1) gives one), not with --quiet, not when it is a file.
"$amp" bench --only throughput --seconds 0.01 >/dev/null 2>"$tmp/err.txt"
if grep -q "throughput 1/23" "$tmp/err.txt"; then
	fail=$((fail + 1))
	echo "FAIL: progress written to stderr that is not a terminal:"
	cat "$tmp/err.txt"
else
	pass=$((pass + 1))
fi
if command -v script >/dev/null; then
	expect "progress on a terminal" 0 "throughput 23/23: iceoryx, zero-copy" -- \
		script -qec "$amp bench --only throughput --seconds 0.01" /dev/null
	out=$(script -qec "$amp bench --only throughput --seconds 0.01 --quiet" /dev/null 2>&1)
	if grep -q "throughput 1/23" <<<"$out"; then
		fail=$((fail + 1))
		echo "FAIL: progress with --quiet"
	else
		pass=$((pass + 1))
	fi
else
	echo "SKIP: progress on a terminal (script(1) missing)"
fi

# Instruction counts: every layer's line parses, the numbers are the same on a second run, a budget fails.
if ! command -v valgrind >/dev/null; then
	echo "SKIP: instruction counts (valgrind not installed)"
elif [ ! -x "$build/bench/ampl_bench" ]; then
	echo "SKIP: instruction counts (the benchmarks are not built: AMPL_BUILD_BENCH=OFF)"
else
	"$src/scripts/icount.sh" --build "$build" --count 300 >"$tmp/ic1.txt" 2>&1
	st=$?
	expect "icount output parses" 0 "icount parsed" -- python3 -c 'import re, sys
text = open(sys.argv[1]).read()
assert sys.argv[2] == "0", "exit status " + sys.argv[2] + "\n" + text
rows = dict((m[0], (float(m[1]), m[2])) for m in re.findall(r"^icount +(\S+) +([0-9.]+) +([0-9.]+x)$", text, re.M))
want = "ring raw mbox ipm ipm-direct icmsg icmsg-polled icmsg-stream multi multi-zc multi-inline rpmsg rpmsg-zc".split()
assert sorted(rows) == sorted(want), (rows, text)
assert rows["ring"][1] == "1.0x", rows["ring"]
assert all(v[0] > rows["ring"][0] for k, v in rows.items() if k != "ring"), rows
assert rows["multi-inline"][0] < 0.8 * rows["multi"][0], rows  # no block, no release: fewer instructions
assert text.rstrip().endswith("icount ok"), text
print("icount parsed")' "$tmp/ic1.txt" "$st"
	printf '# a budget the ICMsg layer cannot meet\nicmsg 10\n' >"$tmp/budget.txt"
	expect "icount budget exceeded" 1 "icount FAILED: icmsg: [0-9.]+ instructions per message, above its budget of 10" -- \
		"$src/scripts/icount.sh" --build "$build" --count 300 --budget "$tmp/budget.txt"
	# Beside a build with the trace points compiled out: here the same build, so tracing off costs nothing in every
	# layer, and a trace-off budget below nothing fails; the counts are those of the first run.
	printf '# a tracing-off cost no layer can meet\ntrace-off -0.5\n' >"$tmp/budget-trace.txt"
	"$src/scripts/icount.sh" --build "$build" --count 300 --notrace "$build" --budget "$tmp/budget-trace.txt" \
		>"$tmp/ic2.txt" 2>&1
	st=$?
	expect "icount beside a build without trace points" 0 "icount notrace parsed" -- python3 -c 'import re, sys
one, two = (open(f).read() for f in sys.argv[1:3])
assert sys.argv[3] == "1", "exit status " + sys.argv[3] + "\n" + two
rows = re.findall(r"^icount +(\S+) +([0-9.]+) +([0-9.]+x) +([0-9.]+) +([-+][0-9.]+) +([-+][0-9.]+)%$", two, re.M)
want = "ring raw mbox ipm ipm-direct icmsg icmsg-polled icmsg-stream multi multi-zc multi-inline rpmsg rpmsg-zc".split()
assert [r[0] for r in rows] == want, (rows, two)
assert all(r[1] == r[3] and float(r[4]) == 0 and float(r[5]) == 0 for r in rows), rows
first = re.findall(r"^icount +(\S+) +([0-9.]+) +([0-9.]+x)$", one, re.M)
assert [r[:3] for r in rows] == first, "counts differ between two runs: %s %s" % (first, rows)
assert all("icount FAILED: %s: tracing off costs +0.0%% of a message, above its budget of -0.5%%" % l in two
           for l in want), two
print("icount notrace parsed")' "$tmp/ic1.txt" "$tmp/ic2.txt" "$st"
	expect "icount --notrace not built" 2 "--notrace: $tmp/nope/bench/ampl_icount not built" -- \
		"$src/scripts/icount.sh" --build "$build" --notrace "$tmp/nope"
	expect "icount bad count" 2 "not a message count" -- "$src/scripts/icount.sh" --build "$build" --count x
fi

summary test_bench
