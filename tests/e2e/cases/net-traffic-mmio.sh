# virtio-net: the guest's NIC (MAC 52:54:00:e2:00:01) is on tap0, which L1
# bridges (br0, 10.0.0.1/24, in the case's own network namespace). The guest
# takes 10.0.0.2, pings L1 and moves 256 MiB each way with iperf3 (-n 256M,
# guest -> L1, then L1 -> guest with -R): both runs complete and both ends
# count exactly 256 MiB. The throughput goes to the log.
# e2e-timeout: 300
# e2e-needs: iperf3 ip ethtool qemu
. "$E2E_LIB"
. "$E2E_DIR/net-lib.sh"
need_kvm
net_ns
net_transport
net_bridge br0 10.0.0.1/24
net_iperf_server 10.0.0.1 5201
net_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
. /net-guest.sh
net_config
net_ping 10.0.0.1 &&
	net_iperf up 10.0.0.1 5201 -n 256M &&
	net_iperf down 10.0.0.1 5201 -n 256M -R
GUEST
mac=52:54:00:e2:00:01
# shellcheck disable=SC2086 # NET_MACHINE is two words or none
net_vm_start $NET_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND e2e.net=$mac=10.0.0.2/24" \
	-netdev tap,id=n0,ifname=tap0 -device "$NET_DEV,netdev=n0,mac=$mac"
net_attach tap0 br0
net_vm_wait
expect_eq "$?" 0 "VM exit status"
expect_in "$VM_LOG" "^NIC eth0 mac=$mac addr=10.0.0.2/24 driver=virtio_net parent=\\($NET_PARENT\\)"
expect_in "$VM_LOG" "^PING 10.0.0.1 ok"
net_expect_iperf up 268435456
net_expect_iperf down 268435456
