# QMP system_reset resets the machine in place and the guest boots again:
# {} then RESET (guest false, host-qmp-system-reset), a second GUEST-UP. From
# paused it comes back in prelaunch (no boot until cont), as QEMU does. On
# -M pci with -no-shutdown: after the guest powered off (state shutdown, cont
# refused) system_reset and cont boot it again. With -no-reboot it ends the
# run (SHUTDOWN host-qmp-system-reset), and with -no-reboot -no-shutdown it
# pauses in shutdown instead, as QEMU's shutdown request does.
# e2e-timeout: 300
# e2e-needs: socat
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
need_kvm
need_cmd socat
qmp_guest "$E2E_TMP/initrd"
ups() { grep -c GUEST-UP "$EMBER_LOG"; }
wait_ups() {
	_i=0
	while [ "$(ups)" -lt "$1" ] && [ $_i -lt 600 ]; do sleep 0.2; _i=$((_i + 1)); done
	expect_eq "$(ups)" "$1" "boots (GUEST-UP) so far"
}
# wait_button: the guest of the last boot listens to its power button (it
# says so just before it opens the event device; a press before is lost).
listening() { awk '/GUEST-UP/ { b = 0 } /BUTTON event/ { b = 1 } END { exit !b }' "$EMBER_LOG"; }
wait_button() {
	_i=0
	while ! listening && [ $_i -lt 300 ]; do sleep 0.2; _i=$((_i + 1)); done
	listening || fail "the last boot does not listen to its power button"
	sleep 1
}
start() { # ARGS...: ember with QMP on $QMP_SOCK and client a on fd 3
	rm -f "$QMP_SOCK"
	qmp_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M -append "$E2E_APPEND" \
		-qmp "unix:$QMP_SOCK,server=on,wait=off" "$@"
	wait_sock "$QMP_SOCK"
	client_open a 3 "$QMP_SOCK"
	expect_reply a 3 c0 '{"execute": "qmp_capabilities", "id": "c0"}' '{"return":{},"id":"c0"}'
}
RESET_HOST='"event":"RESET","data":{"guest":false,"reason":"host-qmp-system-reset"}'

note "--- microvm: reset while running, then while paused"
start
wait_ups 1
expect_reply a 3 r1 '{"execute": "system_reset", "id": "r1"}' '{"return":{},"id":"r1"}'
wait_count a "$RESET_HOST" 1
wait_ups 2
expect_reply a 3 s1 '{"execute": "query-status", "id": "s1"}' '"status":"running"'
expect_reply a 3 p1 '{"execute": "stop", "id": "p1"}' '{"return":{},"id":"p1"}'
expect_reply a 3 r2 '{"execute": "system_reset", "id": "r2"}' '{"return":{},"id":"r2"}'
wait_count a "$RESET_HOST" 2
expect_reply a 3 s2 '{"execute": "query-status", "id": "s2"}' '"status":"prelaunch","singlestep":false,"running":false'
sleep 3
expect_eq "$(ups)" 2 "boots while in prelaunch"
expect_reply a 3 c1 '{"execute": "cont", "id": "c1"}' '{"return":{},"id":"c1"}'
wait_ups 3
expect_eq "$(count a '"event":"RESUME"')" 1 "RESUME events"
wait_button
expect_reply a 3 d1 '{"execute": "system_powerdown", "id": "d1"}' '{"return":{},"id":"d1"}'
wait_count a '"event":"SHUTDOWN","data":{"guest":true,"reason":"guest-shutdown"}' 1
ember_exit 0
exec 3>&-
expect_eq "$(count a '"event":"RESET"')" 2 "RESET events"
expect_not_in "$EMBER_LOG" "the machine resets"

note "--- pci, -no-shutdown: the way out of shutdown is system_reset"
start -M pci -no-shutdown
wait_ups 1
wait_button
expect_reply a 3 d2 '{"execute": "system_powerdown", "id": "d2"}' '{"return":{},"id":"d2"}'
wait_count a '"event":"SHUTDOWN","data":{"guest":true,"reason":"guest-shutdown"}' 1
wait_count a '"event":"STOP"' 1
expect_reply a 3 s3 '{"execute": "query-status", "id": "s3"}' '"status":"shutdown"'
expect_reply a 3 c2 '{"execute": "cont", "id": "c2"}' 'Resetting the Virtual Machine is required'
expect_reply a 3 r3 '{"execute": "system_reset", "id": "r3"}' '{"return":{},"id":"r3"}'
wait_count a "$RESET_HOST" 1
expect_reply a 3 s4 '{"execute": "query-status", "id": "s4"}' '"status":"prelaunch"'
expect_reply a 3 c3 '{"execute": "cont", "id": "c3"}' '{"return":{},"id":"c3"}'
wait_ups 2
expect_reply a 3 s5 '{"execute": "query-status", "id": "s5"}' '"status":"running"'
expect_reply a 3 q1 '{"execute": "quit", "id": "q1"}' '{"return":{},"id":"q1"}'
ember_exit 0
exec 3>&-
expect_eq "$(count a '"event":"RESET"')" 1 "RESET events (-no-shutdown)"
expect_not_in "$EMBER_LOG" "the machine resets"

note "--- -no-reboot: system_reset ends the run"
start -no-reboot
wait_ups 1
expect_reply a 3 r4 '{"execute": "system_reset", "id": "r4"}' '{"return":{},"id":"r4"}'
wait_count a '"event":"SHUTDOWN","data":{"guest":false,"reason":"host-qmp-system-reset"}' 1
ember_exit 0
exec 3>&-
expect_eq "$(count a '"event":"RESET"')" 0 "RESET events under -no-reboot"
expect_eq "$(ups)" 1 "boots under -no-reboot"
expect_in "$EMBER_LOG" "terminating on QMP command 'system_reset' (-no-reboot)"

note "--- -no-reboot -no-shutdown: system_reset pauses in shutdown"
start -no-reboot -no-shutdown
wait_ups 1
expect_reply a 3 r5 '{"execute": "system_reset", "id": "r5"}' '{"return":{},"id":"r5"}'
wait_count a '"event":"SHUTDOWN","data":{"guest":false,"reason":"host-qmp-system-reset"}' 1
wait_count a '"event":"STOP"' 1
expect_reply a 3 s6 '{"execute": "query-status", "id": "s6"}' '"status":"shutdown"'
kill -0 "$EMBER_PID" || fail "ember exited under -no-shutdown"
expect_reply a 3 q2 '{"execute": "quit", "id": "q2"}' '{"return":{},"id":"q2"}'
ember_exit 0
exec 3>&-
expect_eq "$(count a '"event":"RESET"')" 0 "RESET events under -no-reboot -no-shutdown"
