# Shared by the virtio-blk cases: the transport comes from the case name
# (…-mmio or …-pci), so each scenario runs on both.
blk_transport() {
	case "$E2E_CASE" in
	*-pci) BLK_DEV=virtio-blk-pci; BLK_MACHINE="-M pci" ;;
	*) BLK_DEV=virtio-blk-device; BLK_MACHINE= ;;
	esac
}

# blk_check_ext4 IMG: the guest's "GUEST-DONE" and "SUM <sha256>" of /data in
# $EMBER_LOG, no FAILED line; IMG passes e2fsck -fn and its /data has that sum.
blk_check_ext4() {
	expect_in "$EMBER_LOG" GUEST-DONE
	expect_not_in "$EMBER_LOG" "FAILED"
	guest_sum=$(sed -n 's/^SUM \([0-9a-f]*\).*/\1/p' "$EMBER_LOG" | head -n 1)
	[ -n "$guest_sum" ] || fail "the guest printed no checksum"
	e2fsck -fn "$1" >"$E2E_TMP/fsck.log" 2>&1 || { cat "$E2E_TMP/fsck.log"; fail "e2fsck found errors"; }
	debugfs -R "dump /data $E2E_TMP/data" "$1" >/dev/null 2>&1
	expect_eq "$(sha256sum "$E2E_TMP/data" | cut -d' ' -f1)" "$guest_sum" "checksum of /data read back on the host"
}
