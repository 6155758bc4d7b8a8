# A hostile guest: tests/e2e/hostile/net_hostile takes one virtio-net NIC
# (virtio-mmio, MAC ...:66, tap1 in br1) away from the guest kernel and
# drives it through /dev/mem with malformed receive, transmit and control
# chains and commands (see the program). Malformed rings must put that
# device in NEEDS_RESET, bad commands must be refused with VIRTIO_NET_ERR,
# and the device must work again after each reset. L1 pings the victim's
# address (a static neighbour entry) so that its receive queue gets frames.
# Meanwhile the other NIC (virtio-pci, tap0 in br0) runs iperf3 against L1
# in a loop; afterwards it pings and moves 64 MiB each way. ember stays up,
# logs why the victim needs a reset, and never blames the other NIC.
# e2e-timeout: 300
# e2e-needs: iperf3 ip ethtool qemu
. "$E2E_LIB"
. "$E2E_DIR/net-lib.sh"
need_kvm
hostile=$E2E_DIR/hostile/bin/net_hostile
[ -x "$hostile" ] || fail "$hostile is missing (tests/e2e/run builds it on the host)"
net_ns
net_bridge br0 10.0.0.1/24
net_bridge br1 10.0.1.1/24
net_iperf_server 10.0.0.1 5201
net_iperf_server 10.0.0.1 5202
m0=52:54:00:e2:00:01 mv=52:54:00:e2:00:66
small_rx= # QEMU 7.2 aborts on receive buffers shorter than a frame
[ "${E2E_NET_VMM:-ember}" = qemu ] && small_rx=no-small-rx
net_initrd "$E2E_TMP/initrd" --file "$hostile:/bin/net_hostile" --script - <<GUEST
. /net-guest.sh
net_config
net_ping 10.0.0.1 || exit 1
(
	ok=0 bad=0
	while [ ! -e /tmp/stop ]; do
		if iperf3 -c 10.0.0.1 -p 5202 -t 2 >/dev/null 2>&1; then ok=\$((ok + 1)); else bad=\$((bad + 1)); fi
	done
	echo "BG-IPERF ok=\$ok failed=\$bad"
) &
bg=\$!
/bin/net_hostile $mv $small_rx
echo "HOSTILE-EXIT \$?"
touch /tmp/stop
wait \$bg
net_ping 10.0.0.1
net_iperf after-up 10.0.0.1 5201 -n 64M
net_iperf after-down 10.0.0.1 5201 -n 64M -R
echo CONSOLE-STILL-WORKS
GUEST
# iomem=relaxed: /dev/mem may map the victim's registers (see virtio_hostile.h).
net_vm_start --timeout 270 -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND iomem=relaxed e2e.net=$m0=10.0.0.2/24" \
	-netdev tap,id=n0,ifname=tap0 -device virtio-net-pci,netdev=n0,mac=$m0,id=survivor \
	-netdev tap,id=nv,ifname=tap1 -device virtio-net-device,netdev=nv,mac=$mv,id=victim
net_attach tap0 br0
net_attach tap1 br1
"$NET_IP" neigh replace 10.0.1.2 lladdr $mv dev br1 nud permanent || fail "ip neigh replace failed"
ping -i 0.2 10.0.1.2 >/dev/null 2>&1 &
pinger=$!
# tap1's receive counters: frames the VMM wrote into it (the guest kernel
# never brought the victim up, so they are the attacker's).
net_wait_line "^HOSTILE-EXIT" 240
tap1_rx=$(sed -n 's/^ *tap1: *//p' /proc/net/dev | awk '{ print $2 }')
note "tap1 received ${tap1_rx:-no} packets from the victim"
net_vm_wait
rc=$?
kill "$pinger" 2>/dev/null
expect_eq "$rc" 0 "VM exit status"
log=$VM_LOG
expect_in "$log" "^HOSTILE victim=eth[01] mac=$mv "
expect_not_in "$log" "HOSTILE-FAIL"
for a in ctl-promisc-on ctl-bad-class ctl-bad-command ctl-short-header ctl-no-data ctl-no-ack \
	ctl-ack-readonly ctl-ack-zero-len ctl-mac-table-huge-count ctl-mac-table-truncated \
	ctl-mac-table-600 ctl-mac-addr-short ctl-vq-pairs-zero ctl-vq-pairs-over-max \
	ctl-vq-pairs-0x8001 ctl-vq-pairs-0xffff ctl-vq-pairs-one ctl-announce-not-negotiated \
	ctl-outside-ram ctl-addr-len-wrap ctl-chain-loop tx-good tx-outside-ram \
	tx-straddles-ram-end tx-addr-len-wrap tx-chain-loop tx-next-out-of-range \
	tx-head-out-of-range tx-zero-len tx-short-header tx-header-only tx-write-only \
	tx-oversized-128k tx-bad-gso tx-notify-bad-queue rx-good \
	rx-outside-ram rx-straddles-ram-end rx-huge-len rx-chain-loop rx-readonly \
	control-after-ctl control-after-tx control-after-rx; do
	expect_in "$log" "^ATTACK $a status=.* ok"
done
for i in 00 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15; do
	expect_in "$log" "^ATTACK g-garbage-$i status="
	expect_in "$log" "^ATTACK g-fuzz-$i status="
done
[ -n "$small_rx" ] || for a in rx-too-small-8 rx-too-small-64; do
	expect_in "$log" "^ATTACK $a status=.* canary=intact ok"
done
expect_not_in "$log" "UNEXPECTED"
# A bad command is refused, the device runs on; a chain outside RAM stops it.
expect_in "$log" "^ATTACK ctl-bad-class status=0x0f used=1 ack=0x01 ok"
expect_in "$log" "^ATTACK ctl-outside-ram status=0x4f used=0 "
expect_in "$log" "^ATTACK rx-good status=0x0f used=1 ack=0xee len=[0-9]* frame=ours canary=intact ok"
expect_in "$log" "HOSTILE-SUMMARY attacks=[0-9]* unexpected=0"
expect_in "$log" "HOSTILE-EXIT 0"
# The victim's good frames reached its tap (counted while ember, and so
# tap1, still lives).
[ "${tap1_rx:-0}" -ge 2 ] || fail "the victim's well-formed frames (tx-good, control-after-tx) did not reach tap1"
# ember said what was wrong, for the victim only (QEMU says it otherwise).
if [ "${E2E_NET_VMM:-ember}" = ember ]; then
	expect_in "$log" "ember: warning: virtio-net .*needs reset: .*the device stops until the guest resets it"
	grep "needs reset" "$log" | grep -v "nv\|victim" | sed 's/^/  > /' | grep . &&
		fail "a needs-reset message that does not name the victim"
	expect_not_in "$log" "ember: error"
fi
# The survivor kept working during and after the attacks.
line=$(grep "^BG-IPERF " "$log")
note "$line"
echo "$line" | grep -q "ok=[1-9][0-9]* failed=0" || fail "the other NIC's iperf3 failed during the attacks: $line"
expect_in "$log" "^PING 10.0.0.1 ok"
net_expect_iperf after-up 67108864
net_expect_iperf after-down 67108864
expect_in "$log" CONSOLE-STILL-WORKS
