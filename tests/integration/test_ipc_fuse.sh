#!/usr/bin/env bash
# The IPC endpoint files of `amplink mount` (DIR/<instance>/control, DIR/<instance>/<endpoint>), used from the shell
# (redirections, cat, dd) and by ipc_io (a libc-only program: open/read/write/poll/select), against `amplink ipc
# echo` peers of the same build, for ICMsg, the multi-endpoint backend and RPMsg.
# usage: test_ipc_fuse.sh AMPLINK_BINARY IPC_IO_BINARY
# Exit status: 0 passed, 1 failed, 77 skipped (no FUSE here: the reason is printed).
set -u
. "$(dirname "${BASH_SOURCE[0]}")/../common/check.sh"
. "$(dirname "${BASH_SOURCE[0]}")/../common/fuse.sh"
amp=$1
io=$2
soc="ipcfuse-$$"
top=$(mktemp -d)
dir="$top/mnt"
mkdir "$dir"
server=""

cleanup() {
	is_mounted && unmount -z
	jobs -p | xargs -r kill 2>/dev/null
	[ -n "$server" ] && kill "$server" 2>/dev/null
	"$amp" soc destroy "$soc" >/dev/null 2>&1
	rm -rf "$top"
}
trap cleanup EXIT

# ---- mount (skipped where FUSE cannot mount here) ----
fuse_mount_apu

# ---- the layout: one directory per IPC instance of the agent, named by its devicetree node ----
check "ls: the instances" "^control ipc-icmsg-apu ipc-multi-apu ipc-rpmsg-apu$" "$(ls "$dir" | tr '\n' ' ' | sed 's/ $//')"
check "ls: an instance" "^control$" "$(ls "$dir/ipc-multi-apu")"
check "not another agent's instance" "No such file" "$(ls "$dir/ipc-multi-rpu1" 2>&1)"

# ---- from the shell: create, write, read, errors, destroy ----
inst="$dir/ipc-multi-apu"
echo "create sh" >"$inst/control" && ok || bad "create sh"
check "ls after create" "^control sh$" "$(ls "$inst" | tr '\n' ' ' | sed 's/ $//')"
check "control: unbound" "^sh unbound closed max=0 queued=0" "$(cat "$inst/control")"
check "unknown command" "Invalid argument" "$( (echo "frob sh" >"$inst/control") 2>&1)"
check "create twice" "File exists" "$( (echo "create sh" >"$inst/control") 2>&1)"
check "write before the peer: ENOTCONN" "not connected" "$( (printf early >"$inst/sh") 2>&1)"
"$amp" ipc echo --soc "$soc" --as rpu1 --instance ipc-multi-rpu1 --endpoint sh 2>"$top/echo.err" &
echo_pid=$!
wait_for 10 grep -q "^sh bound" "$inst/control" || bad "sh not bound within 10 s: $(cat "$inst/control")"
exec 3<>"$inst/sh"
printf 'hello from the shell' >&3 && ok || bad "write through fd 3"
check "one read, one message" "^hello from the shell$" "$(timeout 10 dd bs=65536 count=1 status=none <&3)"
check "control: counters" "^sh bound open max=[0-9]+ queued=0 received=1 read=1 sent=1 dropped=0" "$(cat "$inst/control")"
check "too large: EMSGSIZE" "Message too long" "$( (head -c 70000 /dev/zero | tr '\0' x | dd bs=70000 count=1 iflag=fullblock status=none >&3) 2>&1)"
printf 'after' >&3 && ok || bad "write after EMSGSIZE"
check "nothing sent of the large one" "^after$" "$(timeout 10 dd bs=65536 count=1 status=none <&3)"
check "destroy while open: EBUSY" "busy" "$( (echo "destroy sh" >"$inst/control") 2>&1)"
exec 3>&-
wait_for 10 sh -c "echo 'destroy sh' >'$inst/control'" 2>/dev/null && ok || bad "destroy sh"
check "ls after destroy" "^control$" "$(ls "$inst")"
kill "$echo_pid"
wait "$echo_pid" && ok || bad "echo peer: $(cat "$top/echo.err")"

# ---- a program's system calls, per backend (ipc_io starts its own echo peer) ----
"$io" "$amp" "$soc" "$dir" ipc-icmsg-apu rpu0 ipc-icmsg-rpu0 e-icmsg && ok || bad "ipc_io: ICMsg"
"$io" "$amp" "$soc" "$dir" ipc-multi-apu rpu1 ipc-multi-rpu1 e-multi --unbinds && ok || bad "ipc_io: multi-endpoint"
"$io" "$amp" "$soc" "$dir" ipc-rpmsg-apu rpu0 ipc-rpmsg-rpu0 e-rpmsg --unbinds && ok || bad "ipc_io: RPMsg"

# ---- RPMsg addresses, as /dev/rpmsg_ctrlN creates endpoints: `create NAME SRC DST` ----
# Different names on the two sides, so only the addresses can connect them (no name-service binding).
rp="$dir/ipc-rpmsg-apu"
check "create: address 53 is the name service" "Invalid argument" "$( (echo "create ns 53 1200" >"$rp/control") 2>&1)"
check "create: one address only" "Invalid argument" "$( (echo "create half 1100" >"$rp/control") 2>&1)"
check "create: not a number" "Invalid argument" "$( (echo "create nan 11x0 1200" >"$rp/control") 2>&1)"
check "create: addresses on ICMsg" "not supported" "$( (echo "create a 1100 1200" >"$dir/ipc-icmsg-apu/control") 2>&1)"
"$amp" ipc echo --soc "$soc" --as rpu0 --instance ipc-rpmsg-rpu0 --endpoint right --src 1200 --dst 1100 \
	2>"$top/echo-addr.err" &
echo_pid=$!
echo "create left 1100 1200" >"$rp/control" && ok || bad "create left 1100 1200"
check "control: the addresses" "^left .* src=1100 dst=1200$" "$(cat "$rp/control")"
exec 3<>"$rp/left"
# bound once the link is up, without an announcement (the peer's endpoint has another name)
wait_for 10 grep -q "^left bound" "$rp/control" && ok || bad "left not bound: $(cat "$rp/control")"
reply=""
for i in $(seq 1 50); do # the echo registers its endpoint after it starts: resend until it answers
	printf 'by address' >&3 2>/dev/null
	reply=$(timeout 0.2 dd bs=65536 count=1 status=none <&3) && [ -n "$reply" ] && break
done
check "echo through fixed addresses" "^by address$" "$reply"
exec 3>&-
echo "destroy left" >"$rp/control" && ok || bad "destroy left"
kill "$echo_pid"
wait "$echo_pid" && ok || bad "echo peer with addresses: $(cat "$top/echo-addr.err")"
check "ipc: --src on two endpoints" "one --endpoint" \
	"$("$amp" ipc echo --soc "$soc" --as rpu0 --instance ipc-rpmsg-rpu0 --endpoint a --endpoint b --src 1200 2>&1)"

# ---- unmount destroys every endpoint and detaches ----
echo "create left" >"$dir/ipc-multi-apu/control" || bad "create left"
unmount || bad "unmount"
wait_for 10 pid_gone "$server" || bad "the server did not exit after unmount"
check "apu detached" "^0$" "$("$amp" soc show "$soc" | awk '$1 == "apu" { print $NF }')"

summary test_ipc_fuse
