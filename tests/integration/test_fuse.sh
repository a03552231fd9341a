#!/usr/bin/env bash
# The user-space channel files of `amplink mount`, used through ordinary system calls: shell redirections, cat, and
# fuse_io (a libc-only program: open/read/write/poll/select with and without O_NONBLOCK), against peer processes
# (`amplink recv` / `amplink send`) of the same build.
# usage: test_fuse.sh AMPLINK_BINARY FUSE_IO_BINARY
# Exit status: 0 passed, 1 failed, 77 skipped (no FUSE here: the reason is printed).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../common/fuse.sh"
amp=$1
io=$2
soc="fusetest-$$"
top=$(mktemp -d)
dir="$top/mnt"
mkdir "$dir"
pids=()

cleanup() {
	is_mounted && unmount -z
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	"$amp" soc destroy "$soc" >/dev/null 2>&1
	rm -rf "$top"
}
trap cleanup EXIT

agent_pid() {
	"$amp" soc show "$soc" | awk -v a="$1" '$1 == a { print $NF }'
}

rpu0_attached() {
	[ "$(agent_pid rpu0)" != "0" ]
}

# The APU masks RPU0's interrupt (IMR bit 8) again once the daemon has processed the release of the channel file
# (close() returns before FUSE delivers the release).
rpu0_file_released() {
	local imr
	imr=$("$amp" soc show "$soc" | awk '$1 == "apu" { print $8 }')
	[ $((imr & 0x100)) -ne 0 ]
}

# hex of DATA zero-padded to 32 bytes, as `amplink recv --hex` prints it ("68 65 ...")
hex32_spaced() {
	local h
	h=$(printf '%s' "$1" | head -c 32 | od -An -tx1 -v | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
	local n
	n=$(printf '%s' "$1" | head -c 32 | wc -c)
	while [ "$n" -lt 32 ]; do
		h="$h${h:+ }00"
		n=$((n + 1))
	done
	echo "$h"
}

# hex of DATA zero-padded to 32 bytes, as fuse_io prints it ("6865...")
hex32() {
	hex32_spaced "$1" | tr -d ' '
}

# ---- mount (skipped where FUSE cannot mount here) ----
fuse_mount_apu
[ -n "$server" ] || { echo "FAIL: no server pid in '$out'"; exit 1; }
pids+=("$server")
check "mount message" "channels of apu on SoC $soc" "$out"
check "mounted" "yes" "$(is_mounted && echo yes)"

# ---- the mount command's errors ----
check "mount: not a directory" "not a directory" "$("$amp" mount "$dir/control" --as apu --soc "$soc" 2>&1)"
check "mount: unknown agent" "unknown agent 'gpu'" "$("$amp" mount "$top" --as gpu --soc "$soc" 2>&1)"
check "mount: unknown SoC" "no SoC named" "$("$amp" mount "$top" --as apu --soc "nosuch-$$" 2>&1)"

# ---- control file: requests and their verification ----
check "empty control" "^$" "$(cat "$dir/control")"
check "ls before request" "^control$" "$(ls "$dir")"
echo "request rpu0" >"$dir/control" && ok || bad "request rpu0"
check "ls after request" "rpu0" "$(ls "$dir")"
check "control lists rpu0" "^rpu0 closed queued=0" "$(cat "$dir/control")"
check "request pmu0 (firmware)" "not permitted" "$( (echo "request pmu0" >"$dir/control") 2>&1)"
check "request rpu0 twice" "busy" "$( (echo "request rpu0" >"$dir/control") 2>&1)"
check "request itself" "Invalid argument" "$( (echo "request apu" >"$dir/control") 2>&1)"
check "request unknown" "Invalid argument" "$( (echo "request gpu" >"$dir/control") 2>&1)"
check "unknown command" "Invalid argument" "$( (echo "explode rpu0" >"$dir/control") 2>&1)"
check "file of an unrequested agent" "No such file" "$(cat "$dir/rpu1" 2>&1)"

# ---- writes against a receiving peer ----
"$amp" recv --soc "$soc" --as rpu0 --count 3 --timeout 20000 --hex >"$top/recv.out" 2>&1 &
recv=$!
pids+=("$recv")
wait_for 10 rpu0_attached || bad "the receiving peer did not attach"
echo hello >"$dir/rpu0" && ok || bad "echo hello > rpu0"
long=0123456789abcdefghijklmnopqrstuvWXYZ4567 # 40 bytes
check "one write of 40 bytes takes 32" "^32$" "$("$io" write "$dir/rpu0" "$long")"
sent_before=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' "$dir/control")
check "write() of 0 bytes returns 0" "^0$" "$("$io" write "$dir/rpu0" "")"
check "write() of 0 bytes does not reach the file system" "sent=$sent_before " "$(cat "$dir/control")"
echo "ring rpu0" >"$dir/control" && ok || bad "ring rpu0 through the control file"
wait "$recv"
check "peer exit" "^0$" "$?"
recv_out=$(cat "$top/recv.out")
check "peer got hello" "^apu: $(hex32_spaced $'hello\n')$" "$(sed -n 1p <<<"$recv_out")"
check "peer got exactly the first 32 bytes" "^apu: $(hex32_spaced "${long:0:32}")$" "$(sed -n 2p <<<"$recv_out")"
check "peer got the ring (buffer unchanged)" "^apu: $(hex32_spaced "${long:0:32}")$" "$(sed -n 3p <<<"$recv_out")"
check "peer got nothing else" "^3$" "$(wc -l <<<"$recv_out")"

# ---- reads ----
check "non-blocking read, empty queue" "^EAGAIN " "$("$io" read --nonblock "$dir/rpu0")"
"$io" read "$dir/rpu0" >"$top/read.out" &
reader=$!
pids+=("$reader")
sleep 0.5
check "blocking read, empty queue: still blocked" "blocked" "$(kill -0 "$reader" 2>/dev/null && echo blocked)"
"$amp" send --soc "$soc" --as rpu0 --to apu --wait ping >/dev/null || bad "peer send ping"
wait_for 10 pid_gone "$reader" || bad "blocking read did not return"
check "blocking read returns the message" "^$(hex32 ping) ms=([4-9][0-9]{2}|[0-9]{4,})$" "$(cat "$top/read.out")"

"$io" select "$dir/rpu0" 10000 >"$top/select.out" &
sel=$!
pids+=("$sel")
sleep 0.3
"$amp" send --soc "$soc" --as rpu0 --to apu --wait sel >/dev/null || bad "peer send sel"
wait_for 10 pid_gone "$sel" || bad "select did not return"
check "select() reports readable" "^ready ms=[0-9]+ $(hex32 sel)$" "$(cat "$top/select.out")"
"$io" poll "$dir/rpu0" in 10000 >"$top/poll.out" &
pl=$!
pids+=("$pl")
sleep 0.3
"$amp" send --soc "$soc" --as rpu0 --to apu --wait pol >/dev/null || bad "peer send pol"
wait_for 10 pid_gone "$pl" || bad "poll did not return"
check "poll() reports POLLIN" "^ready ms=[0-9]+ $(hex32 pol)$" "$(cat "$top/poll.out")"
check "poll() reports POLLOUT while idle" "^ready ms=[0-9]+$" "$("$io" poll "$dir/rpu0" out 1000)"
# Messages that arrive while the file is open are queued, and each read() takes one, in order.
exec 3<"$dir/rpu0"
"$amp" send --soc "$soc" --as rpu0 --to apu --wait one >/dev/null || bad "peer send one"
"$amp" send --soc "$soc" --as rpu0 --to apu --wait two >/dev/null || bad "peer send two"
check "queued: first read()" "^one$" "$(dd bs=4096 count=1 status=none <&3 | tr -d '\0')"
check "queued: second read()" "^two$" "$(dd bs=4096 count=1 status=none <&3 | tr -d '\0')"
exec 3<&-
wait_for 10 rpu0_file_released || bad "the channel file was not released within 10 s of close()"
# A request sent while the file is closed stays pending at the sender and arrives when the file is opened.
"$amp" send --soc "$soc" --as rpu0 --to apu three >/dev/null || bad "peer send three"
check "sent while closed: pending" "rpu0 +[0-9]+ +[0-9]+ 0x[0-9a-f]+ +0x0+ 0x0*1 " "$("$amp" soc show "$soc")"
check "sent while closed: read at open" "^$(hex32 three) " "$(timeout 5 "$io" read "$dir/rpu0")"
check "cat reads a message" "^four$" "$( ("$amp" send --soc "$soc" --as rpu0 --to apu four >/dev/null; \
	timeout 1 cat "$dir/rpu0") | tr -d '\0')"

# ---- one open at a time; release only when closed ----
check "second open" "^0 EBUSY$" "$("$io" open2 "$dir/rpu0")"
exec 3<>"$dir/rpu0"
check "release while open" "busy" "$( (echo "release rpu0" >"$dir/control") 2>&1)"
check "control shows it open" "^rpu0 open" "$(cat "$dir/control")"
exec 3>&-

# ---- nobody acknowledges: non-blocking EAGAIN, blocking write bounded ----
check "non-blocking writes, no receiver" "^1 EAGAIN$" "$("$io" write --nonblock "$dir/rpu0" a b)"
check "poll() without POLLOUT while pending" "^timeout$" "$("$io" poll "$dir/rpu0" out 300)"
check "blocking write, no receiver" "^ETIMEDOUT$" "$("$io" write "$dir/rpu0" c)"
# The pending request is delivered once a receiver comes.
check "pending request delivered later" "^apu: a$" "$("$amp" recv --soc "$soc" --as rpu0 --count 1 --timeout 5000 2>&1)"

# ---- unmount releases everything ----
echo "release rpu0" >"$dir/control" && ok || bad "release rpu0"
check "ls after release" "^control$" "$(ls "$dir")"
echo "request rpu0" >"$dir/control" || bad "request rpu0 again"
exec 3<"$dir/rpu0"
exec 3<&-
unmount || bad "unmount"
wait_for 10 pid_gone "$server" || bad "the server did not exit after unmount"
check "unmounted" "^$" "$(is_mounted && echo mounted)"
check "apu detached" "^0$" "$(agent_pid apu)"

# A new server (foreground, stopped with SIGTERM) can request and open the same channel.
"$amp" mount "$dir" --as apu --soc "$soc" --foreground 2>"$top/fg.err" &
fg=$!
pids+=("$fg")
wait_for 10 is_mounted || bad "the second mount did not appear"
wait_for 10 test -e "$dir/control" || bad "the second mount has no control file"
echo "request rpu0" >"$dir/control" && ok || bad "request rpu0 on the second mount"
"$amp" send --soc "$soc" --as rpu0 --to apu again >/dev/null || bad "peer send again"
check "second mount reads" "^$(hex32 again) " "$(timeout 5 "$io" read "$dir/rpu0")"
kill -TERM "$fg"
wait_for 10 pid_gone "$fg" || bad "the foreground server did not stop on SIGTERM"
check "unmounted after SIGTERM" "^$" "$(is_mounted && echo mounted)"
check "apu detached after SIGTERM" "^0$" "$(agent_pid apu)"

summary test_fuse
