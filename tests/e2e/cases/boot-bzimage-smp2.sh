# -smp 2: the guest brings up both vCPUs from the ACPI MADT and sees one
# package of two cores.
# e2e-timeout: 120
. "$E2E_LIB"
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "MARKER cpus=$(grep -c ^processor /proc/cpuinfo) online=$(cat /sys/devices/system/cpu/online)"
echo "APICIDS $(grep '^apicid' /proc/cpuinfo | awk '{print $3}' | tr '\n' ' ')"
echo "CORES $(grep -m1 '^cpu cores' /proc/cpuinfo | awk '{print $4}')"
GUEST
run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -smp 2 -append "$E2E_APPEND"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "MARKER cpus=2 online=0-1"
expect_in "$EMBER_LOG" "APICIDS 0 1 "
expect_in "$EMBER_LOG" "CORES 2"
