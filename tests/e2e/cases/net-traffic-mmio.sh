# virtio-net: the guest's NIC (MAC 52:54:00:e2:00:01) is on tap0, which L1
# bridges (br0, 10.0.0.1/24, in the case's own network namespace). The guest
# takes 10.0.0.2, pings L1 and moves 128 MiB each way with iperf3 (-n 128M,
# guest -> L1, then L1 -> guest with -R): both runs complete with the byte
# counts of 128 MiB; the throughput goes to the log. iperf3 does not look at
# what it moves, so first 16 MiB of random bytes go each way over TCP with
# busybox nc, and the SHA-256 on both ends must agree.
# e2e-timeout: 420
# e2e-needs: iperf3 ip ethtool qemu
. "$E2E_LIB"
. "$E2E_DIR/net-lib.sh"
need_kvm
net_ns
net_transport
net_bridge br0 10.0.0.1/24
net_iperf_server 10.0.0.1 5201
net_recv_file "$E2E_TMP/up.bin" 7001
up_pid=$RECV_PID
dd if=/dev/urandom of="$E2E_TMP/down.bin" bs=1M count=16 2>/dev/null
net_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
. /net-guest.sh
net_config
net_ping 10.0.0.1 || exit 1
dd if=/dev/urandom of=/tmp/up.bin bs=1M count=16 2>/dev/null
echo "SHA up $(sha256sum </tmp/up.bin | cut -d' ' -f1)"
nc 10.0.0.1 7001 </tmp/up.bin || echo "NC-UP-FAILED"
rm -f /tmp/up.bin
net_recv_file /tmp/down.bin 7002
echo NC-LISTENING
wait "$RECV_PID"
echo "SHA down $(sha256sum </tmp/down.bin | cut -d' ' -f1) bytes=$(wc -c </tmp/down.bin)"
rm -f /tmp/down.bin
net_iperf up 10.0.0.1 5201 -n 128M
net_iperf down 10.0.0.1 5201 -n 128M -R
GUEST
# shellcheck disable=SC2086 # NET_MACHINE is two words or none
net_vm_one "" "$NET_DEV" $NET_MACHINE
net_wait_line "^NC-LISTENING" 200
net_send_file "$E2E_TMP/down.bin" 10.0.0.2 7002
net_vm_wait
expect_eq "$?" 0 "VM exit status"
wait "$up_pid"
expect_in "$VM_LOG" "^NIC eth0 mac=$NET_MAC addr=10.0.0.2/24 driver=virtio_net parent=\\($NET_PARENT\\)"
expect_in "$VM_LOG" "^PING 10.0.0.1 ok"
net_expect_iperf up 134217728
net_expect_iperf down 134217728
expect_not_in "$VM_LOG" NC-UP-FAILED
expect_in "$VM_LOG" "^SHA up $(sha256sum <"$E2E_TMP/up.bin" | cut -d' ' -f1)"
expect_in "$VM_LOG" "^SHA down $(sha256sum <"$E2E_TMP/down.bin" | cut -d' ' -f1) bytes=16777216"
note "16 MiB each way over nc, SHA-256 equal on both ends"
