# vhost-user-blk against the real qemu-storage-daemon: the guest sees
# /dev/vda of the image's size, reads 4 MiB that L1 wrote into the image
# (same checksum), writes 4 MiB of its own with fsync and powers off; L1
# then finds the guest's data in the image (same checksum). The guest turns
# the disk's cache from write through (qemu-storage-daemon's report) to
# write back: the config space's writeback field, which ember passes to the
# daemon with SET_CONFIG and reads back.
# e2e-timeout: 180
# e2e-needs: qemu-storage-daemon
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
vub_setup 64M
dd if=/dev/urandom of="$E2E_TMP/seed" bs=1M count=4 2>/dev/null
dd if="$E2E_TMP/seed" of="$img" bs=1M seek=1 conv=notrunc 2>/dev/null
seed_sum=$(sha256sum "$E2E_TMP/seed" | cut -d' ' -f1)
vub_daemon "$img" "$sock"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "VDA size=$(cat /sys/block/vda/size)"
echo "READ $(dd if=/dev/vda bs=1M skip=1 count=4 2>/dev/null | sha256sum | cut -d' ' -f1)"
dd if=/dev/urandom of=/w bs=1M count=4 2>/dev/null
echo "WROTE $(sha256sum /w | cut -d' ' -f1)"
dd if=/w of=/dev/vda bs=1M seek=8 conv=fsync 2>/dev/null || echo WRITE-FAILED
sync
echo "CACHE $(cat /sys/block/vda/cache_type)"
echo "write back" >/sys/block/vda/cache_type || echo CACHE-WRITE-FAILED
echo "CACHE-NOW $(cat /sys/block/vda/cache_type)"
echo GUEST-DONE
GUEST
vub_run_guest
expect_in "$EMBER_LOG" "VDA size=131072"
expect_in "$EMBER_LOG" "READ $seed_sum"
expect_in "$EMBER_LOG" "CACHE write through"
expect_in "$EMBER_LOG" "CACHE-NOW write back"
guest_sum=$(sed -n 's/^WROTE \([0-9a-f]*\).*/\1/p' "$EMBER_LOG" | head -n 1)
[ -n "$guest_sum" ] || fail "the guest printed no checksum"
expect_eq "$(dd if="$img" bs=1M skip=8 count=4 2>/dev/null | sha256sum | cut -d' ' -f1)" \
	"$guest_sum" "checksum of the guest's data read back from the image"
