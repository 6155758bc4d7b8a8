# Snapshot to a file and restore: a guest counts each second and writes the
# count to an ext4 disk (virtio-blk-device), with virtio-rng-device and a
# virtconsole (hvc0) on virtio-serial-device too;
# QMP migrate "file:" saves it
# (STOP, MIGRATION completed, paused), ember is killed, a new ember restores
# it with -incoming: the count goes on from where it was (no reboot), the
# console takes input, /dev/hwrng gives bytes, hvc0 writes to its chardev,
# and after poweroff the disk (a copy taken at the snapshot: the source,
# continued with cont, goes on writing its own)
# passes e2fsck. Again with
# -incoming defer and QMP migrate-incoming, on a copy of the disk as it was
# at the snapshot (query-status says inmigrate: no count until then). Then bad
# input, one line each: truncated and corrupt state files, a memory file of
# the wrong size, another -m, another device set; and migrate of a machine
# with a device that cannot be saved fails, naming it, and writes nothing.
# e2e-timeout: 420
# e2e-needs: socat mkfs.ext4 e2fsck debugfs
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
. "$E2E_DIR/blk-lib.sh"
need_kvm
need_cmd socat mkfs.ext4 e2fsck debugfs
blk_transport	# virtio-mmio, or virtio-pci (-M pci) for snapshot-file-pci
case $BLK_DEV in
*-pci) RNG_DEV=virtio-rng-pci VSER_DEV=virtio-serial-pci ;;
*) RNG_DEV=virtio-rng-device VSER_DEV=virtio-serial-device ;;
esac
img=$E2E_TMP/disk.img
snap=$E2E_TMP/snap
truncate -s 64M "$img"
mkfs.ext4 -q -F "$img"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
mkdir -p /mnt && mount -t ext4 /dev/vda /mnt || echo MOUNT-FAILED
( i=0; while :; do i=$((i + 1)); echo "$i" >/mnt/count; sync; echo "COUNT $i"; sleep 1; done ) &
loop=$!
echo HVC-BEFORE >/dev/hvc0
echo READY-FOR-INPUT
while read -r line; do
	echo "GOT:$line:END"
	[ "$line" = rng ] && echo "RNG $(head -c 16 /dev/hwrng | wc -c)"
	[ "$line" = hvc ] && echo HVC-AFTER >/dev/hvc0
	[ "$line" = off ] && break
done
kill $loop
wait $loop
echo "DISK $(cat /mnt/count)"
umount /mnt || echo UMOUNT-FAILED
echo GUEST-DONE
poweroff -f
GUEST

# start_ember NAME ARGS...: ember with the guest (qmp_ember_typed: console
# input on fd 7, log NAME.log), QMP at $QMP_SOCK, the disk $disk_img.
start_ember() {
	_n=$1
	shift
	# shellcheck disable=SC2086 # $BLK_MACHINE: words
	qmp_ember_typed "$_n" $BLK_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" \
		-m 256M -smp 2 -append "$E2E_APPEND" -serial stdio \
		-blockdev driver=file,node-name=f0,filename="$disk_img" \
		-blockdev driver=raw,node-name=d0,file=f0 -device "$BLK_DEV,drive=d0,id=vd0" \
		-device "$RNG_DEV,id=rng0" -chardev "file,id=hvc,path=$E2E_TMP/$_n.hvc" \
		-device "$VSER_DEV,id=vser0" -device virtconsole,chardev=hvc,id=con0 \
		-qmp "unix:$QMP_SOCK,server=on,wait=off" "$@"
	wait_sock "$QMP_SOCK"
}
last_count() { sed -n 's/^COUNT \([0-9]*\).*/\1/p' "$1" | tail -n 1; }

need_ember
disk_img=$img
start_ember src
wait_for "$EMBER_LOG" "COUNT 5" 180
wait_for "$E2E_TMP/src.hvc" HVC-BEFORE 30
client_open a 3 "$QMP_SOCK"
expect_reply a 3 a0 '{"execute": "qmp_capabilities", "id": "a0"}' '{"return":{},"id":"a0"}'
expect_reply a 3 a1 "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"file:$snap\"}, \"id\": \"a1\"}" \
	'{"return":{},"id":"a1"}'
wait_count a '"event":"STOP"' 1
wait_count a '"event":"MIGRATION","data":{"status":"setup"}' 1
wait_count a '"event":"MIGRATION","data":{"status":"completed"}' 1
expect_reply a 3 a2 '{"execute": "query-status", "id": "a2"}' '"status":"paused"'
expect_reply a 3 a2m '{"execute": "query-migrate", "id": "a2m"}' '"status":"completed","total-time":'
n=$(last_count "$EMBER_LOG")
sleep 3
expect_eq "$(last_count "$EMBER_LOG")" "$n" "count while paused after migrate"
note "saved at COUNT $n: state $(stat -c %s "$snap") bytes, memory file $(stat -c %s "$snap.mem") bytes ($(du -k "$snap.mem" | cut -f1) KiB on disk)"
cp "$img" "$E2E_TMP/disk-at-snap.img"
cp "$img" "$E2E_TMP/disk-at-snap2.img"
# The source may go on (QEMU's too): cont, and it counts again, on its own disk.
expect_reply a 3 a3 '{"execute": "cont", "id": "a3"}' '{"return":{},"id":"a3"}'
wait_for "$EMBER_LOG" "COUNT $((n + 2))" 30
exec 3>&-
kill -9 "$EMBER_PID"
wait "$EMBER_PID" 2>/dev/null
exec 7>&-

disk_img=$E2E_TMP/disk-at-snap.img
t0=$(now)
start_ember dst -incoming "file:$snap"
wait_for "$EMBER_LOG" "COUNT $((n + 1))" 60
note "restored: COUNT $((n + 1)) after $(elapsed "$t0") s"
first=$(sed -n 's/^COUNT \([0-9]*\).*/\1/p' "$EMBER_LOG" | head -n 1)
expect_eq "$first" "$((n + 1))" "first count after the restore"
expect_not_in "$EMBER_LOG" READY-FOR-INPUT
wait_for "$EMBER_LOG" "COUNT $((n + 3))" 30
printf 'hello\n' >&7
wait_for "$EMBER_LOG" "GOT:hello:END" 30
printf 'rng\n' >&7
wait_for "$EMBER_LOG" "RNG 16" 30
printf 'hvc\n' >&7
wait_for "$E2E_TMP/dst.hvc" HVC-AFTER 30
expect_not_in "$E2E_TMP/dst.hvc" HVC-BEFORE
printf 'off\n' >&7
ember_exit 0
exec 7>&-
expect_in "$EMBER_LOG" GUEST-DONE
expect_not_in "$EMBER_LOG" FAILED
disk=$(sed -n 's/^DISK \([0-9]*\).*/\1/p' "$EMBER_LOG")
[ "${disk:-0}" -gt "$n" ] || fail "the disk's count ${disk:-none} is not past $n"
e2fsck -fn "$disk_img" >"$E2E_TMP/fsck.log" 2>&1 || { cat "$E2E_TMP/fsck.log"; fail "e2fsck found errors"; }
[ "$(debugfs -R 'cat /count' "$disk_img" 2>/dev/null)" = "$disk" ] || fail "the image's /count is not $disk"

# -incoming defer: nothing runs until migrate-incoming; then the count goes on.
disk_img=$E2E_TMP/disk-at-snap2.img
start_ember defer -incoming defer
client_open c 5 "$QMP_SOCK"
expect_reply c 5 c0 '{"execute": "qmp_capabilities", "id": "c0"}' '{"return":{},"id":"c0"}'
expect_reply c 5 c1 '{"execute": "query-status", "id": "c1"}' '"status":"inmigrate"'
sleep 2
expect_not_in "$EMBER_LOG" COUNT
expect_reply c 5 c2 "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"file:$snap\"}, \"id\": \"c2\"}" \
	'{"return":{},"id":"c2"}'
wait_count c '"event":"RESUME"' 1
wait_for "$EMBER_LOG" "COUNT $((n + 2))" 60
expect_eq "$(sed -n 's/^COUNT \([0-9]*\).*/\1/p' "$EMBER_LOG" | head -n 1)" "$((n + 1))" \
	"first count after migrate-incoming"
expect_reply c 5 c3 "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"file:$snap\"}, \"id\": \"c3\"}" \
	'"desc":"ember was not started with -incoming defer, or the snapshot is already in"'
printf 'off\n' >&7
ember_exit 0
exec 5>&- 7>&-
expect_in "$EMBER_LOG" GUEST-DONE
e2fsck -fn "$disk_img" >"$E2E_TMP/fsck2.log" 2>&1 || { cat "$E2E_TMP/fsck2.log"; fail "e2fsck found errors (defer)"; }

# Bad input: one line each, exit status 1, before the guest runs.
bad() { # NAME PATTERN STATEFILE ARGS...
	_name=$1 _pat=$2 _sf=$3
	shift 3
	# shellcheck disable=SC2086
	expect_usage_error "$_name" "$_pat" $BLK_MACHINE -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" \
		-m 256M -smp 2 -append "$E2E_APPEND" -serial stdio \
		-blockdev driver=file,node-name=f0,filename="$img" \
		-blockdev driver=raw,node-name=d0,file=f0 "$@" -incoming "file:$_sf"
}
vd="-device $BLK_DEV,drive=d0,id=vd0 -device $RNG_DEV,id=rng0 -chardev null,id=hvc
	-device $VSER_DEV,id=vser0 -device virtconsole,chardev=hvc,id=con0"
head -c 3000 "$snap" >"$E2E_TMP/trunc"
# shellcheck disable=SC2086 # $vd: words
bad truncated "state file: truncated (3000 of $(stat -c %s "$snap") bytes)" "$E2E_TMP/trunc" $vd
cp "$snap" "$E2E_TMP/corrupt"
printf 'X' | dd of="$E2E_TMP/corrupt" bs=1 seek=2000 conv=notrunc 2>/dev/null
# shellcheck disable=SC2086
bad corrupt "state file: corrupt (checksum mismatch)" "$E2E_TMP/corrupt" $vd
cp "$snap" "$E2E_TMP/short"
truncate -s 128M "$E2E_TMP/short.mem"
# shellcheck disable=SC2086
bad mem-size "incoming: memory file $E2E_TMP/short.mem has 134217728 bytes, guest RAM (-m) is 268435456" \
	"$E2E_TMP/short" $vd
# shellcheck disable=SC2086
expect_usage_error other-m "state file: -m 256M, this machine has -m 512M" $BLK_MACHINE -kernel "$LAB_KERNEL" \
	-m 512M -smp 2 -serial stdio -blockdev driver=file,node-name=f0,filename="$img" \
	-blockdev driver=raw,node-name=d0,file=f0 $vd -incoming "file:$snap"
bad other-devices "state file: has $BLK_DEV/vd0, which this machine does not" "$snap"
printf 'not a snapshot' >"$E2E_TMP/junk"
# shellcheck disable=SC2086
bad junk "state file: not an ember state file" "$E2E_TMP/junk" $vd

# A device that cannot be saved: migrate fails naming it, nothing is written.
start_ember bal -S -device virtio-balloon-device,id=bal0
client_open b 4 "$QMP_SOCK"
expect_reply b 4 b0 '{"execute": "qmp_capabilities", "id": "b0"}' '{"return":{},"id":"b0"}'
expect_reply b 4 b1 "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"file:$E2E_TMP/bal\"}, \"id\": \"b1\"}" \
	'"desc":"migrate: device virtio-balloon-device/bal0 (virtio-balloon-device) cannot be saved in a snapshot"'
wait_count b '"event":"MIGRATION","data":{"status":"failed"}' 1
[ ! -e "$E2E_TMP/bal" ] && [ ! -e "$E2E_TMP/bal.mem" ] || fail "a failed migrate left files"
expect_reply b 4 b2 '{"execute": "quit", "id": "b2"}' '{"return":{},"id":"b2"}'
exec 4>&-
ember_exit 0
