# qcow2: L1 makes a raw base of random bytes and a qcow2 overlay on it
# (qemu-img). The guest reads the base through the overlay (same checksum),
# writes 1 MiB and a 4 KiB piece inside a cluster, syncs, and reads the disk
# back. On L1: qemu-img check is clean, the base is untouched, and the
# overlay converted to raw holds exactly what the guest saw, different from
# the base only where it wrote. A second boot through -drive format=qcow2
# reads the same disk back and writes again: still clean.
# e2e-timeout: 300
# e2e-needs: qemu-img
. "$E2E_LIB"
. "$E2E_DIR/blk-lib.sh"
need_ember
need_kvm
need_cmd qemu-img
blk_transport
cd "$E2E_TMP"
dd if=/dev/urandom of=base.raw bs=1M count=4 2>/dev/null
qemu-img create -q -f qcow2 -b base.raw -F raw ov.qcow2 || fail "qemu-img create"
base_sum=$(sha256sum base.raw | cut -d' ' -f1)
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "VDA size=$(cat /sys/block/vda/size)"
echo "SUM-BEFORE $(sha256sum /dev/vda | cut -d' ' -f1)"
dd if=/dev/urandom of=/tmp/new bs=64k count=16 2>/dev/null
echo "SUM-NEW $(sha256sum /tmp/new | cut -d' ' -f1)"
dd if=/tmp/new of=/dev/vda bs=64k seek=16 2>/dev/null || echo DD-FAILED
# 4 KiB inside a 64 KiB cluster of the base: the rest is copied up
dd if=/tmp/new of=/dev/vda bs=512 count=8 seek=6147 2>/dev/null || echo DD-FAILED
sync
echo 3 >/proc/sys/vm/drop_caches
echo "SUM-AFTER $(sha256sum /dev/vda | cut -d' ' -f1)"
echo GUEST-DONE
GUEST
sum_of() { sed -n "s/^$1 \([0-9a-f]*\).*/\1/p" "$EMBER_LOG" | head -n 1; }

run_ember --timeout 120 $BLK_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" -blockdev driver=file,node-name=f0,filename=ov.qcow2 \
	-blockdev driver=qcow2,node-name=d0,file=f0 -device "$BLK_DEV,drive=d0"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "VDA size=8192"
expect_in "$EMBER_LOG" GUEST-DONE
expect_not_in "$EMBER_LOG" "FAILED"
expect_eq "$(sum_of SUM-BEFORE)" "$base_sum" "the base read through the overlay"
new_sum=$(sum_of SUM-NEW)
after_sum=$(sum_of SUM-AFTER)
[ -n "$new_sum" ] && [ -n "$after_sum" ] || fail "the guest printed no checksums"
[ "$after_sum" != "$base_sum" ] || fail "the guest's writes left no trace"

qemu-img check ov.qcow2 >check.log 2>&1 || { cat check.log; fail "qemu-img check of the overlay"; }
expect_eq "$(sha256sum base.raw | cut -d' ' -f1)" "$base_sum" "the base after the run"
qemu-img convert -O raw ov.qcow2 out.raw || fail "qemu-img convert"
expect_eq "$(sha256sum out.raw | cut -d' ' -f1)" "$after_sum" "the overlay as raw"
expect_eq "$(dd if=out.raw bs=64k skip=16 count=16 2>/dev/null | sha256sum | cut -d' ' -f1)" \
	"$new_sum" "the 1 MiB the guest wrote"
# Bytes differ from the base only at 1 MiB..2 MiB and in the 4 KiB at 3 MiB + 1536.
outside=$(cmp -l out.raw base.raw | awk '{ o = $1 - 1 }
	!((o >= 1048576 && o < 2097152) || (o >= 3147264 && o < 3151360)) { n++ }
	END { print n + 0 }')
expect_eq "$outside" 0 "bytes changed outside what the guest wrote"

run_ember --timeout 120 --log "$E2E_TMP/ember2.log" $BLK_MACHINE -kernel "$LAB_KERNEL" \
	-initrd "$E2E_TMP/initrd" -m 256 -append "$E2E_APPEND" \
	-drive file=ov.qcow2,format=qcow2,if=none,id=d0 -device "$BLK_DEV,drive=d0"
expect_eq "$?" 0 "ember exit status (-drive format=qcow2)"
expect_in "$EMBER_LOG" GUEST-DONE
expect_eq "$(sum_of SUM-BEFORE)" "$after_sum" "the disk read back in a second boot"
qemu-img check ov.qcow2 >check.log 2>&1 || { cat check.log; fail "qemu-img check after the second boot"; }
expect_eq "$(sha256sum base.raw | cut -d' ' -f1)" "$base_sum" "the base after the second run"
