#!/usr/bin/env bash
# Instructions per message of each layer of the stack under callgrind, beside the plain ring's: numbers that are
# the same on every run (no machine noise), so that a regression shows as a number that grew.
#
# usage: scripts/icount.sh [--build DIR] [--count N] [--budget FILE] [--notrace DIR]
#   --build DIR    the build with bench/ampl_icount (default: build)
#   --count N      messages per layer (default 10000)
#   --budget FILE  fail (exit 1) if a layer's count is above its budget in FILE (lines "layer max"; # comments),
#                  or, with --notrace, if a layer's tracing-off cost is above the percentage of line "trace-off"
#   --notrace DIR  also count each layer in DIR, a build with the trace points compiled out (-DAMPL_TRACE=OFF):
#                  what the trace points cost per message while tracing is off, beside --build's count
#
# Output: one line per layer, "icount LAYER INSTRUCTIONS_PER_MESSAGE RATIO_TO_RING", with --notrace followed by
# "COMPILED_OUT +DIFFERENCE +PERCENT%", then "icount ok" (or "icount FAILED: ..." lines and exit 1). Exit 2: bad
# usage or valgrind missing.
set -u
build=build
count=10000
budget=
notrace=
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--count) count=$2; shift 2 ;;
	--budget) budget=$2; shift 2 ;;
	--notrace) notrace=$2; shift 2 ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "icount.sh: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
case "$count" in '' | *[!0-9]* | 0) echo "icount.sh: --count: '$count' is not a message count" >&2; exit 2 ;; esac
prog=$build/bench/ampl_icount
if ! command -v valgrind >/dev/null; then
	echo "icount.sh: valgrind not found (install Debian's valgrind: apt-get install valgrind)" >&2
	exit 2
fi
if [ ! -x "$prog" ]; then
	echo "icount.sh: $prog not built (make, or cmake --build $build --target ampl_icount)" >&2
	exit 2
fi
if [ -n "$notrace" ] && [ ! -x "$notrace/bench/ampl_icount" ]; then
	echo "icount.sh: --notrace: $notrace/bench/ampl_icount not built (cmake -S . -B $notrace -DAMPL_TRACE=OFF," \
		"then cmake --build $notrace --target ampl_icount)" >&2
	exit 2
fi
if [ -n "$budget" ] && [ ! -r "$budget" ]; then
	echo "icount.sh: --budget: cannot read '$budget'" >&2
	exit 2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# count PROGRAM LAYER: prints the instructions per message of LAYER's loop, or says why not and returns 1.
count() {
	local prog=$1 l=$2 out=$tmp/$2.out total
	if ! valgrind --tool=callgrind --collect-atstart=no --toggle-collect="icount_${l//-/_}" \
		--callgrind-out-file="$out" "$prog" "$l" "$count" >"$tmp/$l.log" 2>&1; then
		echo "icount FAILED: $l: $prog or valgrind failed:"
		sed 's/^/    /' "$tmp/$l.log" | grep -v '^    ==' | tail -5
		return 1
	fi
	total=$(sed -n 's/^totals: \([0-9]*\).*/\1/p' "$out")
	if [ -z "$total" ] || [ "$total" -eq 0 ]; then
		echo "icount FAILED: $l: no instructions counted in icount_${l//-/_} ($prog)"
		return 1
	fi
	awk -v t="$total" -v n="$count" 'BEGIN { printf "%.1f", t / n }'
}

layers="ring raw mbox ipm ipm-direct icmsg icmsg-polled icmsg-stream multi multi-zc multi-inline rpmsg rpmsg-zc"
echo "Instructions per 32-byte message, one way, sender and receiver in one thread ($count messages, callgrind)"
if [ -n "$notrace" ]; then
	echo "Beside it the same loop with the trace points compiled out ($notrace), and what they cost while tracing is off"
	printf '%-8s %-12s %10s %9s %12s %16s\n' "" layer "instr/msg" "/ ring" "no trace" "tracing off"
	trace_max=$([ -n "$budget" ] && awk '$1 == "trace-off" { print $2 }' "$budget")
else
	printf '%-8s %-12s %10s %9s\n' "" layer "instr/msg" "/ ring"
fi
failed=0
ring=
for l in $layers; do
	if ! per=$(count "$prog" "$l"); then
		echo "$per"
		failed=1
		continue
	fi
	[ "$l" = ring ] && ring=$per
	ratio=$(awk -v p="$per" -v r="${ring:-0}" 'BEGIN { if (r > 0) printf "%.1fx", p / r; else printf "-" }')
	if [ -z "$notrace" ]; then
		printf 'icount   %-12s %10s %9s\n' "$l" "$per" "$ratio"
	elif ! base=$(count "$notrace/bench/ampl_icount" "$l"); then
		echo "$base"
		failed=1
		continue
	else
		diff=$(awk -v p="$per" -v b="$base" 'BEGIN { printf "%+.1f %+.1f%%", p - b, (b > 0 ? 100 * (p - b) / b : 0) }')
		printf 'icount   %-12s %10s %9s %12s %8s %7s\n' "$l" "$per" "$ratio" "$base" $diff
		pct=${diff#* }
		pct=${pct%\%}
		if [ -n "$trace_max" ] && awk -v p="$pct" -v m="$trace_max" 'BEGIN { exit !(p > m) }'; then
			echo "icount FAILED: $l: tracing off costs $pct% of a message, above its budget of $trace_max% ($budget)"
			failed=1
		fi
	fi
	if [ -n "$budget" ]; then
		max=$(awk -v l="$l" '$1 == l { print $2 }' "$budget")
		if [ -n "$max" ] && awk -v p="$per" -v m="$max" 'BEGIN { exit !(p > m) }'; then
			echo "icount FAILED: $l: $per instructions per message, above its budget of $max ($budget)"
			failed=1
		fi
	fi
done
if [ "$failed" -ne 0 ]; then
	exit 1
fi
echo "icount ok"
