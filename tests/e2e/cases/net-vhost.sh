# vhost=on: the data path runs in L1's vhost-net (modprobe vhost_net), and the
# net-traffic test passes through it: ping, then 256 MiB each way with exact
# byte counts. While the guest runs, L1 has the VMM's vhost worker
# (a thread or kernel thread named vhost-PID).
# e2e-timeout: 300
# e2e-needs: iperf3 ip ethtool qemu
. "$E2E_LIB"
. "$E2E_DIR/net-lib.sh"
net_vhost_setup 256M 256M
net_vm_one ,vhost=on virtio-net-pci -M pci
net_wait_line "^HOLDING"
vmm=$(net_vmm_pid)
workers=$(cat /proc/[0-9]*/task/[0-9]*/comm 2>/dev/null | grep -E "^vhost-$vmm([^0-9]|$)" | sort -u | tr '\n' ' ')
note "VMM pid $vmm, vhost workers: ${workers:-none}"
net_release 10.0.0.2
net_vm_wait
expect_eq "$?" 0 "VM exit status"
[ -n "$workers" ] || fail "no vhost-$vmm worker in L1 while the guest ran"
expect_in "$VM_LOG" "^PING 10.0.0.1 ok"
net_expect_iperf up 268435456
net_expect_iperf down 268435456
