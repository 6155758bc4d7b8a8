# virtio-rng: the guest's hwrng is virtio_rng and /dev/hwrng gives 64 KiB
# that are not zeros and differ between two reads (getrandom() source);
# through -object rng-random with max-bytes=1024,period=1000, 8 KiB take
# 7 s or more. A missing rng object is a one-line error.
# e2e-timeout: 240
# The transport follows the case name (rng-pci.sh runs this on virtio-pci).
. "$E2E_LIB"
need_ember
need_kvm
case "$E2E_CASE" in
*-pci) RNG_DEV=virtio-rng-pci; RNG_MACHINE="-M pci" ;;
*) RNG_DEV=virtio-rng-device; RNG_MACHINE= ;;
esac
expect_usage_error no-object "no -object rng-random" $RNG_MACHINE -kernel "$LAB_KERNEL" \
	-device "$RNG_DEV,rng=nope"

make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "CURRENT $(cat /sys/class/misc/hw_random/rng_current)"
dd if=/dev/hwrng of=/tmp/a bs=1k count=64 iflag=fullblock 2>/dev/null
dd if=/dev/hwrng of=/tmp/b bs=1k count=64 iflag=fullblock 2>/dev/null
echo "SIZES $(wc -c </tmp/a) $(wc -c </tmp/b)"
echo "NONZERO $(tr -d '\000' </tmp/a | wc -c)"
cmp -s /tmp/a /tmp/b && echo READS-SAME || echo READS-DIFFER
GUEST
run_ember $RNG_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	-device "$RNG_DEV"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "^CURRENT virtio_rng"
expect_in "$EMBER_LOG" "^SIZES 65536 65536"
expect_in "$EMBER_LOG" READS-DIFFER
set -- $(grep "^NONZERO " "$EMBER_LOG")
# zero bytes are 1/256 of random data
[ "${2:-0}" -gt 64000 ] || fail "only ${2:-0} of 65536 bytes are not zero"

make_initrd "$E2E_TMP/initrd-rl" --script - <<'GUEST'
up() { cut -d' ' -f1 /proc/uptime; }
t0=$(up)
dd if=/dev/hwrng of=/tmp/c bs=1k count=8 iflag=fullblock 2>/dev/null
echo "LIMITED $(wc -c </tmp/c) $t0 $(up) $(tr -d '\000' </tmp/c | wc -c)"
GUEST
run_ember --timeout 120 $RNG_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd-rl" -m 256 \
	-append "$E2E_APPEND" -object rng-random,id=r0,filename=/dev/urandom \
	-device "$RNG_DEV,rng=r0,max-bytes=1024,period=1000"
expect_eq "$?" 0 "ember exit status"
set -- $(grep "^LIMITED " "$EMBER_LOG")
[ $# = 5 ] || fail "no LIMITED line"
expect_eq "$2" 8192 "bytes read under the limit"
[ "$5" -gt 8000 ] || fail "only $5 of 8192 bytes are not zero"
secs=$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%.1f\n", b - a }')
note "8 KiB at max-bytes=1024,period=1000 took $secs s"
# the first 1 KiB is the burst, then 1 KiB/s (the guest's own hwrng thread may take a share)
awk -v s="$secs" 'BEGIN { exit !(s >= 6.5 && s <= 40) }' || fail "8 KiB took $secs s, want 7..40"
