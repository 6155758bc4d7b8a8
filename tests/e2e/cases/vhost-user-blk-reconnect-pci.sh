# vhost-user-blk with -chardev socket,...,reconnect=1: qemu-storage-daemon
# is killed (SIGKILL) while the guest writes numbered records with O_DIRECT
# and a flush each, and started again on the same socket and image. ember
# says the back end left and, within a few seconds, that it is connected
# again (with the in-flight area, INFLIGHT_SHMFD, the daemon submits again
# what it had not finished); the guest's writes wait meanwhile and none
# fails. The guest reads every record back, and after poweroff L1 finds
# them all in the image.
# e2e-timeout: 240
# e2e-needs: qemu-storage-daemon
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
vub_setup 64M
vub_daemon "$img" "$sock"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
n=60
i=0
while [ $i -lt $n ]; do
	yes "REC-$i" | head -c 4096 >/tmp/rec
	dd if=/tmp/rec of=/dev/vda bs=4096 seek=$((i * 16)) oflag=direct conv=fsync,notrunc \
		2>/tmp/dd.err || { echo "DD-FAILED $i $(cat /tmp/dd.err)"; break; }
	echo "FLUSHED $i"
	i=$((i + 1))
done
bad=0
i=0
while [ $i -lt $n ]; do
	yes "REC-$i" | head -c 4096 >/tmp/rec
	dd if=/dev/vda bs=4096 skip=$((i * 16)) count=1 iflag=direct 2>/dev/null | cmp -s - /tmp/rec ||
		bad=$((bad + 1))
	i=$((i + 1))
done
echo "VERIFIED $n records, $bad bad"
dmesg | grep -i -E 'I/O error|blk_update_request' | head -n 3
echo GUEST-DONE
GUEST
# shellcheck disable=SC2086 # VUB_RAM is words
"$EMBER" $VUB_RAM -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" \
	-chardev socket,id=c0,path="$sock",reconnect=1 -device "$VUB_DEV,chardev=c0,id=disk0" \
	</dev/null >"$E2E_TMP/ember.log" 2>&1 &
ember_pid=$!
log=$E2E_TMP/ember.log
wait_for "$log" "FLUSHED 20" 90
kill -9 "$QSD_PID"
wait "$QSD_PID" 2>/dev/null
wait_for "$log" "it closed the connection; connecting again every 1 s" 20
last=$(sed -n 's/^FLUSHED \([0-9]*\).*/\1/p' "$log" | tail -n 1)
sleep 2
# Nothing completes while the daemon is gone.
expect_eq "$(sed -n 's/^FLUSHED \([0-9]*\).*/\1/p' "$log" | tail -n 1)" "$last" \
	"the last flushed record while the daemon was gone"
vub_daemon "$img" "$sock"
wait_for "$log" "vhost-user back end: connected again" 20
wait "$ember_pid"
rc=$?
kill "$QSD_PID" 2>/dev/null
wait "$QSD_PID" 2>/dev/null
sed 's/^/| /' "$log" | grep -v '^| FLUSHED' | tail -n 30
sed "s/^/| qsd: /" "$E2E_TMP/qsd.log"
expect_eq "$rc" 0 "ember exit status"
expect_in "$log" "VERIFIED 60 records, 0 bad"
expect_not_in "$log" DD-FAILED
expect_not_in "$log" "I/O error"
for i in $(seq 0 59); do
	yes "REC-$i" | head -c 4096 >"$E2E_TMP/rec"
	dd if="$img" bs=4096 skip=$((i * 16)) count=1 2>/dev/null | cmp -s - "$E2E_TMP/rec" ||
		fail "record $i is not in the image"
done
note "killed after record $last; connected again: $(grep -c 'connected again' "$log") time(s)"
