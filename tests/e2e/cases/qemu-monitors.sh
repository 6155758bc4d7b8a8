# Several monitors at once, as QEMU allows: two -qmp sockets and two
# -mon chardev=ID,mode=control, each a QMP server of its own (one answers
# query-command-line-options as libvirt probes it); QEMU's human
# monitor (HMP) with its "(qemu) " prompt on -monitor unix:PATH,server,nowait
# and on -mon chardev=ID (mode=readline, QEMU's default), driven with socat
# (info status, stop, cont, info block); quit from HMP ends ember. Then
# -monitor stdio: typed on ember's stdin (COM1 is then not on stdio).
# e2e-timeout: 300
# e2e-needs: socat
. "$E2E_LIB"
. "$E2E_DIR/qmp-lib.sh"
need_kvm
need_cmd socat
Q2=$E2E_TMP/q2.sock M1=$E2E_TMP/m1.sock M2=$E2E_TMP/m2.sock
H1=$E2E_TMP/h1.sock H2=$E2E_TMP/h2.sock

expect_usage_error qmp-twice "the socket '$QMP_SOCK' is given twice" -kernel "$LAB_KERNEL" \
	-qmp "unix:$QMP_SOCK,server,nowait" -qmp "unix:$QMP_SOCK,server=on,wait=off"
expect_usage_error monitor-stdio-twice "-monitor stdio: stdio is taken by -serial stdio" \
	-kernel "$LAB_KERNEL" -serial stdio -monitor stdio

qmp_guest "$E2E_TMP/initrd"
truncate -s 1M "$E2E_TMP/d.img"
qmp_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M -append "$E2E_APPEND" \
	-drive "file=$E2E_TMP/d.img,if=virtio,id=disk0" \
	-qmp "unix:$QMP_SOCK,server,nowait" -qmp "unix:$Q2,server=on,wait=off" \
	-chardev "socket,id=m1,path=$M1,server=on,wait=off" -mon chardev=m1,mode=control \
	-chardev "socket,id=m2,path=$M2,server=on,wait=off" -mon chardev=m2,mode=control \
	-monitor "unix:$H1,server,nowait" \
	-chardev "socket,id=h2,path=$H2,server=on,wait=off" -mon chardev=h2
for s in "$QMP_SOCK" "$Q2" "$M1" "$M2" "$H1" "$H2"; do wait_sock "$s"; done
wait_for "$EMBER_LOG" GUEST-UP 120
# each QMP monitor answers for itself
n=0
for s in "$QMP_SOCK" "$Q2" "$M1" "$M2"; do
	n=$((n + 1))
	client_open "q$n" $((n + 2)) "$s"
	expect_reply "q$n" $((n + 2)) "c$n" '{"execute": "qmp_capabilities", "id": "c'$n'"}' '{"return":{},"id":"c'$n'"}'
	expect_reply "q$n" $((n + 2)) "s$n" '{"execute": "query-status", "id": "s'$n'"}' '"status":"running"'
done
# libvirt's probe of an option's parameters, and QEMU's error for an unknown one
expect_reply q1 3 o1 '{"execute":"query-command-line-options","arguments":{"option":"machine"},"id":"o1"}' \
	'{"return":[{"option":"machine","parameters":[{"name":"type","type":"string"},'
expect_reply q1 3 o2 '{"execute":"query-command-line-options","arguments":{"option":"machine"},"id":"o2"}' \
	'{"name":"dump-guest-core","type":"boolean"}'
expect_reply q1 3 o3 '{"execute":"query-command-line-options","arguments":{"option":"hda"},"id":"o3"}' \
	'{"error":{"class":"GenericError","desc":"invalid option name: hda"},"id":"o3"}'
# hmp NAME SOCKET LINES: LINES typed into the human monitor at SOCKET, what came back in NAME.out
hmp() {
	printf '%b' "$3" | socat -t 3 - "UNIX-CONNECT:$2" >"$E2E_TMP/$1.out" 2>&1
	sed 's/^/| hmp: /' "$E2E_TMP/$1.out" | tr -d '\r'
}
hmp h1 "$H1" 'info status\ninfo block\nstop\ninfo status\n'
expect_in "$E2E_TMP/h1.out" "QEMU 7.2.0 monitor - type 'help' for more information"
expect_in "$E2E_TMP/h1.out" "(qemu) info status"
expect_in "$E2E_TMP/h1.out" "VM status: running"
expect_in "$E2E_TMP/h1.out" "disk0: .*d.img (raw)"
expect_in "$E2E_TMP/h1.out" "VM status: paused"
# the pause is seen by QMP, with its event
wait_count q1 '"event":"STOP"' 1
expect_reply q2 4 p2 '{"execute": "query-status", "id": "p2"}' '"status":"paused"'
hmp h2 "$H2" 'info status\ncont\ninfo status\nbogus\n'
expect_in "$E2E_TMP/h2.out" "VM status: paused"
expect_in "$E2E_TMP/h2.out" "VM status: running"
expect_in "$E2E_TMP/h2.out" "unknown command: 'bogus'"
wait_count q3 '"event":"RESUME"' 1
hmp h3 "$H1" 'quit\n'
wait_count q4 '"event":"SHUTDOWN","data":{"guest":false,"reason":"host-qmp-quit"}' 1
ember_exit 0
exec 3>&- 4>&- 5>&- 6>&-

# -monitor stdio: the guest's console in a file, the monitor on the terminal.
rm -f "$E2E_TMP/in"
mkfifo "$E2E_TMP/in"
exec 7<>"$E2E_TMP/in"	# read-write: opening it does not wait for ember
"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M -append "$E2E_APPEND" \
	-serial "file:$E2E_TMP/com1.txt" -monitor stdio <"$E2E_TMP/in" >"$E2E_TMP/stdio.out" 2>&1 &
EMBER_PID=$!
EMBER_LOG=$E2E_TMP/stdio.out
wait_for "$E2E_TMP/stdio.out" "(qemu) " 30
wait_for "$E2E_TMP/com1.txt" GUEST-UP 120
printf 'info status\n' >&7
wait_for "$E2E_TMP/stdio.out" "VM status: running" 30
printf 'quit\n' >&7
ember_exit 0
exec 7>&-
expect_not_in "$E2E_TMP/stdio.out" GUEST-UP
