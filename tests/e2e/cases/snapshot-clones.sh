# Ten restores of one snapshot at once: a guest fills 48 MiB of its RAM and
# counts each second; QMP migrate "file:" saves it; ten embers restore it
# with -incoming from the same state and memory files. Each goes on
# counting from where the snapshot was, and each one's resident memory is a
# fraction of the guest's 256 MiB (the memory file is mapped copy-on-write:
# a clone holds what its guest touches, and pages it only reads are the page
# cache's, shared by all ten).
# e2e-timeout: 420
# e2e-needs: socat
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
need_kvm
need_cmd socat
snap=$E2E_TMP/snap
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
dd if=/dev/urandom of=/tmp/fill bs=1M count=48 2>/dev/null
echo "FILLED $(du -k /tmp/fill | cut -f1)"
i=0
while :; do i=$((i + 1)); echo "COUNT $i"; sleep 1; done
GUEST
args="-kernel $LAB_KERNEL -initrd $E2E_TMP/initrd -m 256M -smp 1 -serial stdio"
# shellcheck disable=SC2086 # $args: words ($LAB_KERNEL and $E2E_TMP have no spaces)
qmp_ember $args -append "$E2E_APPEND" -qmp "unix:$QMP_SOCK,server=on,wait=off"
wait_sock "$QMP_SOCK"
wait_for "$EMBER_LOG" "COUNT 3" 180
expect_in "$EMBER_LOG" "FILLED 49152"
client_open a 3 "$QMP_SOCK"
expect_reply a 3 a0 '{"execute": "qmp_capabilities", "id": "a0"}' '{"return":{},"id":"a0"}'
expect_reply a 3 a1 "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"file:$snap\"}, \"id\": \"a1\"}" \
	'{"return":{},"id":"a1"}'
n=$(sed -n 's/^COUNT \([0-9]*\).*/\1/p' "$EMBER_LOG" | tail -n 1)
note "saved at COUNT $n; memory file $(du -k "$snap.mem" | cut -f1) KiB on disk"
exec 3>&-
kill -9 "$EMBER_PID"
wait "$EMBER_PID" 2>/dev/null

pids=
t0=$(now)
for i in 0 1 2 3 4 5 6 7 8 9; do
	# shellcheck disable=SC2086
	"$EMBER" $args -append "$E2E_APPEND" -incoming "file:$snap" </dev/null \
		>"$E2E_TMP/clone$i.log" 2>&1 &
	pids="$pids $!"
done
# shellcheck disable=SC2064
trap "kill $pids 2>/dev/null" EXIT
for i in 0 1 2 3 4 5 6 7 8 9; do
	wait_for "$E2E_TMP/clone$i.log" "COUNT $((n + 1))" 120
done
note "ten clones counting $((n + 1)) after $(elapsed "$t0") s"
for i in 0 1 2 3 4 5 6 7 8 9; do
	wait_for "$E2E_TMP/clone$i.log" "COUNT $((n + 3))" 60
	first=$(sed -n 's/^COUNT \([0-9]*\).*/\1/p' "$E2E_TMP/clone$i.log" | head -n 1)
	expect_eq "$first" "$((n + 1))" "clone $i's first count"
	expect_not_in "$E2E_TMP/clone$i.log" FILLED
done
i=0
for pid in $pids; do
	kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$pid/smaps_rollup"; }
	rss=$(kb Rss) pss=$(kb Pss) priv=$(kb Private_Dirty)
	note "clone $i: Rss $rss KiB, Pss $pss KiB, Private_Dirty $priv KiB (guest RAM 262144 KiB)"
	[ "$rss" -lt 65536 ] || fail "clone $i: Rss $rss KiB is not below a quarter of guest RAM"
	[ "$priv" -lt 32768 ] || fail "clone $i: Private_Dirty $priv KiB is not below an eighth of guest RAM"
	i=$((i + 1))
done
# shellcheck disable=SC2086
kill $pids
for pid in $pids; do wait "$pid"; done
