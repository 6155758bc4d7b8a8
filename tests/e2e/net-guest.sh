# shellcheck shell=sh
# net-guest.sh: sourced by the L2 guest's /test.sh in the virtio-net cases
# (net-lib.sh ships it as /net-guest.sh). Prints little: each console line
# costs VM exits.
#
# e2e.net=MAC=ADDR/PREFIX[,MAC=ADDR/PREFIX...] on the kernel command line:
# the NIC with that MAC gets that address and is brought up.

# net_if MAC: the interface with MAC (empty if none).
net_if() {
	for _d in /sys/class/net/*; do
		[ "$(cat "$_d/address" 2>/dev/null)" = "$1" ] && { basename "$_d"; return 0; }
	done
	return 1
}

# Configure the NICs of e2e.net; prints "NIC ethN mac=... addr=... driver=...
# parent=..." each (parent: the PCI function or the virtio-mmio platform device).
net_config() {
	for _w in $(cat /proc/cmdline); do
		case "$_w" in e2e.net=*) ;; *) continue ;; esac
		for _n in $(echo "${_w#e2e.net=}" | tr ',' ' '); do
			_mac=${_n%%=*} _addr=${_n#*=}
			_if=$(net_if "$_mac") || { echo "NIC-MISSING mac=$_mac"; continue; }
			_dev=$(readlink -f "/sys/class/net/$_if/device")
			ip addr add "$_addr" dev "$_if" && ip link set "$_if" up &&
				echo "NIC $_if mac=$_mac addr=$_addr driver=$(basename "$(readlink -f "$_dev/driver")")" \
					"parent=$(basename "$(dirname "$_dev")")"
		done
	done
}

# net_ping ADDR [SECS]: wait until ADDR answers (L1 enslaves the tap once the
# VMM made it), then 3 more pings; "PING ADDR ok" or "PING ADDR FAILED".
net_ping() {
	_i=0
	while ! ping -c 1 -W 1 "$1" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ "$_i" -lt "${2:-30}" ] || { echo "PING $1 FAILED"; return 1; }
	done
	if ping -c 3 -i 0.2 -W 2 "$1" >/dev/null 2>&1; then echo "PING $1 ok"; else echo "PING $1 FAILED"; return 1; fi
}

# net_iperf NAME SERVER PORT [iperf3 options]: one iperf3 client run (JSON
# in /tmp/NAME.json), summed up in one line:
#   IPERF NAME rc=RC sent=BYTES received=BYTES mbps=RECEIVER-Mbit/s secs=S
# A run that stalls is ended after $NET_IPERF_TIMEOUT s (default 300; rc 143).
net_iperf() {
	_name=$1 _srv=$2 _port=$3
	shift 3
	# An iperf3 server takes one test at a time and may still be closing the
	# last one when the next client on its port connects ("the server is busy
	# running a test"): that client tries again, at most 5 times.
	_try=0
	while :; do
		timeout "${NET_IPERF_TIMEOUT:-300}" iperf3 -c "$_srv" -p "$_port" -J "$@" >"/tmp/$_name.json" 2>&1
		_rc=$?
		[ "$_rc" != 0 ] && [ "$_try" -lt 5 ] && grep -q 'server is busy' "/tmp/$_name.json" || break
		_try=$((_try + 1))
		echo "IPERF-BUSY $_name try $_try"
		sleep 1
	done
	awk -v n="$_name" -v rc="$_rc" '
		/"sum_sent":/ { cur = "s" }
		/"sum_received":/ { cur = "r" }
		cur != "" && /"bytes":/ { gsub(/[^0-9]/, "", $2); b[cur] = $2 }
		cur != "" && /"bits_per_second":/ { gsub(/[^0-9.e+]/, "", $2); bps[cur] = $2 }
		cur == "r" && /"seconds":/ { gsub(/[^0-9.]/, "", $2); secs = $2 }
		cur != "" && /}/ { cur = "" }
		/"error":/ { err = $0 }
		END {
			printf "IPERF %s rc=%s sent=%s received=%s mbps=%.1f secs=%s\n", n, rc,
				b["s"] + 0, b["r"] + 0, bps["r"] / 1e6, secs + 0
			if (err != "") print "IPERF-ERROR " n " " err
		}' FS=':' "/tmp/$_name.json"
	return "$_rc"
}

# net_irqs PATTERN: the sum over CPUs of the /proc/interrupts lines whose
# name matches PATTERN (an awk regex), e.g. "virtio[0-9]*-input\\.0$".
net_irqs() {
	awk -v p="$1" -v n="$(nproc)" '$NF ~ p { for (i = 2; i <= n + 1; i++) s += $i } END { print s + 0 }' /proc/interrupts
}

# net_hold: say HOLDING and wait (at most 300 s) until L1 connects to port
# 7000 (net_release in net-lib.sh): L1 looks at the VM while the guest lives.
net_hold() {
	echo HOLDING
	timeout 300 nc -l -p 7000 </dev/null >/dev/null 2>&1
}

# net_recv_file FILE PORT: accept one connection on PORT and write what comes
# to FILE, in the background (pid in RECV_PID). Its input is a FIFO that is
# never written: busybox nc would end the connection at the end of its input.
net_recv_file() {
	rm -f "/tmp/nc-$2.fifo"
	mkfifo "/tmp/nc-$2.fifo"
	timeout 250 nc -l -p "$2" <>"/tmp/nc-$2.fifo" >"$1" &
	RECV_PID=$!
}

# net_dump IF: what the guest sees of IF when a transfer stalled (queue
# counters, virtio interrupts, softirq backlog), each line "DUMP ...", so
# that a stall in ember's queues is told from a guest that stopped.
net_dump() {
	echo "DUMP uptime $(cat /proc/uptime)"
	ethtool -S "$1" 2>&1 | awk '$2 != 0 { print "DUMP stat" $0 }'
	awk '/virtio/ { print "DUMP irq" $0 }' /proc/interrupts
	awk '{ print "DUMP softnet cpu" NR - 1 " " $0 }' /proc/net/softnet_stat
	# busybox's ip has no -s: the counters come from sysfs.
	for _f in /sys/class/net/"$1"/statistics/*; do
		[ "$(cat "$_f")" = 0 ] || echo "DUMP link ${_f##*/}=$(cat "$_f")"
	done
}
