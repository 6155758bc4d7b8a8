# vhost-user-blk refused at start with one clear line and exit 1: guest RAM
# that is not shared (plain -m), a socket path nobody listens on, a
# chardev that is not a socket, and a back end that never answers (socat
# accepting and saying nothing: ember's 5 s reply timeout).
# e2e-timeout: 90
# e2e-needs: qemu-storage-daemon socat
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
need_ember
need_cmd qemu-storage-daemon socat
img=$E2E_TMP/disk.img sock=$E2E_TMP/vub.sock
truncate -s 16M "$img"
vub_daemon "$img" "$sock"
k="-kernel $LAB_KERNEL"
# shellcheck disable=SC2086
expect_usage_error private-ram "guest RAM is not shared memory the vhost-user back end can map: use -object memory-backend-memfd" \
	$k -m 256 -chardev socket,id=c0,path="$sock" -device vhost-user-blk-device,chardev=c0
kill "$QSD_PID"
wait "$QSD_PID" 2>/dev/null
mem="-object memory-backend-memfd,id=mem,size=256M,share=on -M microvm,memory-backend=mem"
# shellcheck disable=SC2086
expect_usage_error no-socket "cannot connect to '$E2E_TMP/none.sock'" \
	$k $mem -chardev socket,id=c0,path="$E2E_TMP/none.sock" -device vhost-user-blk-device,chardev=c0
# shellcheck disable=SC2086
expect_usage_error not-socket "chardev 'c0' is not a socket" \
	$k $mem -chardev null,id=c0 -device vhost-user-blk-device,chardev=c0
socat UNIX-LISTEN:"$E2E_TMP/mute.sock" SYSTEM:"sleep 30" >/dev/null 2>&1 &
mute=$!
i=0
while [ ! -S "$E2E_TMP/mute.sock" ] && [ "$i" -lt 50 ]; do i=$((i + 1)); sleep 0.1; done
# shellcheck disable=SC2086
expect_usage_error mute "no reply to GET_FEATURES within 5000 ms" \
	$k $mem -chardev socket,id=c0,path="$E2E_TMP/mute.sock" -device vhost-user-blk-device,chardev=c0
kill "$mute" 2>/dev/null
