# What the shell tests share (sourced, after `set -u`): the pass/fail counters and the checks that move them.
#   ok / bad MESSAGE...                     count a pass / a failure (printed with FAIL:)
#   check NAME WANT_REGEX OUTPUT            OUTPUT matches WANT_REGEX
#   holds NAME COMMAND...                   COMMAND (a test(1) or grep) succeeds; its output is not shown
#   expect NAME WANT_STATUS PATTERN -- COMMAND...
#                                           run COMMAND; its exit status is WANT_STATUS and stdout+stderr match
#                                           PATTERN (the last 40 lines shown when not)
#   wait_for SECONDS COMMAND...             until COMMAND succeeds (status 1 when SECONDS pass first)
#   pid_gone PID                            no such process
#   summary NAME                            print "NAME: N passed, M failed"; exit 0 if none failed, else 1
pass=0
fail=0

ok() {
	pass=$((pass + 1))
}

bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}

check() {
	if grep -Eq -- "$2" <<<"$3"; then
		ok
	else
		bad "$1: got '$3', wanted /$2/"
	fi
}

holds() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then
		ok
	else
		bad "$name: $*"
	fi
}

expect() {
	local name=$1 want=$2 pattern=$3
	shift 4
	local out status
	out=$("$@" 2>&1)
	status=$?
	if [ "$status" -eq "$want" ] && grep -Eq -- "$pattern" <<<"$out"; then
		ok
	else
		bad "$name: status $status (want $want), output did not match /$pattern/:"
		sed 's/^/    /' <<<"$out" | tail -40
	fi
}

wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.05
	done
}

pid_gone() {
	! kill -0 "$1" 2>/dev/null
}

summary() {
	echo "$1: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
