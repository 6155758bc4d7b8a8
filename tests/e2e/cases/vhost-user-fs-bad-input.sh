# vhost-user-fs refused at start with one clear line and exit 1: no tag=,
# an empty tag, a tag over 36 bytes, guest RAM that is not shared (plain -m,
# with virtiofsd listening), more request queues than virtiofsd serves, and a
# socket path nobody listens on.
# e2e-timeout: 90
# e2e-needs: /usr/lib/qemu/virtiofsd
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
need_ember
[ -x "$VIRTIOFSD" ] || skip "no $VIRTIOFSD in L1"
k="-kernel $LAB_KERNEL"
# The tag cases: a listening chardev (nobody connects), so only the tag is wrong.
srv="-chardev socket,id=c0,path=$E2E_TMP/srv.sock,server=on,wait=off"
mem="-object memory-backend-memfd,id=mem,size=256M,share=on -M microvm,memory-backend=mem"
share=$E2E_TMP/share sock=$E2E_TMP/vufs.sock
mkdir -p "$share"
# shellcheck disable=SC2086
expect_usage_error no-tag "vhost-user-fs-device: property 'tag' is required" \
	$k $mem $srv -device vhost-user-fs-device,chardev=c0
# shellcheck disable=SC2086
expect_usage_error long-tag "tag='abcdefghijklmnopqrstuvwxyz0123456789X' is 37 bytes long (at most 36)" \
	$k $mem $srv -device vhost-user-fs-device,chardev=c0,tag=abcdefghijklmnopqrstuvwxyz0123456789X
# shellcheck disable=SC2086
expect_usage_error empty-tag "tag= is empty" \
	$k $mem $srv -device vhost-user-fs-device,chardev=c0,tag=
# shellcheck disable=SC2086
expect_usage_error no-socket "cannot connect to '$E2E_TMP/none.sock'" \
	$k $mem -chardev socket,id=c0,path="$E2E_TMP/none.sock" \
	-device vhost-user-fs-device,chardev=c0,tag=fs0
vufs_daemon "$share" "$sock"
# shellcheck disable=SC2086
expect_usage_error private-ram "guest RAM is not shared memory the vhost-user back end can map: use -object memory-backend-memfd" \
	$k -m 256 -chardev socket,id=c0,path="$sock" -device vhost-user-fs-device,chardev=c0,tag=fs0
kill "$VFSD_PID" 2>/dev/null
wait "$VFSD_PID" 2>/dev/null
vufs_daemon "$share" "$sock"
# shellcheck disable=SC2086
expect_usage_error too-many-queues "num-request-queues=8 needs 9 queues but the back end serves" \
	$k $mem -chardev socket,id=c0,path="$sock" \
	-device vhost-user-fs-device,chardev=c0,tag=fs0,num-request-queues=8
kill "$VFSD_PID" 2>/dev/null
wait "$VFSD_PID" 2>/dev/null
