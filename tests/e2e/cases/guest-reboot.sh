# Guest `reboot`: the kernel resets through the FADT reset register; ember
# ends with status 0 and says so.
# e2e-timeout: 120
. "$E2E_LIB"
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo MARKER-REBOOT
reboot -f
sleep 30
GUEST
run_ember --timeout 60 -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" MARKER-REBOOT
expect_in "$EMBER_LOG" "ember: guest reset"
