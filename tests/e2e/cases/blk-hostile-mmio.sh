# A hostile guest: tests/e2e/hostile/virtio_hostile takes the first disk
# (vda) away from the guest kernel and drives its virtio-mmio registers
# itself with malformed rings: buffers outside RAM, address+length wrapping,
# loops, huge lengths, indices out of range, avail index jumps, indirect
# tables (not negotiated, and broken), readable after writable, requests
# past the disk's end, bad queue set-ups, random ring bytes. Each malformed
# ring must put the device in NEEDS_RESET (and the guest's reset must bring
# it back), each well-formed but impossible request must fail alone with
# IOERR. Meanwhile a second disk (vdb) serves reads, then a 4 MiB O_DIRECT
# write and read-back; ember stays up, the console works, and ember's log
# names the problem.
# e2e-timeout: 180
. "$E2E_LIB"
need_ember
need_kvm
hostile=$E2E_DIR/hostile/bin/virtio_hostile
[ -x "$hostile" ] || fail "$hostile is missing (tests/e2e/run builds it on the host)"
victim=$E2E_TMP/victim.img survivor=$E2E_TMP/survivor.img
truncate -s 16M "$victim" "$survivor"
printf 'EMBER-VICTIM-SECTOR0' | dd of="$victim" conv=notrunc 2>/dev/null
make_initrd "$E2E_TMP/initrd" --file "$hostile:/bin/virtio_hostile" --script - <<'GUEST'
echo "DISKS vda=$(cat /sys/block/vda/serial) vdb=$(cat /sys/block/vdb/serial)"
# Reads on the survivor while the attacks run.
(
	n=0
	while [ ! -e /tmp/stop ]; do
		dd if=/dev/vdb of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null ||
			{ echo BG-IO-FAILED; break; }
		n=$((n + 1))
	done
	echo "BG-IO-ROUNDS $n"
) &
bg=$!
/bin/virtio_hostile
echo "HOSTILE-EXIT $?"
touch /tmp/stop
wait "$bg"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 2>/dev/null
dd if=/tmp/pattern of=/dev/vdb bs=1M oflag=direct 2>/dev/null || echo SURVIVOR-WRITE-FAILED
dd if=/dev/vdb of=/tmp/back bs=1M count=4 iflag=direct 2>/dev/null || echo SURVIVOR-READ-FAILED
cmp /tmp/pattern /tmp/back >/dev/null && echo SURVIVOR-OK
echo "SURVIVOR-SUM $(sha256sum /tmp/pattern | cut -d' ' -f1)"
echo CONSOLE-STILL-WORKS
GUEST
# EMBER_DEBUG: the virtqueue layer says what was wrong with each chain at
# debug level; the user-level warning comes once per device.
# iomem=relaxed: vda's and vdb's registers share a page, which
# CONFIG_IO_STRICT_DEVMEM would refuse to /dev/mem while vdb's driver holds it.
EMBER_DEBUG=1
export EMBER_DEBUG
run_ember --timeout 150 -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -smp 1 -m 256 \
	-append "$E2E_APPEND iomem=relaxed" \
	-blockdev driver=file,node-name=f0,filename="$victim" -blockdev driver=raw,node-name=d0,file=f0 \
	-blockdev driver=file,node-name=f1,filename="$survivor" -blockdev driver=raw,node-name=d1,file=f1 \
	-device virtio-blk-device,drive=d0,serial=VICTIM -device virtio-blk-device,drive=d1,serial=SURVIVOR
expect_eq "$?" 0 "ember exit status"
log=$EMBER_LOG
expect_in "$log" "DISKS vda=VICTIM vdb=SURVIVOR"
expect_in "$log" "HOSTILE victim=vda serial=VICTIM"
expect_not_in "$log" "HOSTILE-FAIL"

# Every attack ran and did what it should.
for a in control-before a-addr-outside-ram a-addr-straddles-ram-end a-addr-in-mmio-hole \
	a-header-outside-ram b-addr-len-wrap c-chain-loop c-self-loop c-writable-loop d-huge-len \
	e-head-out-of-range e-head-ffff e-next-out-of-range f-avail-idx-jump f-avail-idx-jump-max \
	g-indirect-not-negotiated g-indirect-valid g-indirect-outside-ram g-indirect-bad-len \
	g-indirect-zero-len g-indirect-huge-len g-indirect-nested g-indirect-loop \
	g-indirect-next-oob g-indirect-with-next h-read-after-write i-sector-beyond-capacity \
	i-sector-max i-sector-times-512-wraps i-read-at-capacity i-write-across-end i-odd-length \
	i-short-header i-bad-type i-ioerr-then-good n-no-status-byte n-zero-len-status \
	q-notify-bad-queue r-queue-size-not-pow2 r-queue-size-too-big r-queue-size-zero \
	r-ring-outside-ram r-used-ring-straddles-ram-end r-ring-misaligned \
	r-driver-ok-without-features-ok r-feature-not-offered r-no-version-1 control-after; do
	expect_in "$log" "^ATTACK $a status=.* ok"
done
for i in 00 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19; do
	expect_in "$log" "^ATTACK j-garbage-$i status="
	expect_in "$log" "^ATTACK k-fuzz-$i status="
done
expect_not_in "$log" "UNEXPECTED"
# Malformed rings: NEEDS_RESET (0x40 with ACK|DRIVER|FEATURES_OK|DRIVER_OK),
# and the config-change interrupt that says so.
expect_in "$log" "^ATTACK c-chain-loop status=0x4f used=0 blk=0xee isr=0x2 ok"
# A request past the disk's end fails alone: status byte IOERR (1), the device runs on.
expect_in "$log" "^ATTACK i-sector-beyond-capacity status=0x0f used=1 blk=0x01 .*ok"
expect_in "$log" "^ATTACK i-ioerr-then-good status=0x0f used=1 blk=0x00 .*first-blk=0x01 .*then-data=ok ok"
expect_in "$log" "^ATTACK control-after status=0x0f used=1 blk=0x00 .*data=ok ok"
expect_in "$log" "HOSTILE-SUMMARY attacks=[0-9]* unexpected=0"
expect_in "$log" "HOSTILE-EXIT 0"
expect_in "$log" HOSTILE-DONE

# ember said what was wrong: the warning, once, for vda only ...
expect_in "$log" "ember: warning: virtio-blk d0 needs reset: buffer 0x[0-9a-f]*+0x[0-9a-f]* is outside guest RAM; the device stops until the guest resets it"
[ "$(grep -c "the device stops until the guest resets it" "$log")" = 1 ] ||
	fail "expected the NEEDS_RESET warning exactly once"
expect_not_in "$log" "virtio-blk d1:"
# ... and the detail at debug level.
expect_in "$log" "ember: debug: virtqueue 0: buffer 0xfffffffff000+0x200 is outside guest RAM"
expect_in "$log" "ember: debug: virtqueue 0: descriptor chain loops"
expect_in "$log" "ember: debug: virtqueue 0: descriptor index 8 out of range (8)"
expect_in "$log" "ember: debug: virtqueue 0: impossible avail index jump (0 -> 9)"
expect_in "$log" "ember: debug: virtqueue 0: indirect descriptor without VIRTIO_F_INDIRECT_DESC"
expect_in "$log" "ember: debug: virtqueue 0: indirect descriptor inside an indirect table"
expect_in "$log" "ember: debug: virtqueue 0: device-readable descriptor after a writable one"
expect_in "$log" "ember: debug: virtqueue 0: size 7 is not valid for a split ring"
expect_not_in "$log" "ember: error"

# The survivor served I/O during and after the attacks, and the console works.
expect_not_in "$log" BG-IO-FAILED
expect_in "$log" "BG-IO-ROUNDS [1-9]"
expect_not_in "$log" "SURVIVOR-.*-FAILED"
expect_in "$log" SURVIVOR-OK
expect_in "$log" CONSOLE-STILL-WORKS
guest_sum=$(sed -n 's/^SURVIVOR-SUM \([0-9a-f]*\).*/\1/p' "$log" | head -n 1)
[ -n "$guest_sum" ] || fail "the guest printed no checksum"
expect_eq "$(head -c 4194304 "$survivor" | sha256sum | cut -d' ' -f1)" "$guest_sum" \
	"checksum of the survivor's first 4 MiB on the host"
