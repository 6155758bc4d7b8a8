# -drive cache=MODE as QEMU defines the five modes: the guest sees a
# volatile write cache (/sys/block/vdX/queue/write_cache "write back") for
# writeback and unsafe, and none ("write through") for writethrough, also
# for an if=none drive through its -device. Data written under each mode is
# in the image after the guest powers off. none and directsync open the
# image O_DIRECT, which L1's tmpfs refuses: ember says so (their write
# cache is unit-tested, test_cli's t_drive_cache). Disks are told apart by size.
# e2e-timeout: 240
# shellcheck source=../lib.sh
. "$E2E_LIB"
need_ember
need_kvm
i=1
for m in writeback writethrough unsafe wtnone; do
	truncate -s "${i}M" "$E2E_TMP/$m.img"
	i=$((i + 1))
done
for m in none directsync; do
	expect_usage_error "direct-$m" "cache.direct=on: .* does not support O_DIRECT" \
		-kernel "$LAB_KERNEL" -drive "file=$E2E_TMP/writeback.img,if=virtio,cache=$m"
done
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
for d in /sys/block/vd*; do
	n=${d##*/}
	echo "WC $(($(cat "$d/size") / 2048))M $(cat "$d/queue/write_cache")"
	printf "DATA-%s-%s" "$n" "$(($(cat "$d/size") / 2048))" | dd of="/dev/$n" bs=512 conv=sync,fsync 2>/dev/null
done
sync
GUEST
run_ember --timeout 200 -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" \
	-drive "file=$E2E_TMP/writeback.img,if=virtio,format=raw,cache=writeback" \
	-drive "file=$E2E_TMP/writethrough.img,if=virtio,format=raw,cache=writethrough" \
	-drive "file=$E2E_TMP/unsafe.img,if=virtio,format=raw,cache=unsafe" \
	-drive "file=$E2E_TMP/wtnone.img,if=none,id=d5,format=raw,cache=writethrough" \
	-device virtio-blk-device,drive=d5
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "WC 1M write back"
expect_in "$EMBER_LOG" "WC 2M write through"
expect_in "$EMBER_LOG" "WC 3M write back"
expect_in "$EMBER_LOG" "WC 4M write through"
i=1
for m in writeback writethrough unsafe wtnone; do
	head -c 40 "$E2E_TMP/$m.img" | grep -q "DATA-vd.-$i" || fail "$m.img lacks the guest's data"
	i=$((i + 1))
done
