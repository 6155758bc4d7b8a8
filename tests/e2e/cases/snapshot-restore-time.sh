# A restore does not grow with guest RAM: a guest of 256 MiB and one of
# 2 GiB are each saved (QMP migrate "file:") and restored with -incoming
# under EMBER_TRACE=boot; the restore (from "vCPUs created" to "snapshot
# restored") of the 2 GiB one takes at most 1.5x + 20 ms of the 256 MiB
# one's (the memory file is mapped, not read). The time from exec, which
# includes loading the kernel as for a boot (and is noisy in the lab), is
# reported.
# e2e-timeout: 420
# e2e-needs: socat
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
need_kvm
need_cmd socat
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
i=0
while :; do i=$((i + 1)); echo "COUNT $i"; sleep 1; done
GUEST
trace_ms() { sed -n "s/^ember: trace \([0-9.]*\) $2\$/\1/p" "$1" | head -n 1; }

for mem in 256 2048; do
	snap=$E2E_TMP/snap$mem
	args="-kernel $LAB_KERNEL -initrd $E2E_TMP/initrd -m ${mem}M -smp 1 -serial stdio"
	# shellcheck disable=SC2086 # $args: words
	qmp_ember $args -append "$E2E_APPEND" -qmp "unix:$QMP_SOCK,server=on,wait=off"
	wait_sock "$QMP_SOCK"
	wait_for "$EMBER_LOG" "COUNT 3" 180
	client_open a 3 "$QMP_SOCK"
	expect_reply a 3 a0 '{"execute": "qmp_capabilities", "id": "a0"}' '{"return":{},"id":"a0"}'
	t0=$(now)
	expect_reply a 3 a1 "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"file:$snap\"}, \"id\": \"a1\"}" \
		'{"return":{},"id":"a1"}'
	note "-m ${mem}M: migrate took $(elapsed "$t0") s; memory file $(du -k "$snap.mem" | cut -f1) KiB on disk"
	n=$(sed -n 's/^COUNT \([0-9]*\).*/\1/p' "$EMBER_LOG" | tail -n 1)
	exec 3>&-
	kill -9 "$EMBER_PID"
	wait "$EMBER_PID" 2>/dev/null
	rm -f "$QMP_SOCK"

	log=$E2E_TMP/restore$mem.log
	t0=$(now)
	# shellcheck disable=SC2086
	EMBER_TRACE=boot "$EMBER" $args -append "$E2E_APPEND" -incoming "file:$snap" </dev/null >"$log" 2>&1 &
	pid=$!
	wait_for "$log" "COUNT $((n + 1))" 60
	counted=$(elapsed "$t0")
	kill "$pid"
	wait "$pid"
	restored=$(trace_ms "$log" "snapshot restored")
	created=$(trace_ms "$log" "vCPUs created")
	[ -n "$restored" ] && [ -n "$created" ] || { cat "$log"; fail "no 'snapshot restored' trace"; }
	took=$(awk -v a="$restored" -v b="$created" 'BEGIN { printf "%.3f", a - b }')
	note "-m ${mem}M: restore $took ms; snapshot restored at $restored ms after exec; next count after $counted s"
	grep '^ember: trace' "$log" | sed "s/^/  ${mem}M: /" >&2
	eval "took_$mem=$took"
done
# shellcheck disable=SC2154 # set by eval
awk -v a="$took_2048" -v b="$took_256" 'BEGIN { exit !(a <= b * 1.5 + 20) }' ||
	fail "restoring 2 GiB took $took_2048 ms, above 1.5x + 20 ms of 256 MiB's ($took_256 ms)"
