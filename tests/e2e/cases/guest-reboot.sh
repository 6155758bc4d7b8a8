# Guest `reboot` under -no-reboot: the kernel resets through the FADT reset
# register; ember ends with status 0, says so, and QMP sees SHUTDOWN (guest
# true, guest-reset) and no RESET, as QEMU with -no-reboot. With -no-shutdown
# as well, the reset pauses the machine in state shutdown (SHUTDOWN, STOP).
# e2e-timeout: 180
# e2e-needs: socat
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
need_kvm
need_cmd socat
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo MARKER-REBOOT
reboot -f
sleep 30
GUEST
qmp_ember -no-reboot -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" -qmp "unix:$QMP_SOCK,server=on,wait=on"
wait_sock "$QMP_SOCK"
client_open a 3 "$QMP_SOCK"
expect_reply a 3 a0 '{"execute": "qmp_capabilities", "id": "a0"}' '{"return":{},"id":"a0"}'
wait_count a '"event":"SHUTDOWN","data":{"guest":true,"reason":"guest-reset"}' 1
ember_exit 0
exec 3>&-
expect_in "$EMBER_LOG" MARKER-REBOOT
expect_in "$EMBER_LOG" "ember: guest reset (ACPI reset register)$"
expect_eq "$(count a '"event":"RESET"')" 0 "RESET events under -no-reboot"
expect_eq "$(grep -c MARKER-REBOOT "$EMBER_LOG")" 1 "boots under -no-reboot"

rm -f "$QMP_SOCK"
qmp_ember -no-reboot -no-shutdown -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" -qmp "unix:$QMP_SOCK,server=on,wait=on"
wait_sock "$QMP_SOCK"
client_open b 4 "$QMP_SOCK"
expect_reply b 4 b0 '{"execute": "qmp_capabilities", "id": "b0"}' '{"return":{},"id":"b0"}'
wait_count b '"event":"SHUTDOWN","data":{"guest":true,"reason":"guest-reset"}' 1
wait_count b '"event":"STOP"' 1
expect_reply b 4 b1 '{"execute": "query-status", "id": "b1"}' '"status":"shutdown"'
expect_reply b 4 b2 '{"execute": "quit", "id": "b2"}' '{"return":{},"id":"b2"}'
ember_exit 0
exec 4>&-
expect_in "$EMBER_LOG" "guest reset (ACPI reset register); paused (-no-shutdown)"
expect_eq "$(count b '"event":"RESET"')" 0 "RESET events under -no-reboot -no-shutdown"
