# The full scenario with -sandbox on, on both transports: -smp 2, a
# virtio-blk disk written and read back with O_DIRECT (io_uring, irqfds;
# MSI-X routes on -M pci), an RTC alarm, then a line typed on the serial
# console echoed.
# No forbidden call, and the data on the host is what the guest wrote.
# e2e-timeout: 200
. "$E2E_LIB"
need_ember
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
dd if=/dev/urandom of=/tmp/data bs=1M count=16 2>/dev/null
dd if=/tmp/data of=/dev/vda bs=1M oflag=direct 2>/dev/null || echo WRITE-FAILED
sync
echo "SUM $(dd if=/dev/vda bs=1M count=16 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)"
echo "WANT $(sha256sum </tmp/data | cut -d' ' -f1)"
# The RTC alarm: its timerfd is armed from a vCPU and fires on the loop.
echo +1 >/sys/class/rtc/rtc0/wakealarm 2>/dev/null || echo NO-RTC-ALARM
sleep 2
echo "RTC-IRQS $(awk '/rtc0/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i } END { print n + 0 }' /proc/interrupts)"
echo READY-FOR-INPUT
read -r line
echo "GOT:$line:END"
GUEST
for transport in mmio pci; do
	if [ $transport = pci ]; then m="-M pci" dev=virtio-blk-pci; else m= dev=virtio-blk-device; fi
	img=$E2E_TMP/disk-$transport.img
	log=$E2E_TMP/ember-$transport.log
	truncate -s 64M "$img"
	rm -f "$E2E_TMP/in"
	note "transport $transport"
	# shellcheck disable=SC2086 # $m: zero or two words
	run_typed "$log" typed-into-a-sandboxed-ember-0123456789 120 \
		timeout 150 "$EMBER" -sandbox on $m -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" \
		-m 256 -smp 2 -append "$E2E_APPEND" \
		-blockdev driver=file,node-name=f0,filename="$img" \
		-blockdev driver=raw,node-name=d0,file=f0 -device "$dev,drive=d0"
	rc=$?
	expect_eq "$rc" 0 "ember exit status ($transport)"
	expect_in "$log" "GOT:typed-into-a-sandboxed-ember-0123456789:END"
	expect_not_in "$log" "FAILED"
	expect_not_in "$log" "seccomp"
	expect_not_in "$log" "NO-RTC-ALARM"
	expect_in "$log" "RTC-IRQS [1-9]"
	sum=$(sed -n 's/^SUM \([0-9a-f]*\).*/\1/p' "$log" | head -n 1)
	want=$(sed -n 's/^WANT \([0-9a-f]*\).*/\1/p' "$log" | head -n 1)
	[ -n "$sum" ] && [ "$sum" = "$want" ] || fail "the guest read back $sum, wrote $want ($transport)"
	expect_eq "$(dd if="$img" bs=1M count=16 2>/dev/null | sha256sum | cut -d" " -f1)" "$want" "checksum on the host ($transport)"
done
