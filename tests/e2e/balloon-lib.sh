# shellcheck shell=sh
# Shared by the virtio-balloon cases: the transport from the case name
# (…-mmio or …-pci), ember in the background with a QMP socket, the
# qmp_cmd client (tests/e2e/hostile/qmp_cmd.c) and ember's resident memory.
# Guest RAM is plain -m's anonymous memory, but balloon-pci's is a shared
# 512M memfd, so that both ways of giving memory back are seen.
balloon_transport() {
	case "$E2E_CASE" in
	balloon-pci) BAL_DEV=virtio-balloon-pci
		BAL_MACHINE="-M pci,memory-backend=ram0 -object memory-backend-memfd,id=ram0,size=512M" ;;
	*-pci*) BAL_DEV=virtio-balloon-pci; BAL_MACHINE="-M pci" ;;
	*) BAL_DEV=virtio-balloon-device; BAL_MACHINE= ;;
	esac
}

QMP_SOCK=$E2E_TMP/qmp.sock
QMP_CMD=$E2E_DIR/hostile/bin/qmp_cmd

# bal_start ARGS...: ember in the background (log $EMBER_LOG, pid $EMBER_PID).
bal_start() {
	need_ember
	[ -x "$QMP_CMD" ] || fail "qmp_cmd was not built (tests/e2e/hostile/qmp_cmd.c)"
	EMBER_LOG=$E2E_TMP/ember.log
	"$EMBER" "$@" -qmp "unix:$QMP_SOCK,server=on,wait=off" </dev/null >"$EMBER_LOG" 2>&1 &
	EMBER_PID=$!
}

# bal_stop: QMP quit; ember must exit 0 within 30 s.
bal_stop() {
	qmp '{"execute": "quit"}' >/dev/null
	_i=0
	while kill -0 "$EMBER_PID" 2>/dev/null && [ $_i -lt 150 ]; do sleep 0.2; _i=$((_i + 1)); done
	kill -0 "$EMBER_PID" 2>/dev/null && { kill "$EMBER_PID"; fail "ember did not stop on quit"; }
	wait "$EMBER_PID"
	_rc=$?
	sed 's/^/| /' "$EMBER_LOG" | tail -n 40
	expect_eq "$_rc" 0 "ember exit status after quit"
	expect_in "$EMBER_LOG" "QMP command 'quit'"
}

# qmp JSON...: the replies (after the greeting and capabilities), one a line.
qmp() {
	"$QMP_CMD" "$QMP_SOCK" "$@" >"$E2E_TMP/qmp.out" 2>&1 || {
		cat "$E2E_TMP/qmp.out" >&2
		fail "qmp_cmd failed: $*"
	}
	tail -n +3 "$E2E_TMP/qmp.out"
}

# rss_kib: ember's resident memory, KiB (guest RAM, anonymous or shared, included).
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$EMBER_PID/status"; }

# mem_total / mem_avail: the guest's last "MEM total avail" line (KiB).
mem_total() { sed -n 's/^MEM \([0-9]*\) .*/\1/p' "$EMBER_LOG" | tail -n 1; }

# poll_until SECS CMD...: retry CMD every 0.5 s until it succeeds or SECS pass.
poll_until() {
	_end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$_end" ] || return 1
		sleep 0.5
	done
}

# bal_guest [hold]: the guest's script. It prints its balloon features, fills
# 360 MiB of tmpfs so that its RAM is populated, frees it (at once, or with
# "hold" after 8 s: FILLED, then FREED) and prints "MEM total avail" (KiB)
# every second.
bal_guest() {
	cat <<'GUEST'
echo "FEAT $(cat /sys/bus/virtio/drivers/virtio_balloon/*/features)"
mkdir -p /fill && mount -t tmpfs -o size=90% tmpfs /fill
dd if=/dev/zero of=/fill/f bs=1M count=360 2>/dev/null || echo FILL-FAILED
echo FILLED
GUEST
	[ "${1:-}" = hold ] && echo "sleep 8"
	cat <<'GUEST'
rm -f /fill/f
echo FREED
i=0
while [ $i -lt 300 ]; do
	echo "MEM $(awk '/^MemTotal/ { t = $2 } /^MemAvailable/ { a = $2 } END { print t, a }' /proc/meminfo)"
	sleep 1
	i=$((i + 1))
done
GUEST
}

# bal_filled: the guest has populated its RAM.
bal_filled() {
	wait_for "$EMBER_LOG" FILLED 150
	expect_not_in "$EMBER_LOG" FILL-FAILED
}
