# throttling.* on a -blockdev: the guest's O_DIRECT reads run no faster than
# the limit (+10 %), in bytes and in operations; malformed values are one-line
# errors. Unthrottled, these reads run tens of times faster, so the upper bound
# is what shows the limit; the lower one (half the limit) only shows the reads
# flow: a loaded machine slows the lab, and the limiter's accuracy is
# test_ratelimit's, on a fake clock.
# e2e-timeout: 300
. "$E2E_LIB"
need_ember
need_kvm
truncate -s 128M "$E2E_TMP/d.img"
expect_usage_error bad-bps "throttling.bps-total" -kernel "$LAB_KERNEL" \
	-blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img",throttling.bps-total=10MB
expect_usage_error bad-key "unknown property 'throttling.bps-totl'" -kernel "$LAB_KERNEL" \
	-blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img",throttling.bps-totl=1
expect_usage_error max-low "cannot be lower than throttling.iops-total" -kernel "$LAB_KERNEL" \
	-blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img",throttling.iops-total=100,throttling.iops-total-max=10
expect_usage_error total-and-read "throttling.bps-total and throttling.bps-read/-write cannot be used together" \
	-kernel "$LAB_KERNEL" \
	-blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img",throttling.bps-total=1000,throttling.bps-read=100
expect_usage_error max-alone "throttling.bps-total-max needs throttling.bps-total" -kernel "$LAB_KERNEL" \
	-blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img",throttling.bps-total-max=1000

# The guest times its own reads (uptime has 10 ms steps). Four readers at
# once, so the lab's latency per request (nested, slow) is not the limit.
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
up() { cut -d' ' -f1 /proc/uptime; }
par() { # BS COUNT: four dd's of COUNT blocks each, side by side
	for i in 0 1 2 3; do
		dd if=/dev/vda of=/dev/null bs=$1 count=$2 skip=$((i * $2)) iflag=direct 2>/dev/null ||
			echo READ-FAILED &
	done
	wait
}
t0=$(up)
par 1M 25
t1=$(up)
par 4k 63
t2=$(up)
echo "TIMES $t0 $t1 $t2"
GUEST

# rate in bytes: 100 MiB at 10 MB/s is 10.5 s; operations: no limit here
run_ember --timeout 150 -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	-blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img" \
	-blockdev driver=raw,node-name=d0,file=f0,throttling.bps-total=10000000 \
	-device virtio-blk-device,drive=d0
expect_eq "$?" 0 "ember exit status"
expect_not_in "$EMBER_LOG" READ-FAILED
expect_in "$EMBER_LOG" "^TIMES "
set -- $(grep "^TIMES " "$EMBER_LOG")
rate=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%d\n", 104857600 / (b - a) }')
note "bps-total=10000000: the guest read at $rate B/s"
[ "$rate" -ge 5000000 ] && [ "$rate" -le 11000000 ] || fail "read at $rate B/s, want 5 to 11 MB/s (limit 10 MB/s)"

# operations: 252 reads at 50/s (the bytes unlimited) are 4.9 s
run_ember --timeout 150 -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	-blockdev driver=file,node-name=f0,filename="$E2E_TMP/d.img",throttling.iops-total=50 \
	-device virtio-blk-device,drive=f0
expect_eq "$?" 0 "ember exit status"
expect_not_in "$EMBER_LOG" READ-FAILED
set -- $(grep "^TIMES " "$EMBER_LOG")
[ $# = 4 ] || fail "no TIMES line"
iops=$(awk -v a="$3" -v b="$4" 'BEGIN { printf "%d\n", 252 / (b - a) }')
note "iops-total=50: the guest did $iops reads/s"
[ "$iops" -ge 25 ] && [ "$iops" -le 55 ] || fail "$iops reads/s, want 25 to 55 (limit 50/s)"
