# Offloads: the guest negotiates checksum and TSO with the device, so its
# eth0 shows tx-checksumming and tcp-segmentation-offload on (ethtool -k),
# and the VMM has set the same offloads on the tap (TUNSETOFFLOAD): L1's
# ethtool -k tap0 shows them while the guest runs. 64 MiB each way then
# still arrive exactly.
# e2e-timeout: 240
# e2e-needs: iperf3 ip ethtool qemu
. "$E2E_LIB"
. "$E2E_DIR/net-lib.sh"
need_kvm
net_ns
net_bridge br0 10.0.0.1/24
net_iperf_server 10.0.0.1 5201
net_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
. /net-guest.sh
net_config
ethtool -k eth0 | grep -E '^(tx-checksumming|tcp-segmentation-offload|rx-checksumming|generic-receive-offload):' |
	tr -d '\t' | sed 's/^/OFFLOAD eth0 /'
net_ping 10.0.0.1 || exit 1
net_hold
net_iperf up 10.0.0.1 5201 -n 64M
net_iperf down 10.0.0.1 5201 -n 64M -R
GUEST
net_vm_one "" virtio-net-pci -M pci
net_wait_line "^HOLDING"
ethtool -k tap0 >"$E2E_TMP/tap0.k" || fail "ethtool -k tap0 failed"
sed 's/^/| L1 tap0: /' "$E2E_TMP/tap0.k"
net_release 10.0.0.2
net_vm_wait
expect_eq "$?" 0 "VM exit status"
expect_in "$VM_LOG" "^OFFLOAD eth0 tx-checksumming: on"
expect_in "$VM_LOG" "^OFFLOAD eth0 tcp-segmentation-offload: on"
# The guest accepts checksummed and segmented frames: the tap may hand them over.
expect_in "$E2E_TMP/tap0.k" "^tx-checksumming: on"
expect_in "$E2E_TMP/tap0.k" "^tcp-segmentation-offload: on"
expect_in "$E2E_TMP/tap0.k" "tx-tcp-segmentation: on"
net_expect_iperf up 67108864
net_expect_iperf down 67108864
