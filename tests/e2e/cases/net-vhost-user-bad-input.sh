# -netdev vhost-user refused at start with one clear line and exit 1: a
# socket path nobody listens on, a netdev naming no -chardev, guest RAM
# that is not shared (plain -m) with DPDK's testpmd listening, mq=off with
# queues > 1, a daemon that hangs up at once (socat), and more queue pairs
# than the daemon serves. DPDK 22.11 answers GET_QUEUE_NUM with 128 pairs,
# more than ember's 16, whatever its ports' queues=; the daemon that serves
# fewer is qemu-storage-daemon's (a vhost-user-blk export of one queue: the
# check is the front end's, before any net-specific message).
# e2e-timeout: 120
# e2e-needs: dpdk-testpmd qemu-storage-daemon socat
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
need_ember
k="-kernel $LAB_KERNEL"
mem="-object memory-backend-memfd,id=mem,size=256M,share=on -M pci,memory-backend=mem"
# shellcheck disable=SC2086
expect_usage_error no-socket "cannot connect to '$E2E_TMP/none.sock'" \
	$k $mem -chardev socket,id=c0,path="$E2E_TMP/none.sock" \
	-netdev vhost-user,id=n0,chardev=c0 -device virtio-net-pci,netdev=n0
# shellcheck disable=SC2086
expect_usage_error no-chardev "no -chardev with id 'nope'" \
	$k $mem -netdev vhost-user,id=n0,chardev=nope -device virtio-net-pci,netdev=n0
s0=$E2E_TMP/vu0.sock s1=$E2E_TMP/vu1.sock
vunet_testpmd "$s0" "$s1"
# shellcheck disable=SC2086
expect_usage_error private-ram "guest RAM is not shared memory the vhost-user back end can map: use -object memory-backend-memfd" \
	$k -m 256 -M pci -chardev socket,id=c0,path="$s0" \
	-netdev vhost-user,id=n0,chardev=c0 -device virtio-net-pci,netdev=n0
# shellcheck disable=SC2086
expect_usage_error no-mq "netdev 'n0' has 2 queues: add mq=on" \
	$k $mem -chardev socket,id=c0,path="$s1" \
	-netdev vhost-user,id=n0,chardev=c0,queues=2 -device virtio-net-pci,netdev=n0
kill "$PMD_PID" 2>/dev/null
wait "$PMD_PID" 2>/dev/null
grep -v '^\s*$' "$E2E_TMP/testpmd.log" | tail -n 20 | sed 's/^/| testpmd: /'
socat UNIX-LISTEN:"$E2E_TMP/hangup.sock" SYSTEM:true >/dev/null 2>&1 &
i=0
while [ ! -S "$E2E_TMP/hangup.sock" ] && [ "$i" -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
# shellcheck disable=SC2086
expect_usage_error hangup "back end closed the connection instead of sending the reply to GET_FEATURES" \
	$k $mem -chardev socket,id=c0,path="$E2E_TMP/hangup.sock" \
	-netdev vhost-user,id=n0,chardev=c0 -device virtio-net-pci,netdev=n0
need_cmd qemu-storage-daemon
img=$E2E_TMP/disk.img
truncate -s 16M "$img"
vub_daemon "$img" "$E2E_TMP/qsd.sock"
# shellcheck disable=SC2086
expect_usage_error queues "queues=8 but the vhost-user back end serves 1 queue pair" \
	$k $mem -chardev socket,id=c0,path="$E2E_TMP/qsd.sock" \
	-netdev vhost-user,id=n0,chardev=c0,queues=8 -device virtio-net-pci,netdev=n0,mq=on
kill "$QSD_PID" 2>/dev/null
wait "$QSD_PID" 2>/dev/null
