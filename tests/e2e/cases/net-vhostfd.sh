# vhostfd=: a manager (here the shell) opens /dev/vhost-net and passes the
# fd, as libvirt does; ember serves the tap's rings through that vhost-net
# instead of opening its own: the guest pings and sends 64 MiB, and while
# it runs the VMM holds exactly the passed fd on /dev/vhost-net, with its
# vhost worker.
# e2e-timeout: 300
# e2e-needs: iperf3 ip ethtool
# shellcheck source=../lib.sh
. "$E2E_LIB"
# shellcheck source=../net-lib.sh
. "$E2E_DIR/net-lib.sh"
net_vhost_setup 64M
exec 7<>/dev/vhost-net
net_vm_one ,vhostfd=7 virtio-net-pci -M pci
exec 7<&-
net_wait_line "^HOLDING"
vmm=$(net_vmm_pid)
vhost_fds=0
for f in "/proc/$vmm/fd/"*; do
	[ "$(readlink "$f")" = /dev/vhost-net ] && vhost_fds=$((vhost_fds + 1))
done
fd7=$(readlink "/proc/$vmm/fd/7")
workers=$(cat /proc/[0-9]*/task/[0-9]*/comm 2>/dev/null | grep -E "^vhost-$vmm([^0-9]|$)" | sort -u | tr '\n' ' ')
note "VMM pid $vmm: fd 7 $fd7, $vhost_fds fds on /dev/vhost-net, vhost workers: ${workers:-none}"
net_release 10.0.0.2
net_vm_wait
expect_eq "$?" 0 "VM exit status"
expect_eq "$fd7" /dev/vhost-net "the VMM's fd 7"
expect_eq "$vhost_fds" 1 "the VMM's fds on /dev/vhost-net"
[ -n "$workers" ] || fail "no vhost-$vmm worker in L1 while the guest ran"
expect_in "$VM_LOG" "^PING 10.0.0.1 ok"
net_expect_iperf up 67108864
