# QMP driven by an independent client (tests/e2e/qmp_client.py), written
# from QEMU's QMP specification with Python's standard library only: two
# clients, -S, cont, stop, cont, every command of query-qmp-schema
# answered (and refused with wrong argument types), system_powerdown with
# POWERDOWN and SHUTDOWN while the guest powers off on its power button.
# e2e-timeout: 300
# e2e-needs: python3
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
need_kvm
PY=$(command -v python3.11 || command -v python3) || skip "python3 was not shipped (e2e-needs: python3)"
qmp_guest "$E2E_TMP/initrd"
qmp_ember -S -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M \
	-append "$E2E_APPEND" -device virtio-balloon-pci,id=bal0 -M pci \
	-qmp "unix:$QMP_SOCK,server=on,wait=off"
wait_sock "$QMP_SOCK"
"$PY" -S "$E2E_DIR/qmp_client.py" "$QMP_SOCK" "$EMBER_LOG" >"$E2E_TMP/client.log" 2>&1
rc=$?
sed 's/^/| /' "$E2E_TMP/client.log"
expect_eq "$rc" 0 "qmp_client.py exit status"
expect_in "$E2E_TMP/client.log" QMP-CLIENT-OK
expect_in "$EMBER_LOG" GUEST-POWER-BUTTON
ember_exit 0
