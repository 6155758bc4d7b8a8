# A running ember is sandboxed (the default): every thread (main, two vCPUs,
# io_uring workers if any) has a seccomp filter (Seccomp: 2) and
# NO_NEW_PRIVS, and no capabilities in its effective, permitted, inheritable,
# ambient or bounding set; the guest, which did disk I/O first, then goes on
# and powers off normally.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
img=$E2E_TMP/disk.img
truncate -s 64M "$img"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
dd if=/dev/urandom of=/dev/vda bs=1M count=8 2>/dev/null && sync && echo WROTE-DISK
echo STATUS-READY
read -r line
echo "GOT:$line"
GUEST
mkfifo "$E2E_TMP/in"
log=$E2E_TMP/ember.log
"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 -smp 2 -append "$E2E_APPEND" \
	-blockdev driver=file,node-name=f0,filename="$img" -blockdev driver=raw,node-name=d0,file=f0 \
	-device virtio-blk-device,drive=d0 <"$E2E_TMP/in" >"$log" 2>&1 &
pid=$!
exec 3>"$E2E_TMP/in"
wait_for "$log" STATUS-READY 80
bad=0 threads=0
for task in /proc/$pid/task/*; do
	st=$task/status
	[ -r "$st" ] || continue
	threads=$((threads + 1))
	name=$(sed -n 's/^Name:[[:space:]]*//p' "$st")
	note "$name: $(grep -E '^(Seccomp|NoNewPrivs|Cap(Eff|Prm|Inh|Bnd|Amb)):' "$st" | tr -s '\t\n' '  ')"
	for want in 'Seccomp:	2' 'NoNewPrivs:	1' 'CapEff:	0000000000000000' \
		'CapPrm:	0000000000000000' 'CapInh:	0000000000000000' \
		'CapBnd:	0000000000000000' 'CapAmb:	0000000000000000'; do
		grep -qx "$want" "$st" || { note "$name ($task): no '$want'"; bad=1; }
	done
done
printf 'hello-sandbox\n' >&3
wait $pid
rc=$?
exec 3>&-
sed 's/^/| /' "$log"
[ "$threads" -ge 3 ] || fail "expected at least 3 threads (main, 2 vCPUs), saw $threads"
[ "$bad" = 0 ] || fail "a thread is not fully sandboxed (see above)"
expect_eq "$rc" 0 "ember exit status"
expect_in "$log" WROTE-DISK
expect_in "$log" "GOT:hello-sandbox"
expect_in "$log" "ember: guest powered off"
expect_not_in "$log" "seccomp"
