# Multi-queue virtio-net: -smp 2, -netdev tap,queues=2 (IFF_MULTI_QUEUE),
# virtio-net-pci,mq=on. The guest sees 2 combined channels (sets them with
# ethtool -L, a control-queue command), then runs two iperf3 clients at
# once, one pinned to each vCPU (transmit queues follow the CPU), each with
# 4 streams, both ways. Receive traffic spreads by flow hash in L1's tap.
# Both input queues must have raised interrupts (/proc/interrupts:
# virtioN-input.0 and input.1) and every rx and tx queue must have carried
# packets (ethtool -S).
# e2e-timeout: 300
# e2e-needs: iperf3 ip ethtool qemu
. "$E2E_LIB"
. "$E2E_DIR/net-lib.sh"
need_kvm
net_ns
net_bridge br0 10.0.0.1/24
net_iperf_server 10.0.0.1 5201
net_iperf_server 10.0.0.1 5202
net_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
. /net-guest.sh
export NET_IPERF_TIMEOUT=60
net_config
echo "CHANNELS $(ethtool -l eth0 | awk '/^Combined:/ { printf "%s ", $2 }')"
ethtool -L eth0 combined 1 && ethtool -L eth0 combined 2 && echo "SET-CHANNELS ok"
echo "CHANNELS-NOW $(ethtool -l eth0 | awk '/^Combined:/ { printf "%s ", $2 }')"
i0=$(net_irqs '-input\.0$') i1=$(net_irqs '-input\.1$')
net_ping 10.0.0.1 || exit 1
for dir in up down; do
	r=; [ $dir = down ] && r=-R
	taskset -c 0 sh -c ". /net-guest.sh; net_iperf $dir-0 10.0.0.1 5201 -t 4 -P 4 $r" >/tmp/0 &
	taskset -c 1 sh -c ". /net-guest.sh; net_iperf $dir-1 10.0.0.1 5202 -t 4 -P 4 $r" >/tmp/1
	wait
	cat /tmp/0 /tmp/1
	grep -q "rc=0 " /tmp/0 && grep -q "rc=0 " /tmp/1 || net_dump eth0
done
echo "IRQS input.0=$(($(net_irqs '-input\.0$') - i0)) input.1=$(($(net_irqs '-input\.1$') - i1))"
echo "QSTATS $(ethtool -S eth0 | awk '/[rt]x_queue_[0-9]_packets:/ { gsub(/[ :]/, ""); sub(/packets/, "=") ; printf "%s ", $0 }')"
GUEST
net_vm_one ,queues=2 virtio-net-pci,mq=on -M pci -smp 2
net_vm_wait
expect_eq "$?" 0 "VM exit status"
expect_in "$VM_LOG" "^CHANNELS 2 2 "
expect_in "$VM_LOG" "^SET-CHANNELS ok"
expect_in "$VM_LOG" "^CHANNELS-NOW 2 2 "
expect_in "$VM_LOG" "^PING 10.0.0.1 ok"
# Every client's line (and iperf3's error, if any) before the checks, so a
# failed run says which client failed and why.
note "$(grep "^IPERF" "$VM_LOG")"
for r in up-0 up-1 down-0 down-1; do
	expect_in "$VM_LOG" "^IPERF $r rc=0 "
done
line=$(grep "^IRQS " "$VM_LOG")
note "$line"
echo "$line" | grep -q "input.0=[1-9][0-9]* input.1=[1-9]" || fail "not both input queues interrupted: $line"
line=$(grep "^QSTATS " "$VM_LOG")
note "$line"
for q in rx_queue_0_ rx_queue_1_ tx_queue_0_ tx_queue_1_; do
	echo "$line" | grep -q " *$q=[1-9]" || fail "queue ${q%_} carried no packets: $line"
done
