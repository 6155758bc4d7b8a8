# vhost-user-blk: qemu-storage-daemon killed while the guest runs. ember
# logs one line saying the back end closed the connection, the guest keeps
# running (prints after the kill) and ember exits 0 at the guest's
# poweroff: no crash.
# e2e-timeout: 180
# e2e-needs: qemu-storage-daemon
. "$E2E_LIB"
. "$E2E_DIR/vhost-user-lib.sh"
vub_setup 16M
vub_daemon "$img" "$sock"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "VDA size=$(cat /sys/block/vda/size)"
dd if=/dev/vda of=/dev/null bs=1M count=1 2>/dev/null && echo GUEST-READ-OK
echo GUEST-READY
sleep 8
echo GUEST-ALIVE-AFTER-KILL
GUEST
# shellcheck disable=SC2086 # VUB_RAM is words
run_ember --timeout 120 $VUB_RAM -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" \
	-append "$E2E_APPEND" -chardev socket,id=c0,path="$sock" \
	-device "$VUB_DEV,chardev=c0,id=disk0" &
ember_pid=$!
wait_for "$E2E_TMP/ember.log" GUEST-READY 60
kill -9 "$QSD_PID"
wait "$QSD_PID" 2>/dev/null
wait_for "$E2E_TMP/ember.log" "vhost-user back end: it closed the connection" 20
wait "$ember_pid"
rc=$?
EMBER_LOG=$E2E_TMP/ember.log	# run_ember set it in the background's subshell
expect_eq "$rc" 0 "ember exit status"
expect_in "$EMBER_LOG" GUEST-READ-OK
expect_in "$EMBER_LOG" GUEST-ALIVE-AFTER-KILL
expect_eq "$(grep -c "vhost-user back end:" "$EMBER_LOG")" 1 "vhost-user error lines"
