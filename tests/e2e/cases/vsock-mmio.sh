# vhost-vsock: a listener in L1 (vsock_echo listen, on VMADDR_CID_ANY)
# accepts a connection from the guest to CID 2 and echoes 1 MiB of
# pseudo-random data, which the guest checks byte for byte. The guest sees
# its CID, L1 sees the connection come from it, and both ends hash the same
# stream. The kernel serves rx and tx (/dev/vhost-vsock); ember keeps the
# event queue. The sandbox is on (the default): the vhost ioctls run on the
# vCPU thread that writes DRIVER_OK.
# e2e-timeout: 180
. "$E2E_LIB"
need_ember
need_kvm
case "$E2E_CASE" in
*-pci) dev=vhost-vsock-pci machine="-M pci" ;;
*) dev=vhost-vsock-device machine= ;;
esac
echo_bin=$E2E_DIR/hostile/bin/vsock_echo
[ -x "$echo_bin" ] || fail "$echo_bin is missing (tests/e2e/run builds it on the host)"
modprobe vhost_vsock || fail "modprobe vhost_vsock"
[ -c /dev/vhost-vsock ] || fail "/dev/vhost-vsock is missing after modprobe"
cid=$((1000 + $$ % 1000)) port=5201
make_initrd "$E2E_TMP/initrd" --file "$echo_bin:/bin/vsock_echo" --script - <<GUEST
for d in /sys/bus/virtio/devices/*; do
	[ "\$(cat \$d/device)" = 0x0013 ] && vdev=\${d##*/}
done
echo "VSOCK-DEVICE \$vdev"
/bin/vsock_echo cid
/bin/vsock_echo connect 2 $port
echo "GUEST-DONE \$?"
grep "\$vdev" /proc/interrupts
# The driver resets the device (vhost stops) and starts it again.
drv=/sys/bus/virtio/drivers/vmw_vsock_virtio_transport
echo "\$vdev" >\$drv/unbind && echo "\$vdev" >\$drv/bind && echo REBOUND
/bin/vsock_echo connect 2 $port 65536
echo "AGAIN-DONE \$?"
GUEST
timeout 150 "$echo_bin" listen "$port" 2 >"$E2E_TMP/listener.log" 2>&1 &
listener=$!
wait_for "$E2E_TMP/listener.log" LISTENING 10
run_ember --timeout 120 $machine -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" -device "$dev,guest-cid=$cid"
rc=$?
wait "$listener"
sed 's/^/| listener: /' "$E2E_TMP/listener.log"
expect_eq "$rc" 0 "ember exit status"
expect_in "$EMBER_LOG" "LOCAL-CID $cid[^0-9]"
expect_in "$E2E_TMP/listener.log" "ACCEPTED cid=$cid "
expect_in "$EMBER_LOG" "ECHO-OK bytes=1048576 "
expect_in "$EMBER_LOG" "GUEST-DONE 0"
expect_in "$E2E_TMP/listener.log" "ECHOED bytes=1048576 "
guest_hash=$(sed -n 's/.*ECHO-OK bytes=1048576 hash=\([0-9a-f]*\).*/\1/p' "$EMBER_LOG")
host_hash=$(sed -n 's/.*ECHOED bytes=1048576 hash=\([0-9a-f]*\).*/\1/p' "$E2E_TMP/listener.log")
[ -n "$guest_hash" ] || fail "the guest printed no hash"
expect_eq "$host_hash" "$guest_hash" "the stream's hash in L1 and in the guest"
expect_in "$EMBER_LOG" "VSOCK-DEVICE virtio[0-9]"
# After the reset: a new connection through the restarted rings.
expect_in "$EMBER_LOG" REBOUND
expect_in "$EMBER_LOG" "ECHO-OK bytes=65536 "
expect_in "$EMBER_LOG" "AGAIN-DONE 0"
expect_in "$E2E_TMP/listener.log" "ECHOED bytes=65536 "
# On PCI each queue has its MSI-X vector, which vhost raises through KVM.
case "$E2E_CASE" in
*-pci) expect_in "$EMBER_LOG" "PCI-MSI.*virtio[0-9]*-rx" ;;
esac
expect_not_in "$EMBER_LOG" "ember: error"
expect_not_in "$EMBER_LOG" "needs reset"
