# -no-shutdown, with QMP on a chardev (-mon chardev=ID,mode=control): the
# guest powers itself off; ember stays, paused in state "shutdown", with
# SHUTDOWN then STOP sent; cont is refused as QEMU refuses it; quit ends it
# (SHUTDOWN host-qmp-quit). A guest panic under -no-shutdown: GUEST_PANICKED
# (pause), state guest-panicked. Bad -mon/-monitor options fail at once.
# e2e-timeout: 240
# e2e-needs: socat
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
need_kvm
need_cmd socat
MON=$E2E_TMP/mon.sock

expect_usage_error mon-nochardev "-mon chardev=nope,mode=control: no -chardev with id 'nope'" \
	-kernel "$LAB_KERNEL" -mon chardev=nope,mode=control
expect_usage_error mon-mode "mode=fancy: expected readline (the human monitor) or control (QMP)" \
	-kernel "$LAB_KERNEL" -chardev "socket,id=m,path=$MON,server=on,wait=off" -mon chardev=m,mode=fancy
expect_usage_error monitor-vc "-monitor vc: expected none, stdio, null, pty, file:PATH" \
	-kernel "$LAB_KERNEL" -monitor vc
expect_usage_error mon-pretty "pretty=on: ember's QMP sends one line a text" \
	-kernel "$LAB_KERNEL" -chardev "socket,id=m,path=$MON,server=on,wait=off" \
	-mon chardev=m,mode=control,pretty=on

make_initrd "$E2E_TMP/off" --script - <<'GUEST'
echo GUEST-UP
poweroff -f
GUEST
qmp_ember -S -no-shutdown -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/off" -m 256M \
	-append "$E2E_APPEND" -monitor none \
	-chardev "socket,id=m,path=$MON,server=on,wait=off" -mon chardev=m,mode=control
wait_sock "$MON"
client_open a 3 "$MON"
expect_reply a 3 a0 '{"execute": "qmp_capabilities", "id": "a0"}' '{"return":{},"id":"a0"}'
expect_reply a 3 a1 '{"execute": "cont", "id": "a1"}' '{"return":{},"id":"a1"}'
wait_for "$EMBER_LOG" GUEST-UP 120
wait_count a '"event":"SHUTDOWN","data":{"guest":true,"reason":"guest-shutdown"}' 1
wait_count a '"event":"STOP"' 1
kill -0 "$EMBER_PID" || fail "ember exited under -no-shutdown"
expect_reply a 3 a2 '{"execute": "query-status", "id": "a2"}' '"status":"shutdown","singlestep":false,"running":false'
expect_reply a 3 a3 '{"execute": "cont", "id": "a3"}' \
	'{"error":{"class":"GenericError","desc":"Resetting the Virtual Machine is required'
expect_reply a 3 a4 '{"execute": "quit", "id": "a4"}' '{"return":{},"id":"a4"}'
wait_count a '"event":"SHUTDOWN","data":{"guest":false,"reason":"host-qmp-quit"}' 1
ember_exit 0
expect_in "$EMBER_LOG" "guest powered off (ACPI S5); paused (-no-shutdown)"
exec 3>&-

# A panic under -no-shutdown: paused in guest-panicked.
make_initrd "$E2E_TMP/panic" --script - <<'GUEST'
echo GUEST-UP
echo c >/proc/sysrq-trigger
GUEST
rm -f "$QMP_SOCK"
qmp_ember -no-shutdown -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/panic" -m 256M \
	-append "$E2E_APPEND" -qmp "unix:$QMP_SOCK,server=on,wait=on"
wait_sock "$QMP_SOCK"
client_open p 5 "$QMP_SOCK"
expect_reply p 5 p0 '{"execute": "qmp_capabilities", "id": "p0"}' '{"return":{},"id":"p0"}'
wait_for "$EMBER_LOG" "Kernel panic" 120
wait_count p '"event":"GUEST_PANICKED","data":{"action":"pause"}' 1
wait_count p '"event":"STOP"' 1
expect_reply p 5 p1 '{"execute": "query-status", "id": "p1"}' '"status":"guest-panicked","singlestep":false,"running":false'
expect_not_in "$E2E_TMP/p.out" '"event":"SHUTDOWN"'
expect_reply p 5 p2 '{"execute": "quit", "id": "p2"}' '{"return":{},"id":"p2"}'
ember_exit 0
