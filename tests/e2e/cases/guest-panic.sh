# A kernel panic with panic=-1 (reboot at once): pvpanic reports it before the
# reset, so ember exits non-zero (3) instead of treating it as a reboot.
# e2e-timeout: 120
. "$E2E_LIB"
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "MARKER-PANIC pvpanic=$(ls /sys/bus/platform/drivers/ | grep -c pvpanic)"
echo c >/proc/sysrq-trigger
GUEST
run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "console=ttyS0 panic=-1 quiet"
rc=$?
expect_in "$EMBER_LOG" "MARKER-PANIC pvpanic=1"
expect_in "$EMBER_LOG" "Kernel panic"
expect_eq "$rc" 3 "ember exit status after a panic"
expect_in "$EMBER_LOG" "ember: guest kernel panicked"
