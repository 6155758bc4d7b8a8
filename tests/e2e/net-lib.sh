# shellcheck shell=sh
# tests/e2e/net-lib.sh: helpers for the virtio-net cases (cases/net-*.sh),
# sourced after lib.sh. L1 has no network card: each case runs in a network
# namespace of its own (net_ns), makes bridges there (net_bridge), starts the
# VM in the background (net_vm_start), enslaves the tap the VMM creates
# (net_attach) and serves iperf3 on the bridge's address (net_iperf_server).
# The guest sources net-guest.sh (shipped by net_initrd): it configures its
# NICs from the kernel command line (e2e.net=MAC=ADDR/PREFIX,...), pings,
# runs iperf3 and prints one line per result.
#
# E2E_NET_VMM=qemu runs the same case with QEMU's virtio-net (the reference,
# to check a case itself): the ember options are translated (net_vm_start).

NET_GUEST=$E2E_DIR/net-guest.sh
# iproute2's ip ('# e2e-needs: ip'), by its path: busybox's sh runs its own
# applet for a bare `ip`.
NET_IP=/usr/sbin/ip
[ -x "$NET_IP" ] || NET_IP=ip
# net_iperf and friends work in L1 too.
# shellcheck source=net-guest.sh
. "$NET_GUEST"

# Re-run the case in a new network namespace (only a `lo`, brought up here),
# so that its taps and bridges vanish with it.
net_ns() {
	if [ -z "${NET_IN_NS:-}" ]; then
		NET_IN_NS=1 exec unshare -n sh "$0"
	fi
	"$NET_IP" link set lo up || fail "cannot bring lo up in the case's network namespace"
	modprobe -q tun 2>/dev/null
	modprobe -q bridge 2>/dev/null
	[ -c /dev/net/tun ] || fail "/dev/net/tun is missing in L1"
}

# net_bridge BR ADDR/PREFIX: a bridge with L1's address on it.
net_bridge() {
	"$NET_IP" link add "$1" type bridge || fail "ip link add $1 type bridge failed"
	"$NET_IP" addr add "$2" dev "$1" || fail "ip addr add $2 dev $1 failed"
	"$NET_IP" link set "$1" up || fail "ip link set $1 up failed"
}

# net_attach TAP BR [SECS]: wait until the VMM created TAP (default 30 s),
# put it into bridge BR and bring it up.
net_attach() {
	_t0=$(now)
	# (L1's /sys shows the first network namespace, not this one.)
	while ! "$NET_IP" link show dev "$1" >/dev/null 2>&1; do
		if ! kill -0 "$VM_PID" 2>/dev/null; then
			cat "$VM_LOG" >&2
			fail "the VM ended before tap $1 appeared"
		fi
		[ "$(awk -v a="$(elapsed "$_t0")" -v b="${3:-30}" 'BEGIN { print (a >= b) }')" = 1 ] &&
			fail "tap $1 did not appear within ${3:-30} s"
		sleep 0.1
	done
	"$NET_IP" link set "$1" master "$2" || fail "ip link set $1 master $2 failed"
	"$NET_IP" link set "$1" up || fail "ip link set $1 up failed"
	note "$1 is in $2"
}

# net_iperf_server ADDR PORT [OPTIONS]: iperf3 server in the background on
# ADDR:PORT (log in $E2E_TMP/iperf3-PORT.log); its pid in IPERF_PID.
net_iperf_server() {
	_a=$1 _p=$2
	shift 2
	iperf3 -s -B "$_a" -p "$_p" "$@" >"$E2E_TMP/iperf3-$_p.log" 2>&1 &
	IPERF_PID=$!
}

# net_initrd OUT [make_initrd options]: an L2 initramfs with iperf3, ethtool
# and net-guest.sh (the script sources /net-guest.sh).
net_initrd() {
	_o=$1
	shift
	make_initrd "$_o" --bin iperf3 --bin ethtool --file "$NET_GUEST:/net-guest.sh" "$@"
}

# net_vm_start [--timeout SECS] ARGS...: the VM in the background with ember's
# options (stdin /dev/null, output in $VM_LOG, default $E2E_TMP/vm.log); its pid
# in VM_PID. With E2E_NET_VMM=qemu: QEMU, -M pci becoming microvm with PCIe.
net_vm_start() {
	_to=240 VM_LOG=$E2E_TMP/vm.log
	[ "${1:-}" = --timeout ] && { _to=$2; shift 2; }
	if [ "${E2E_NET_VMM:-ember}" = qemu ]; then
		need_cmd qemu-system-x86_64
		_m=microvm,rtc=on _prev=
		for _a in "$@"; do
			shift
			case "$_a" in
			pci) [ "$_prev" = -M ] && { _m=$_m,pcie=on; _prev=; continue; } ;;
			-M) _prev=-M; continue ;;
			# QEMU has no rate limits: without them, a case shows what it measures.
			tap,*) _a=$(echo "$_a" | sed 's/,[rt]x-[a-z-]*=[0-9]*//g'),script=no,downscript=no ;;
			virtio-net-pci*mq=on*) _a=$_a,vectors=10,romfile= ;;
			virtio-net-pci*) _a=$_a,romfile= ;;
			esac
			_prev=$_a
			set -- "$@" "$_a"
		done
		timeout "$_to" qemu-system-x86_64 -accel kvm -cpu host -nodefaults -no-user-config \
			-display none -no-reboot -serial stdio -global virtio-mmio.force-legacy=false -M "$_m" "$@" </dev/null >"$VM_LOG" 2>&1 &
	else
		need_ember
		timeout "$_to" "$EMBER" "$@" </dev/null >"$VM_LOG" 2>&1 &
	fi
	VM_PID=$!
	note "VM started (${E2E_NET_VMM:-ember}, pid $VM_PID)"
	net_stall_watch &
}

# net_vm_one TAP_OPTS DEVICE [ARGS...]: the usual one-NIC guest: 256 MiB,
# the case's initrd, eth0 with MAC $NET_MAC at 10.0.0.2/24 behind tap0
# (",OPTS" appended to the -netdev), DEVICE (with its own options) as the
# front end, ARGS for the VMM; tap0 then joins br0.
NET_MAC=52:54:00:e2:00:01
net_vm_one() {
	_tap=$1 _dev=$2
	shift 2
	net_vm_start "$@" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
		-append "$E2E_APPEND e2e.net=$NET_MAC=10.0.0.2/24" \
		-netdev "tap,id=n0,ifname=tap0$_tap" -device "$_dev,netdev=n0,mac=$NET_MAC"
	net_attach tap0 br0
}

# L1's kernel traces how KVM hands interrupts to the L2 guest (a ring of
# 1 MiB per CPU, overwritten), so that a stall shows whether an interrupt
# was raised and not taken, or never raised. Quietly absent without tracefs.
NET_TRACE_EVENTS="kvm_msi_set_irq kvm_set_irq kvm_apic_accept_irq kvm_inj_virq kvm_vcpu_wakeup kvm_apic_ipi kvm_pic_set_irq"
net_trace() {
	_tr=/sys/kernel/tracing
	[ -d "$_tr/events" ] || mount -t tracefs tracefs "$_tr" 2>/dev/null || return 0
	[ -d "$_tr/events/kvm" ] || return 0
	echo 0 >"$_tr/tracing_on"
	case "$1" in
	on)
		echo 1024 >"$_tr/buffer_size_kb"
		: >"$_tr/trace"
		for _e in $NET_TRACE_EVENTS; do
			[ -e "$_tr/events/kvm/$_e/enable" ] && echo 1 >"$_tr/events/kvm/$_e/enable"
		done
		echo 1 >"$_tr/tracing_on" ;;
	dump) tail -n "${2:-400}" "$_tr/trace" ;;
	esac
	return 0
}

# net_stall_watch: when the guest reports an RCU stall, or its console has
# been quiet for $E2E_NET_QUIET_SECS (default 90) s, record once what every VMM
# thread is doing (a vCPU that never re-enters the guest shows where it
# waits) and L1's last KVM interrupt events, for net_vm_wait to print.
net_stall_watch() {
	rm -f "$E2E_TMP/stall-threads" "$E2E_TMP/stall-why"
	[ "${E2E_NET_VMM:-ember}" = ember ] && net_trace on
	while kill -0 "$VM_PID" 2>/dev/null; do
		_quiet=$(($(date +%s) - $(stat -c %Y "$VM_LOG" 2>/dev/null || date +%s)))
		if grep -q "rcu: INFO: .* detected stalls" "$VM_LOG" 2>/dev/null ||
			[ "$_quiet" -ge "${E2E_NET_QUIET_SECS:-90}" ]; then
			[ "$_quiet" -ge "${E2E_NET_QUIET_SECS:-90}" ] && echo "console quiet for ${_quiet} s" >"$E2E_TMP/stall-why"
			sleep 2
			_p=$(net_vmm_pid)
			for _t in /proc/$_p/task/*; do
				echo "thread $(cat "$_t/comm") state=$(awk '/^State:/ { print $2 }' "$_t/status")" \
					"wchan=$(cat "$_t/wchan") syscall=$(cut -d' ' -f1 "$_t/syscall")"
				sed 's/^/    /' "$_t/stack" 2>/dev/null
			done >"$E2E_TMP/stall-threads.tmp" 2>&1
			{ echo "L1's last KVM interrupt events:"; net_trace dump; } >>"$E2E_TMP/stall-threads.tmp" 2>&1
			mv "$E2E_TMP/stall-threads.tmp" "$E2E_TMP/stall-threads"
			return
		fi
		sleep 1
	done
	net_trace off
}

# net_vm_wait: wait for the VM; print its log into the case's log; return its
# status (124 when it timed out).
net_vm_wait() {
	wait "$VM_PID"
	_rc=$?
	sed 's/^/| /' "$VM_LOG"
	if [ -s "$E2E_TMP/stall-threads" ]; then
		note "the guest stalled ($(cat "$E2E_TMP/stall-why" 2>/dev/null || echo "RCU stall")); the VMM's threads then:"
		sed 's/^/  /' "$E2E_TMP/stall-threads"
	fi
	return "$_rc"
}

# net_expect_iperf NAME BYTES: the guest's line "IPERF NAME rc=0 sent=S
# received=R ..." says the transfer completed and moved BYTES. iperf3 -n
# may send one more buffer (up to 1 MiB over); the receiver may count a
# little less (at most 5 %), because iperf3 stops counting at the end
# message, which travels on its control connection and can overtake the
# last data. Prints the line for the case's log.
net_expect_iperf() {
	expect_in "$VM_LOG" "^IPERF $1 rc=0 "
	_line=$(grep "^IPERF $1 " "$VM_LOG" | head -n 1)
	note "$_line"
	echo "$_line" | awk -v n="$2" '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		END { exit !(v["sent"] >= n && v["sent"] <= n + 1048576 && v["received"] >= n * 0.95 &&
			v["received"] <= v["sent"]) }' ||
		fail "iperf3 $1: expected $2 bytes sent and received: $_line"
}

# net_send_file FILE ADDR PORT: send FILE to a listener (busybox nc ends the
# connection at the end of its input); retries the connect for 10 s.
net_send_file() {
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		timeout 120 nc "$2" "$3" <"$1" && return 0
		sleep 1
	done
	fail "could not send $1 to $2:$3"
}

# net_release ADDR: end the guest's net_hold (retries for 10 s).
net_release() {
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		echo go | timeout 5 nc "$1" 7000 >/dev/null 2>&1 && return 0
		sleep 1
	done
	fail "could not release the guest at $1 (port 7000)"
}

# net_wait_line PATTERN [SECS]: wait until the VM's log has PATTERN.
net_wait_line() {
	_t0=$(now)
	while ! grep -q -e "$1" "$VM_LOG" 2>/dev/null; do
		if ! kill -0 "$VM_PID" 2>/dev/null ||
			[ "$(awk -v a="$(elapsed "$_t0")" -v b="${2:-120}" 'BEGIN { print (a >= b) }')" = 1 ]; then
			sed 's/^/| /' "$VM_LOG"
			fail "/$1/ did not show up in the VM's output"
		fi
		sleep 0.2
	done
}

# net_vmm_pid: the VMM's pid (busybox's timeout execs the command; another
# timeout would be the VMM's parent).
net_vmm_pid() {
	if [ "$(cat "/proc/$VM_PID/comm" 2>/dev/null)" != timeout ]; then echo "$VM_PID"; return; fi
	grep -l "^PPid:[[:space:]]*$VM_PID\$" /proc/[0-9]*/status 2>/dev/null | head -n 1 |
		sed 's|^/proc/||; s|/status$||'
}

# The transport follows the case name (…-pci or …-mmio): NET_DEV, NET_MACHINE
# (-M pci or nothing) and NET_PARENT (what the guest's NIC hangs off).
net_transport() {
	case "$E2E_CASE" in
	*-pci) NET_DEV=virtio-net-pci NET_MACHINE="-M pci" NET_PARENT="0000:00:" ;;
	*) NET_DEV=virtio-net-device NET_MACHINE='' NET_PARENT="LNRO0005:\\|virtio-mmio" ;;
	esac
}

# net_vhost_setup UP [DOWN]: what the vhost-net cases share: their own
# namespace, vhost_net loaded, br0 with L1 at 10.0.0.1/24 and iperf3 serving
# on 5201, and $E2E_TMP/initrd, whose guest pings L1, holds (net_hold), then
# sends UP (iperf3 -n) and, with DOWN, receives DOWN.
net_vhost_setup() {
	need_kvm
	net_ns
	modprobe vhost_net || fail "modprobe vhost_net failed"
	[ -c /dev/vhost-net ] || fail "/dev/vhost-net is missing after modprobe vhost_net"
	net_bridge br0 10.0.0.1/24
	net_iperf_server 10.0.0.1 5201
	{
		echo ". /net-guest.sh"
		echo "net_config"
		echo "net_ping 10.0.0.1 || exit 1"
		echo "net_hold"
		echo "net_iperf up 10.0.0.1 5201 -n $1"
		[ -z "${2:-}" ] || echo "net_iperf down 10.0.0.1 5201 -n $2 -R"
	} | net_initrd "$E2E_TMP/initrd" --script -
}

# net_ember_end PID LOG WHAT TENTHS: wait up to TENTHS tenths of a second for
# the ember started in the background (PID; killed after that), print its
# LOG into the case's log and check that it exited 0 (WHAT names the run).
net_ember_end() {
	_i=0
	while kill -0 "$1" 2>/dev/null; do
		_i=$((_i + 1))
		[ "$_i" -lt "$4" ] || { kill "$1"; break; }
		sleep 0.1
	done
	wait "$1"
	_rc=$?
	sed 's/^/| /' "$2"
	expect_eq "$_rc" 0 "ember exit status ($3)"
}
