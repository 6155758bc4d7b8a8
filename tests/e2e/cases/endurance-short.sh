# Endurance, short form (scripts/endurance runs the long one in the lab):
# E2E_ENDURANCE_CYCLES (default 10, about 55 s) boots and power-offs of one
# guest with a virtio-blk disk, a tap NIC and a QMP socket, each ended by
# QMP system_powerdown after query-status says running. After each cycle
# (or every E2E_ENDURANCE_EVERY) nothing is left in L1: no tap, no QMP
# socket file, no fds (L1's count of open files), and L1's free memory
# (MemAvailable) has not fallen by more than 16 MiB for 10 s; ember's own
# fd count is the same in every cycle, its resident memory within 8 MiB.
# Then E2E_ENDURANCE_CLIENTS (default 100) QMP clients connect and leave at
# random (at once, after a command, mid-command, after garbage, after
# silence) while the guest keeps running; ember keeps its fd count and
# memory, the guest's clock ticks on, and a last client gets a correct
# answer to query-status before it powers the guest down.
# e2e-timeout: 240
# e2e-needs: socat ip
# shellcheck source=../lib.sh
. "$E2E_LIB"
# shellcheck source=../net-lib.sh
. "$E2E_DIR/net-lib.sh"
# shellcheck source=../qmp-lib.sh
. "$E2E_DIR/qmp-lib.sh"
need_kvm
need_cmd socat
net_ns
cycles=${E2E_ENDURANCE_CYCLES:-6}
every=${E2E_ENDURANCE_EVERY:-1}
clients=${E2E_ENDURANCE_CLIENTS:-100}
# Allowed drift of L1 over all cycles: open files, and MemAvailable in kB
# (page cache and slab move a little on their own).
fd_slack=${E2E_ENDURANCE_FD_SLACK:-32}
mem_slack=${E2E_ENDURANCE_MEM_SLACK_KB:-16384}
qmp_guest "$E2E_TMP/initrd"
dd if=/dev/zero of="$E2E_TMP/disk.img" bs=1M count=4 2>/dev/null

set -- -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 128 -append "$E2E_APPEND" \
	-blockdev "driver=file,node-name=d0,filename=$E2E_TMP/disk.img" \
	-device virtio-blk-device,drive=d0 \
	-netdev tap,id=n0,ifname=tapE -device virtio-net-device,netdev=n0 \
	-qmp "unix:$QMP_SOCK,server=on,wait=off"

l1_files() { cut -f1 /proc/sys/fs/file-nr; }
# meminfo_drift: the /proc/meminfo fields that moved by 1 MiB or more since
# the base ($E2E_TMP/meminfo0), for the log.
meminfo_drift() {
	awk 'NR == FNR { base[$1] = $2; next }
		$1 in base && ($2 - base[$1] >= 1024 || base[$1] - $2 >= 1024) {
			printf "%s %+d kB; ", $1, $2 - base[$1] }' "$E2E_TMP/meminfo0" /proc/meminfo 2>/dev/null
}
l1_avail() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }
ember_fds() { ls "/proc/$EMBER_PID/fd" 2>/dev/null | wc -l; }
ember_rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$EMBER_PID/status" 2>/dev/null; }

# up: ember started and its guest is waiting for the power button.
up() {
	qmp_ember "$@"
	wait_for "$EMBER_LOG" '^BUTTON' 120
	wait_sock "$QMP_SOCK"
}

# qmp_once OUT LINE...: one client sends the lines and reads until ember closes.
qmp_once() {
	_o=$1
	shift
	printf '%s\n' "$@" | timeout 60 socat -t 30 - "UNIX-CONNECT:$QMP_SOCK" >"$_o" 2>&1
}

# down N: ember ended with status 0 within 60 s; nothing of it is left.
down() {
	_i=0
	while kill -0 "$EMBER_PID" 2>/dev/null && [ $_i -lt 300 ]; do sleep 0.2; _i=$((_i + 1)); done
	kill -0 "$EMBER_PID" 2>/dev/null && { kill "$EMBER_PID"; sed 's/^/| /' "$EMBER_LOG"; fail "cycle $1: ember did not exit"; }
	wait "$EMBER_PID"
	_rc=$?
	[ "$_rc" = 0 ] || { sed 's/^/| /' "$EMBER_LOG"; fail "cycle $1: ember exited $_rc"; }
	! "$NET_IP" link show tapE >/dev/null 2>&1 || fail "cycle $1: tapE outlived ember"
	[ ! -e "$QMP_SOCK" ] || fail "cycle $1: the QMP socket file outlived ember"
}

t0=$(now)
files0='' avail0='' efds0='' erss_min='' erss_max='' late=''
i=0
while [ $i -lt "$cycles" ]; do
	i=$((i + 1))
	up "$@"
	fds=$(ember_fds) rss=$(ember_rss)
	qmp_once "$E2E_TMP/cycle.out" '{"execute":"qmp_capabilities"}' \
		'{"execute":"query-status","id":"s"}' '{"execute":"system_powerdown","id":"p"}'
	grep -q '"return":{"status":"running".*"id":"s"\|"id":"s".*"status":"running"' "$E2E_TMP/cycle.out" ||
		{ cat "$E2E_TMP/cycle.out"; fail "cycle $i: query-status did not say running"; }
	down "$i"
	[ -n "$efds0" ] || efds0=$fds
	[ "$fds" = "$efds0" ] || fail "cycle $i: ember had $fds fds open, $efds0 in the first cycle"
	[ -n "$erss_min" ] && [ "$rss" -ge "$erss_min" ] || erss_min=$rss
	[ -n "$erss_max" ] && [ "$rss" -le "$erss_max" ] || erss_max=$rss
	[ $((erss_max - erss_min)) -le 8192 ] ||
		fail "cycle $i: ember's resident memory went $erss_min-$erss_max kB over the cycles"
	[ $((i % 100)) != 0 ] || note "cycle $i: $(elapsed "$t0") s; $(meminfo_drift)"
	[ $((i % every)) = 0 ] || [ "$i" = "$cycles" ] || continue
	files=$(l1_files) avail=$(l1_avail)
	# The first cycle warms caches (the kernel's, the modules'): the base is after it.
	if [ -z "$files0" ]; then
		files0=$files avail0=$avail
		cp /proc/meminfo "$E2E_TMP/meminfo0"
		note "cycle $i: L1 open files $files, MemAvailable $avail kB, ember $fds fds, $rss kB resident; $(elapsed "$t0") s"
		continue
	fi
	[ $((files - files0)) -le "$fd_slack" ] ||
		fail "cycle $i: L1 has $((files - files0)) more open files than after cycle 1"
	# What the last ember freed may still be on its way back (its mm and io_uring
	# workers go asynchronously): a leak is what stays for 10 s.
	_w=0
	while [ $((avail0 - avail)) -gt "$mem_slack" ] && [ $_w -lt 10 ]; do
		sleep 1
		_w=$((_w + 1)) avail=$(l1_avail)
	done
	[ $_w = 0 ] || late="$late $i:${_w}s"
	[ $((avail0 - avail)) -le "$mem_slack" ] ||
		fail "cycle $i: L1's MemAvailable fell by $((avail0 - avail)) kB since cycle 1 ($(meminfo_drift))"
done
note "$cycles cycles in $(elapsed "$t0") s: L1 open files $files0 -> $files," \
	"MemAvailable $avail0 -> $avail kB ($(meminfo_drift)); ember $efds0 fds," \
	"$erss_min-$erss_max kB resident"
[ -z "$late" ] || note "MemAvailable came back late after cycle:seconds$late"
# (ENDURANCE-CYCLES is the line scripts/endurance and docs/benchmarks.md quote)
echo "ENDURANCE-CYCLES $cycles seconds=$(elapsed "$t0") l1_files=$files0/$files" \
	"l1_avail_kb=$avail0/$avail ember_fds=$efds0 ember_rss_kb=$erss_min-$erss_max"

# --- QMP clients at random while the guest runs ---
up "$@"
fds0=$(ember_fds) rss0=$(ember_rss) tick0=$(ticks)
t1=$(now)
# client K: what client K does, picked by a seeded generator (repeatable).
client() {
	_sock=UNIX-CONNECT:$QMP_SOCK
	case $(($1 % 5)) in
	0)	timeout 30 socat -t 0 - "$_sock" </dev/null ;;	# connects and leaves
	1)	printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"query-status"}' |
			timeout 30 socat -t 0.3 - "$_sock" ;;
	2)	printf '{"execute":"qmp_capabilities"}\n{"execute":"query-st' |	# mid-command
			timeout 30 socat -t 0 - "$_sock" ;;
	3)	head -c $((64 + $2 % 960)) /dev/urandom | timeout 30 socat -t 0.1 - "$_sock" ;;
	4)	{ sleep "0.$(($2 % 10))"; } | timeout 30 socat -t 0 - "$_sock" ;;	# silent
	esac >/dev/null 2>&1
}
awk -v n="$clients" 'BEGIN { srand(14); for (k = 0; k < n; k++)
	printf "%d %d %d\n", k, int(rand() * 5), int(rand() * 100000) }' >"$E2E_TMP/clients"
pids=
while read -r k kind r; do
	# Bursts: about ten connect at once, then a short pause.
	client "$kind" "$r" &
	pids="$pids $!"
	[ $((k % 10)) != 9 ] || sleep "0.$((r % 5))"
done <"$E2E_TMP/clients"
# shellcheck disable=SC2086 # one pid a word
wait $pids	# each client is bounded by its timeout
kill -0 "$EMBER_PID" 2>/dev/null || { sed 's/^/| /' "$EMBER_LOG"; fail "ember ended under the QMP clients"; }
sleep 2
fds1=$(ember_fds) rss1=$(ember_rss) tick1=$(ticks)
note "$clients clients in $(elapsed "$t1") s: ember fds $fds0 -> $fds1, resident $rss0 -> $rss1 kB," \
	"guest ticks $tick0 -> $tick1"
expect_eq "$fds1" "$fds0" "ember's open fds after $clients clients"
[ $((rss1 - rss0)) -le 4096 ] || fail "ember's resident memory grew by $((rss1 - rss0)) kB"
[ "$tick1" -gt "$tick0" ] || fail "the guest stopped ticking under the clients"
qmp_once "$E2E_TMP/last.out" '{"execute":"qmp_capabilities","id":"c"}' \
	'{"execute":"query-status","id":"last"}' '{"execute":"system_powerdown","id":"p"}'
sed 's/^/  last client: /' "$E2E_TMP/last.out"
grep -q '"return":{}.*"id":"c"\|"id":"c".*"return":{}' "$E2E_TMP/last.out" ||
	fail "the last client's qmp_capabilities got no empty return"
grep -q '"return":{"status":"running".*"id":"last"\|"id":"last".*"status":"running"' "$E2E_TMP/last.out" ||
	fail "the last client's query-status did not say running"
down clients
echo "ENDURANCE-CLIENTS $clients seconds=$(elapsed "$t1") ember_fds=$fds0/$fds1" \
	"ember_rss_kb=$rss0/$rss1 guest_ticks=$tick0/$tick1"
