# A guest reboot resets the machine in place and the guest boots again
# (QEMU's default, without -no-reboot). Boot 1 finds no marker on its
# virtio-blk disk, pings L1 through its virtio-net NIC, writes the marker
# and runs `reboot -f`; boot 2 finds the marker, pings again (the tap and the
# disk survived the reset, the devices were reset to power-on), writes a
# second marker and powers off. QMP sees RESET (guest true, guest-reset) once,
# then SHUTDOWN; the console shows the init banner twice; L1 reads the second
# marker from the image. On virtio-mmio the kernel resets through the i8042
# (reboot=k); on virtio-pci (guest-reset-pci) through the ACPI reset register,
# with two vCPUs (the second waits for the guest's INIT/SIPI again: both
# boots see 2), the NIC on vhost-net (stopped by the reset on the loop), and
# -no-shutdown, which (as in QEMU) does not stop a reboot, only the final
# poweroff (paused in shutdown until QMP quit).
# e2e-timeout: 300
# e2e-needs: socat
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
need_ember
need_kvm
need_cmd socat
if [ -z "${RESET_NS:-}" ]; then
	modprobe tun 2>/dev/null
	[ -c /dev/net/tun ] || fail "/dev/net/tun is missing after modprobe tun"
	RESET_NS=1 exec unshare -n sh "$0"
fi
ip link set lo up
case "$E2E_CASE" in
*-pci)
	machine="-M pci -smp 2 -no-shutdown" blk=virtio-blk-pci net=virtio-net-pci append= how="(ACPI reset register)"
	vhost=,vhost=on cpus=2
	modprobe vhost_net || fail "modprobe vhost_net failed"
	;;
*)
	machine= blk=virtio-blk-device net=virtio-net-device append=" reboot=k" how="via i8042"
	vhost= cpus=1
	;;
esac

make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
m=$(dd if=/dev/vda bs=64 count=1 2>/dev/null | tr -d '\000')
echo "GUEST-INIT marker=[$m]"
echo "CPUS $(grep -c ^processor /proc/cpuinfo)"
ip link set eth0 up
ip addr add 10.0.3.2/24 dev eth0
ping_l1() {
	i=0
	while ! ping -c 1 -W 1 10.0.3.1 >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt 30 ] || { echo "PING-$1 FAILED"; return 1; }
	done
	ping -c 3 -i 0.2 -W 2 10.0.3.1 >/dev/null 2>&1 && echo "PING-$1 ok"
}
case "$m" in
"")
	echo BOOT-ONE
	ping_l1 1
	printf 'EMBER-BOOT-1' | dd of=/dev/vda conv=fsync 2>/dev/null
	reboot -f
	sleep 30
	;;
EMBER-BOOT-1)
	echo BOOT-TWO
	ping_l1 2
	printf 'EMBER-BOOT-2' | dd of=/dev/vda conv=fsync 2>/dev/null
	echo GUEST-DONE
	;;
*)
	echo "BOOT-UNEXPECTED [$m]"
	;;
esac
GUEST
img=$E2E_TMP/disk.img
dd if=/dev/zero of="$img" bs=1M count=16 2>/dev/null
# shellcheck disable=SC2086
qmp_ember $machine -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND$append" -qmp "unix:$QMP_SOCK,server=on,wait=off" \
	-blockdev driver=file,node-name=f0,filename="$img" -blockdev driver=raw,node-name=d0,file=f0 \
	-device "$blk,drive=d0" -netdev "tap,id=n0,ifname=tap0$vhost" \
	-device "$net,netdev=n0,mac=52:54:00:aa:bb:03"
wait_sock "$QMP_SOCK"
client_open a 3 "$QMP_SOCK"
expect_reply a 3 a0 '{"execute": "qmp_capabilities", "id": "a0"}' '{"return":{},"id":"a0"}'
i=0
until ip link show tap0 >/dev/null 2>&1; do
	i=$((i + 1))
	[ "$i" -lt 100 ] || fail "ember made no tap0"
	sleep 0.1
done
ip addr add 10.0.3.1/24 dev tap0 && ip link set tap0 up || fail "cannot configure tap0"
wait_for "$EMBER_LOG" GUEST-DONE 200
case "$machine" in
*-no-shutdown*)
	wait_count a '"event":"STOP"' 1
	expect_reply a 3 a1 '{"execute": "query-status", "id": "a1"}' '"status":"shutdown"'
	expect_reply a 3 a2 '{"execute": "quit", "id": "a2"}' '{"return":{},"id":"a2"}'
	;;
esac
ember_exit 0
exec 3>&-
sed 's/^/  qmp: /' "$E2E_TMP/a.out" >&2
expect_eq "$(grep -c GUEST-INIT "$EMBER_LOG")" 2 "init banners on the console"
expect_eq "$(grep -c "^CPUS $cpus" "$EMBER_LOG")" 2 "boots that saw $cpus vCPUs"
expect_in "$EMBER_LOG" "GUEST-INIT marker=\[\]"
expect_in "$EMBER_LOG" "GUEST-INIT marker=\[EMBER-BOOT-1\]"
expect_in "$EMBER_LOG" PING-1\ ok
expect_in "$EMBER_LOG" PING-2\ ok
expect_not_in "$EMBER_LOG" "FAILED\|BOOT-UNEXPECTED"
expect_in "$EMBER_LOG" "ember: guest reset $how; the machine resets"
expect_in "$EMBER_LOG" "guest powered off (ACPI S5)"
expect_eq "$(count a '"event":"RESET","data":{"guest":true,"reason":"guest-reset"}')" 1 "RESET events"
expect_eq "$(count a '"event":"SHUTDOWN","data":{"guest":true,"reason":"guest-shutdown"}')" 1 \
	"SHUTDOWN events"
expect_eq "$(dd if="$img" bs=12 count=1 2>/dev/null)" EMBER-BOOT-2 "marker on the image"
