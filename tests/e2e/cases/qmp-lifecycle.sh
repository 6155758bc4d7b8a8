# QMP through a whole lifecycle, driven by socat (two clients at once, each
# negotiating for itself): -S holds the guest, cont starts it, stop silences
# it, cont resumes it, system_powerdown presses its ACPI power button, the
# guest powers off, and both clients get every event on the way.
# e2e-timeout: 240
# e2e-needs: socat
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
need_kvm
need_cmd socat
qmp_guest "$E2E_TMP/initrd"
dd if=/dev/zero of="$E2E_TMP/disk.img" bs=1M count=4 2>/dev/null
qmp_ember -S -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M -smp 2 \
	-append "$E2E_APPEND" -serial stdio -serial pty \
	-blockdev driver=file,node-name=f0,filename="$E2E_TMP/disk.img" \
	-blockdev driver=raw,node-name=d0,file=f0 -device virtio-blk-device,drive=d0,id=vd0 \
	-qmp "unix:$QMP_SOCK,server=on,wait=off"
wait_sock "$QMP_SOCK"
client_open a 3 "$QMP_SOCK"
client_open b 4 "$QMP_SOCK"
expect_in "$E2E_TMP/a.out" '{"QMP":{"version":{"qemu":{"major":7,"minor":2,"micro":0},"package":"ember '
# Each client negotiates on its own: b has not yet, so its commands fail.
expect_reply b 4 b0 '{"execute": "query-status", "id": "b0"}' '"class":"CommandNotFound"'
expect_reply a 3 a0 '{"execute": "qmp_capabilities", "id": "a0"}' '{"return":{},"id":"a0"}'
expect_reply b 4 b1 '{"execute": "qmp_capabilities", "id": "b1"}' '{"return":{},"id":"b1"}'

# -S: vCPUs exist (threads), but the guest does not run.
expect_reply a 3 a1 '{"execute": "query-status", "id": "a1"}' \
	'"status":"prelaunch","singlestep":false,"running":false'
expect_reply a 3 a2 '{"execute": "query-cpus-fast", "id": "a2"}' '"cpu-index":1,'
# What ember has, as QEMU names it: the pty's path, the disk and its device.
pty=$(sed -n 's/.*char device redirected to \(.*\) (label serial1)/\1/p' "$EMBER_LOG")
[ -n "$pty" ] || fail "no pty in the log"
expect_reply a 3 c1 '{"execute": "query-chardev", "id": "c1"}' \
	"{\"label\":\"serial1\",\"filename\":\"pty:$pty\",\"frontend-open\":true}"
expect_reply a 3 c2 '{"execute": "query-block", "id": "c2"}' \
	"\"qdev\":\"/machine/peripheral/vd0\",\"type\":\"unknown\",\"removable\":false,\"locked\":false,\"inserted\":{\"file\":\"$E2E_TMP/disk.img\",\"node-name\":\"d0\",\"ro\":false,\"drv\":\"raw\""
expect_reply a 3 c3 '{"execute": "query-named-block-nodes", "id": "c3"}' \
	"\"node-name\":\"f0\",\"ro\":false,\"drv\":\"file\",\"encrypted\":false,\"backing_file_depth\":0,\"image\":{\"filename\":\"$E2E_TMP/disk.img\",\"format\":\"file\",\"virtual-size\":4194304}"
expect_reply a 3 c4 '{"execute": "human-monitor-command", "arguments": {"command-line": "info qtree"}, "id": "c4"}' \
	'dev: virtio-blk-device, id \"vd0\"'
sleep 3
expect_not_in "$EMBER_LOG" GUEST-UP

expect_reply a 3 a3 '{"execute": "cont", "id": "a3"}' '{"return":{},"id":"a3"}'
wait_count a '"event":"RESUME"' 1
wait_count b '"event":"RESUME"' 1
expect_in "$E2E_TMP/b.out" '{"timestamp":{"seconds":[0-9]*,"microseconds":[0-9]*},"event":"RESUME"}'
wait_for "$EMBER_LOG" "TICK 2" 120
expect_reply b 4 b2 '{"execute": "query-status", "id": "b2"}' '"status":"running","singlestep":false,"running":true'

# stop: both hear STOP; the guest prints nothing while paused.
expect_reply b 4 b3 '{"execute": "stop", "id": "b3"}' '{"return":{},"id":"b3"}'
wait_count a '"event":"STOP"' 1
wait_count b '"event":"STOP"' 1
expect_reply a 3 a4 '{"execute": "query-status", "id": "a4"}' '"status":"paused","singlestep":false,"running":false'
expect_reply a 3 a5 '{"execute": "human-monitor-command", "arguments": {"command-line": "info status"}, "id": "a5"}' \
	'"return":"VM status: paused\r\n"'
before=$(ticks)
sleep 5
after=$(ticks)
note "ticks while paused: $before -> $after"
expect_eq "$after" "$before" "guest output while paused"

expect_reply a 3 a6 '{"execute": "cont", "id": "a6"}' '{"return":{},"id":"a6"}'
wait_count a '"event":"RESUME"' 2
wait_count b '"event":"RESUME"' 2
wait_for "$EMBER_LOG" "TICK $((before + 2))" 60

# The power button: POWERDOWN, the guest's button driver sees the key and
# the guest powers off: SHUTDOWN (guest, guest-shutdown) to both, ember exits 0.
expect_in "$EMBER_LOG" "BUTTON event"
expect_reply b 4 b4 '{"execute": "system_powerdown", "id": "b4"}' '{"return":{},"id":"b4"}'
wait_count a '"event":"POWERDOWN"' 1
wait_count b '"event":"POWERDOWN"' 1
wait_for "$EMBER_LOG" GUEST-POWER-BUTTON 60
wait_count a '"event":"SHUTDOWN","data":{"guest":true,"reason":"guest-shutdown"}' 1
wait_count b '"event":"SHUTDOWN","data":{"guest":true,"reason":"guest-shutdown"}' 1
ember_exit 0
expect_in "$EMBER_LOG" "ember: guest powered off"
sed 's/^/a> /' "$E2E_TMP/a.out" >&2
