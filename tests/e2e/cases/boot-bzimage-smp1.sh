# Stock Debian kernel (bzImage, 64-bit boot protocol), 1 vCPU: boots to the
# initramfs script, which sees one CPU, the CMOS RTC and ember's ACPI devices;
# `poweroff` ends ember with status 0 and one line saying why.
# e2e-timeout: 120
. "$E2E_LIB"
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "MARKER cpus=$(grep -c ^processor /proc/cpuinfo)"
echo "RTC $(cat /sys/class/rtc/rtc0/date)"
echo "ACPI $(ls /sys/bus/acpi/devices | tr '\n' ' ')"
GUEST
run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -smp 1 -append "$E2E_APPEND"
rc=$?
expect_eq "$rc" 0 "ember exit status"
expect_in "$EMBER_LOG" "MARKER cpus=1[[:space:]]*$"
expect_in "$EMBER_LOG" "RTC $(date -u +%Y-%m-%d)"
expect_in "$EMBER_LOG" "PNP0501"
expect_in "$EMBER_LOG" "PNP0B00"
expect_in "$EMBER_LOG" "QEMU0001"
expect_in "$EMBER_LOG" "ember: guest powered off (ACPI S5)"
expect_not_in "$EMBER_LOG" "ember: warning"
expect_not_in "$EMBER_LOG" "ember: error"
