# Under -no-reboot, reboot=k makes the kernel reset through the keyboard controller (port 0x64,
# 0xfe) instead of ACPI: ember ends with status 0 and says so.
# e2e-timeout: 120
. "$E2E_LIB"
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo MARKER-REBOOT-KBD
reboot -f
sleep 30
GUEST
run_ember -no-reboot -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND reboot=k"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" MARKER-REBOOT-KBD
expect_in "$EMBER_LOG" "ember: guest reset via i8042"
