# A headless service as QEMU users start one: -daemonize -pidfile F
# -qmp unix:S,server,nowait, with QEMU's -sandbox deny keys and
# -overcommit mem-lock=on, the console in a file and COM2 on
# -serial unix:S2,server,nowait (a client reads what the guest writes).
# The starting ember returns 0 once the VM is set up; the pid file names
# the running ember, is locked (a second ember with it is refused), and is
# removed when the VM stops on QMP quit (socat).
# e2e-timeout: 200
# e2e-needs: socat
# shellcheck source=../lib.sh
. "$E2E_LIB"
need_ember
need_kvm
need_cmd socat
pidf=$E2E_TMP/vm.pid sock=$E2E_TMP/vm.qmp con=$E2E_TMP/console.log com2=$E2E_TMP/com2.sock
truncate -s 4M disk.img
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "GUEST-UP vda=$(cat /sys/block/vda/size)"
sleep 2
echo COM2-HELLO >/dev/ttyS1
sleep 600
GUEST
trap '[ -s "$pidf" ] && kill "$(cat "$pidf")" 2>/dev/null' EXIT
run_ember --timeout 60 -daemonize -pidfile "$pidf" -qmp "unix:$sock,server,nowait" \
	-kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 128M -append "$E2E_APPEND" \
	-serial "file:$con" -serial "unix:$com2,server,nowait" \
	-drive file=disk.img,if=virtio,format=raw \
	-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny \
	-overcommit mem-lock=on
expect_eq "$?" 0 "exit status of the starting ember"
[ -s "$pidf" ] || fail "no pid file once the starting ember returned"
# COM2's client, before the guest is up (output with no client is dropped)
timeout 150 socat -u "UNIX-CONNECT:$com2" - >"$E2E_TMP/com2.out" 2>&1 &
pid=$(cat "$pidf")
note "pid file: $pid"
kill -0 "$pid" 2>/dev/null || fail "pid $pid of the pid file is not running"
expect_eq "$(readlink "/proc/$pid/exe")" "$(readlink -f "$EMBER")" "the pid file's program"
tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "-daemonize" || fail "pid $pid is not the daemon"
# its own session, no terminal; the sandbox on; guest RAM locked
expect_eq "$(awk '{ print $6 }' "/proc/$pid/stat")" "$pid" "session of the daemon"
expect_eq "$(awk '/^Seccomp:/ { print $2 }' "/proc/$pid/status")" 2 "seccomp mode"
lck=$(awk '/^VmLck:/ { print $2 }' "/proc/$pid/status")
[ "$lck" -ge 131072 ] || fail "VmLck is $lck kB, less than guest RAM (mem-lock=on)"
wait_for "$con" "GUEST-UP vda=8192" 120
wait_for "$E2E_TMP/com2.out" COM2-HELLO 30
# the pid file is locked: a second ember with it stops at once
expect_usage_error second "-pidfile .*vm.pid: locked by another process" \
	-pidfile "$pidf" -kernel "$LAB_KERNEL" -m 64M
expect_eq "$(cat "$pidf")" "$pid" "the pid file after the second ember"
printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"quit"}' |
	timeout 20 socat - "UNIX-CONNECT:$sock" >"$E2E_TMP/qmp.out" 2>&1
sed 's/^/| qmp: /' "$E2E_TMP/qmp.out"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.2; i=$((i + 1)); done
kill -0 "$pid" 2>/dev/null && fail "the daemon did not stop on quit"
[ -e "$pidf" ] && fail "the pid file is left after the daemon stopped"
[ -e "$sock" ] && fail "the QMP socket is left after the daemon stopped"
[ -e "$com2" ] && fail "COM2's socket is left after the daemon stopped"
trap - EXIT
