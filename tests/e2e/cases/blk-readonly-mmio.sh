# A read-only disk: the guest sees it read-only, its writes fail, and the
# image's hash is unchanged. A second disk in the same VM stays writable,
# and the serial console works alongside both.
# e2e-timeout: 180
. "$E2E_LIB"
. "$E2E_DIR/blk-lib.sh"
need_ember
need_kvm
blk_transport
ro=$E2E_TMP/ro.img rw=$E2E_TMP/rw.img
dd if=/dev/urandom of="$ro" bs=1M count=16 2>/dev/null
truncate -s 16M "$rw"
before=$(sha256sum "$ro" | cut -d' ' -f1)
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
for d in vda vdb; do echo "DISK $d ro=$(cat /sys/block/$d/ro) serial=$(cat /sys/block/$d/serial)"; done
if dd if=/dev/zero of=/dev/vda bs=4096 count=1 oflag=direct 2>/dev/null; then echo RO-WRITE-SUCCEEDED; else echo RO-WRITE-REFUSED; fi
dd if=/dev/vda of=/dev/null bs=1M 2>/dev/null && echo RO-READ-OK
echo hello-rw | dd of=/dev/vdb bs=512 conv=sync oflag=direct 2>/dev/null && echo RW-WRITE-OK
GUEST
run_ember --timeout 120 $BLK_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" \
	-blockdev driver=file,node-name=f0,filename="$ro",read-only=on -blockdev driver=raw,node-name=d0,file=f0,read-only=on \
	-blockdev driver=file,node-name=f1,filename="$rw" -blockdev driver=raw,node-name=d1,file=f1 \
	-device "$BLK_DEV,drive=d0,serial=RO" -device "$BLK_DEV,drive=d1,serial=RW"
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "DISK vda ro=1 serial=RO"
expect_in "$EMBER_LOG" "DISK vdb ro=0 serial=RW"
expect_in "$EMBER_LOG" RO-WRITE-REFUSED
expect_in "$EMBER_LOG" RO-READ-OK
expect_in "$EMBER_LOG" RW-WRITE-OK
expect_eq "$(sha256sum "$ro" | cut -d' ' -f1)" "$before" "hash of the read-only image"
expect_eq "$(head -c 8 "$rw")" "hello-rw" "start of the writable image"
