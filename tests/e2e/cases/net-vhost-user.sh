# -netdev vhost-user against the real DPDK: testpmd serves two vhost-user
# ports and forwards between them (io mode); two ember guests, each with a
# virtio-net on one port (its data rings are testpmd's, its control queue
# ember's), ping each other and each fetches 8 MiB from the other over TCP
# (busybox nc); both copies have L1's checksum. The first guest's NIC is on
# virtio-mmio (microvm; its call eventfd served by ember's loop), the
# second's on virtio-pci: one run covers both transports (two runs, one per
# transport, took 77 s of the CI's lab time for little more).
# e2e-timeout: 600
# e2e-needs: dpdk-testpmd
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
need_ember
need_kvm
s0=$E2E_TMP/vu0.sock s1=$E2E_TMP/vu1.sock
dd if=/dev/urandom of="$E2E_TMP/tx" bs=1M count=8 2>/dev/null
l1_sum=$(sha256sum "$E2E_TMP/tx" | cut -d' ' -f1)
make_initrd "$E2E_TMP/initrd" --file "$E2E_TMP/tx:/tx" --script - <<'GUEST'
for w in $(cat /proc/cmdline); do
	case "$w" in
	e2e.addr=*) addr=${w#e2e.addr=} ;;
	e2e.peer=*) peer=${w#e2e.peer=} ;;
	esac
done
ip link set eth0 up
ip addr add "$addr/24" dev eth0
echo "NIC driver=$(basename "$(readlink -f /sys/class/net/eth0/device/driver)") features=$(cat /sys/class/net/eth0/device/features)"
# The peer fetches our copy once; we fetch theirs. Our copy may still be in
# our socket's send buffer when our nc ends: we power off only once the peer
# says it has all of it (port 5002).
timeout 500 nc -l -p 5001 -e cat /tx &
timeout 500 nc -l -p 5002 >/peer-done &
i=0
while ! ping -c 1 -W 1 "$peer" >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 300 ] || { echo "PING $peer FAILED"; exit 1; }
done
if ping -c 3 -i 0.2 -W 5 "$peer" >/dev/null 2>&1; then echo "PING $peer ok"; else echo "PING $peer FAILED"; fi
i=0
while :; do
	timeout 300 nc "$peer" 5001 -e sh -c 'cat >/rx' 2>/dev/null
	[ -s /rx ] && break
	i=$((i + 1))
	[ "$i" -lt 60 ] || break
	sleep 1
done
echo "RX $(wc -c </rx) $(sha256sum </rx | cut -d' ' -f1)"
i=0
until timeout 30 nc "$peer" 5002 -e echo got-it 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 60 ] || break
	sleep 1
done
wait
echo "PEER $(cat /peer-done)"
echo GUEST-DONE
GUEST
vunet_testpmd "$s0" "$s1"
m_a=microvm dev_a=virtio-net-device
ma=52:54:00:e2:01:01 mb=52:54:00:e2:01:02
# vm NAME MACHINE DEVICE SOCK MAC ADDR PEER: one guest in the background (pid in $pid_NAME).
vm() {
	timeout 540 "$EMBER" -object memory-backend-memfd,id=mem,size=256M,share=on \
		-M "$2,memory-backend=mem" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" \
		-append "$E2E_APPEND e2e.addr=$6 e2e.peer=$7" -chardev socket,id=c0,path="$4" \
		-netdev vhost-user,id=n0,chardev=c0 -device "$3,netdev=n0,mac=$5" \
		</dev/null >"$E2E_TMP/$1.log" 2>&1 &
}
vm a "$m_a" "$dev_a" "$s0" "$ma" 10.0.0.1 10.0.0.2
pid_a=$!
vm b pci virtio-net-pci "$s1" "$mb" 10.0.0.2 10.0.0.1
pid_b=$!
wait "$pid_a"
rc_a=$?
wait "$pid_b"
rc_b=$?
kill "$PMD_PID" 2>/dev/null
wait "$PMD_PID" 2>/dev/null
for g in a b; do sed "s/^/| $g: /" "$E2E_TMP/$g.log"; done
grep -v '^\s*$' "$E2E_TMP/testpmd.log" | tail -n 40 | sed 's/^/| testpmd: /'
expect_eq "$rc_a" 0 "guest a: ember exit status"
expect_eq "$rc_b" 0 "guest b: ember exit status"
for g in a b; do
	expect_in "$E2E_TMP/$g.log" "^NIC driver=virtio_net"
	expect_in "$E2E_TMP/$g.log" "^PING 10.0.0.[12] ok"
	expect_in "$E2E_TMP/$g.log" "^RX 8388608 $l1_sum"
	expect_in "$E2E_TMP/$g.log" "^PEER got-it"
	expect_in "$E2E_TMP/$g.log" GUEST-DONE
done
