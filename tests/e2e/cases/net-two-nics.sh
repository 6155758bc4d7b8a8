# Two virtio-net devices at once, one on virtio-pci and one on virtio-mmio
# (-M pci), each on its own tap and L1 bridge (tap0 in br0 10.0.0.1/24,
# tap1 in br1 10.0.1.1/24). The guest finds each NIC by its MAC, pings both
# bridges and runs iperf3 on both NICs at the same time, 64 MiB each way on
# each: every run completes with exact byte counts.
# e2e-timeout: 300
# e2e-needs: iperf3 ip ethtool qemu
. "$E2E_LIB"
. "$E2E_DIR/net-lib.sh"
need_kvm
net_ns
net_bridge br0 10.0.0.1/24
net_bridge br1 10.0.1.1/24
net_iperf_server 10.0.0.1 5201
net_iperf_server 10.0.1.1 5202
net_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
. /net-guest.sh
net_config
net_ping 10.0.0.1 && net_ping 10.0.1.1 || exit 1
net_iperf a-up 10.0.0.1 5201 -n 64M >/tmp/a &
net_iperf b-down 10.0.1.1 5202 -n 64M -R >/tmp/b
wait
net_iperf a-down 10.0.0.1 5201 -n 64M -R >>/tmp/a &
net_iperf b-up 10.0.1.1 5202 -n 64M >>/tmp/b
wait
cat /tmp/a /tmp/b
GUEST
m0=52:54:00:e2:00:01 m1=52:54:00:e2:00:02
net_vm_start -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND e2e.net=$m0=10.0.0.2/24,$m1=10.0.1.2/24" \
	-netdev tap,id=n0,ifname=tap0 -device virtio-net-pci,netdev=n0,mac=$m0 \
	-netdev tap,id=n1,ifname=tap1 -device virtio-net-device,netdev=n1,mac=$m1
net_attach tap0 br0
net_attach tap1 br1
net_vm_wait
expect_eq "$?" 0 "VM exit status"
expect_in "$VM_LOG" "^NIC eth[01] mac=$m0 addr=10.0.0.2/24 driver=virtio_net parent=0000:00:"
expect_in "$VM_LOG" "^NIC eth[01] mac=$m1 addr=10.0.1.2/24 driver=virtio_net parent=\\(LNRO0005:\\|virtio-mmio\\)"
expect_in "$VM_LOG" "^PING 10.0.0.1 ok"
expect_in "$VM_LOG" "^PING 10.0.1.1 ok"
for r in a-up a-down b-up b-down; do
	net_expect_iperf $r 67108864
done
