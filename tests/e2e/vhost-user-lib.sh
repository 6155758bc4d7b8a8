# Shared by the vhost-user-blk cases: the transport from the case name
# (…-mmio or …-pci), guest RAM as a shared memfd (vhost-user maps it), and
# the real qemu-storage-daemon exporting an image over a unix socket.
vub_transport() {
	case "$E2E_CASE" in
	*-pci) VUB_DEV=vhost-user-blk-pci; VUB_MACHINE=pci ;;
	*) VUB_DEV=vhost-user-blk-device; VUB_MACHINE=microvm ;;
	esac
	VUB_RAM="-object memory-backend-memfd,id=mem,size=256M,share=on -M $VUB_MACHINE,memory-backend=mem"
}

# vub_daemon IMG SOCK [EXPORT-OPTS]: qemu-storage-daemon in the background (pid in $QSD_PID).
vub_daemon() {
	rm -f "$2"
	qemu-storage-daemon --blockdev driver=file,node-name=f,filename="$1" \
		--export type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path="$2",writable=on${3:+,$3} \
		>"$E2E_TMP/qsd.log" 2>&1 &
	QSD_PID=$!
	vu_wait_socket "$2" "$E2E_TMP/qsd.log" qemu-storage-daemon
}

# vu_wait_socket SOCK LOG WHAT: waits up to 10 s for daemon WHAT's socket; its LOG if none.
vu_wait_socket() {
	_i=0
	while [ ! -S "$1" ]; do
		_i=$((_i + 1))
		[ "$_i" -lt 100 ] || { cat "$2" >&2; fail "$3 made no socket"; }
		sleep 0.1
	done
}

# vub_setup SIZE: what each guest case starts with: ember, KVM and the
# daemon present, the transport, an image of SIZE in $img, the socket path in $sock.
vub_setup() {
	need_ember
	need_kvm
	need_cmd qemu-storage-daemon
	vub_transport
	img=$E2E_TMP/disk.img sock=$E2E_TMP/vub.sock
	truncate -s "$1" "$img"
}

# vub_run_guest [DEVICE-OPTS] [EMBER-ARGS...]: boots $E2E_TMP/initrd with the
# disk on $sock, stops the daemon, and checks that ember exited 0 and the
# guest finished (GUEST-DONE) without a FAILED line.
vub_run_guest() {
	_dopts=${1:-}
	[ $# -gt 0 ] && shift
	# shellcheck disable=SC2086 # VUB_RAM is words
	run_ember --timeout 120 $VUB_RAM "$@" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" \
		-append "$E2E_APPEND" -chardev socket,id=c0,path="$sock" \
		-device "$VUB_DEV,chardev=c0,id=disk0$_dopts"
	_rc=$?
	kill "$QSD_PID" 2>/dev/null
	wait "$QSD_PID" 2>/dev/null
	expect_eq "$_rc" 0 "ember exit status"
	expect_in "$EMBER_LOG" GUEST-DONE
	expect_not_in "$EMBER_LOG" FAILED
}

# vufs_daemon SHARE SOCK: the real virtiofsd (QEMU 7.2's) sharing directory SHARE
# in the background (pid in $VFSD_PID; it exits when its one client goes).
# sandbox=chroot: L1's root is its initramfs, where pivot_root(2), which the
# default namespace sandbox uses, fails.
VIRTIOFSD=/usr/lib/qemu/virtiofsd
vufs_daemon() {
	rm -f "$2"
	"$VIRTIOFSD" --socket-path="$2" -o source="$1" -o sandbox=chroot -o cache=none \
		>>"$E2E_TMP/virtiofsd.log" 2>&1 &
	VFSD_PID=$!
	vu_wait_socket "$2" "$E2E_TMP/virtiofsd.log" virtiofsd
}

# vufs_setup MIB: what each virtiofs guest case starts with: ember, KVM and
# virtiofsd present, $share holding from-l1 (MIB MiB of random bytes, its
# checksum in $l1_sum), and virtiofsd sharing it on $sock.
vufs_setup() {
	need_ember
	need_kvm
	[ -x "$VIRTIOFSD" ] || skip "no $VIRTIOFSD in L1"
	share=$E2E_TMP/share sock=$E2E_TMP/vufs.sock
	mkdir -p "$share"
	dd if=/dev/urandom of="$share/from-l1" bs=1M count="$1" 2>/dev/null
	l1_sum=$(sha256sum "$share/from-l1" | cut -d' ' -f1)
	vufs_daemon "$share" "$sock"
}

# vufs_run MACHINE DEVICE: boots $E2E_TMP/initrd with the share on DEVICE
# (tag hostshare) and shared memfd RAM, stops virtiofsd after it, shows the
# end of its log and checks ember's exit status, GUEST-DONE and no FAILED.
vufs_run() {
	run_ember --timeout 120 -object memory-backend-memfd,id=mem,size=256M,share=on \
		-M "$1,memory-backend=mem" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" \
		-append "$E2E_APPEND" -chardev socket,id=c0,path="$sock" \
		-device "$2,chardev=c0,id=fs0,tag=hostshare"
	_rc=$?
	kill "$VFSD_PID" 2>/dev/null
	wait "$VFSD_PID" 2>/dev/null
	sed 's/^/| virtiofsd: /' "$E2E_TMP/virtiofsd.log" | tail -n 20
	expect_eq "$_rc" 0 "ember exit status"
	expect_in "$EMBER_LOG" GUEST-DONE
	expect_not_in "$EMBER_LOG" FAILED
}

# vunet_testpmd SOCK0 SOCK1: DPDK's testpmd (real DPDK, '# e2e-needs: dpdk-testpmd')
# in the background (pid in $PMD_PID, log $E2E_TMP/testpmd.log), forwarding
# between two vhost-user ports it serves on SOCK0 and SOCK1 (io mode: what
# comes in on one goes out of the other). No hugepages: -m 512 of plain memory.
# --stats-period: it runs (printing its port counters) until SIGTERM, not
# until stdin ends.
# DPDK refuses drivers under a world-writable directory, as L1's / is.
DPDK_PMDS=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0
vunet_testpmd() {
	need_cmd dpdk-testpmd
	[ -e "$DPDK_PMDS/librte_net_vhost.so.23.0" ] || skip "no DPDK vhost driver in L1"
	chmod 755 /
	mkdir -p /var/run
	rm -f "$1" "$2"
	dpdk-testpmd --lcores '0@0,1@0' --no-pci --no-huge -m 512 \
		-d "$DPDK_PMDS/librte_mempool_ring.so.23.0" -d "$DPDK_PMDS/librte_net_vhost.so.23.0" \
		--vdev "net_vhost0,iface=$1" --vdev "net_vhost1,iface=$2" -- \
		--forward-mode=io --auto-start --nb-cores=1 --total-num-mbufs=8192 --stats-period=20 \
		</dev/null >"$E2E_TMP/testpmd.log" 2>&1 &
	PMD_PID=$!
	vu_wait_socket "$1" "$E2E_TMP/testpmd.log" dpdk-testpmd
	vu_wait_socket "$2" "$E2E_TMP/testpmd.log" dpdk-testpmd
}
