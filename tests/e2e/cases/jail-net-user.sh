# -netdev user under ember-jail: ember is static and dlopen()s libslirp,
# which no ELF header names, so the jail holds it only when asked:
# without --lib, ember stops with its one line naming the library (the
# reason the two did not work together); with --lib libslirp.so.0 the
# jailer copies it and its closure (GLib, libc, the loader), and a jailed
# guest (sandbox on, uid 1234, host network namespace) gets its address by
# DHCP and serves a connection L1 makes through hostfwd=tcp::5557-:22.
# e2e-timeout: 300
. "$E2E_LIB"
. "$E2E_DIR/jail-lib.sh"
need_ember
need_kvm
jail_setup
ip link set lo up 2>/dev/null
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
ip link set lo up
ip link set eth0 up
cat >/tmp/dhcp.sh <<'EOF2'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/${mask:-24}" dev "$interface"
ip route add default via "$router"
echo "DHCP ip=$ip router=$router" >/tmp/lease
EOF2
chmod +x /tmp/dhcp.sh
udhcpc -i eth0 -n -q -t 10 -T 2 -s /tmp/dhcp.sh >/tmp/udhcpc.log 2>&1 || echo DHCP-FAILED
cat /tmp/lease
echo LISTENING
timeout 60 nc -l -p 22 -e echo HELLO-FROM-JAILED-GUEST
echo SERVED
GUEST
jail_run nolib "$E2E_TMP/nolib.log" "" -m 256 -nic user,hostfwd=tcp::5557-:22
rc=$?
sed 's/^/| nolib: /' "$E2E_TMP/nolib.log"
expect_eq "$rc" 1 "exit status without --lib"
expect_in "$E2E_TMP/nolib.log" "cannot load libslirp.so.0 (Debian: libslirp0)"

jail_run withlib "$E2E_TMP/withlib.log" "--lib libslirp.so.0" -m 256 \
	-nic user,hostfwd=tcp::5557-:22 &
pid=$!
i=0
while kill -0 "$pid" 2>/dev/null && ! grep -q '^LISTENING' "$E2E_TMP/withlib.log"; do
	i=$((i + 1)); [ "$i" -lt 1500 ] || break; sleep 0.1
done
i=0
while kill -0 "$pid" 2>/dev/null && ! grep -q HELLO-FROM-JAILED-GUEST "$E2E_TMP/fwd" 2>/dev/null; do
	i=$((i + 1)); [ "$i" -lt 30 ] || break
	timeout 10 nc 127.0.0.1 5557 -e sh -c "cat >$E2E_TMP/fwd"
	sleep 1
done
i=0
while kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1)); [ "$i" -lt 1200 ] || { kill "$pid"; break; }
	sleep 0.1
done
wait "$pid"
rc=$?
sed 's/^/| withlib: /' "$E2E_TMP/withlib.log"
expect_eq "$rc" 0 "exit status with --lib libslirp.so.0"
expect_in "$E2E_TMP/withlib.log" "DHCP ip=10.0.2.15 router=10.0.2.2"
expect_in "$E2E_TMP/fwd" HELLO-FROM-JAILED-GUEST
expect_in "$E2E_TMP/withlib.log" SERVED
