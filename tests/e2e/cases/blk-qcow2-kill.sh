# qcow2 crash safety (issue 18): a guest writes numbered records through a
# qcow2 overlay on a raw base, each with O_DIRECT and a flush, and says
# FLUSHED N after each flush completed; 4 KiB records land inside clusters
# still on the base (copy-up), 128 KiB ones allocate two clusters whole.
# L1 kills ember with SIGKILL at a random moment, then: qemu-img check
# finds no corruption (exit 0, or 3: leaked clusters only), every record
# the guest saw flushed reads back whole, the base bytes around each 4 KiB
# record are still there, and the base file is untouched. The next round
# boots the same (killed) overlay again. E2E_QCOW2_KILL_ROUNDS rounds
# (default 2 in the suite; the long form: E2E_QCOW2_KILL_ROUNDS=20 tests/e2e/run blk-qcow2-kill).
# e2e-timeout: 900
# e2e-needs: qemu-img
. "$E2E_LIB"
need_ember
need_kvm
need_cmd qemu-img
rounds=${E2E_QCOW2_KILL_ROUNDS:-2}
cd "$E2E_TMP"
dd if=/dev/urandom of=base.raw bs=1M count=32 2>/dev/null
base_sum=$(sha256sum base.raw | cut -d' ' -f1)
qemu-img create -q -f qcow2 -b base.raw -F raw ov.qcow2 || fail "qemu-img create"
# Slot N (192 KiB apart, 170 slots): a 4 KiB record at +4 KiB, or (every
# fourth) a 128 KiB record at +64 KiB.
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
tag=$(sed -n 's/.*qkill=\([0-9]*\).*/\1/p' /proc/cmdline)
echo "WRITING round=$tag"
i=0
while [ $i -lt 170 ]; do
	if [ $((i % 4)) = 3 ]; then n=131072 at=$((i * 192 + 64)); else n=4096 at=$((i * 192 + 4)); fi
	yes "R$tag-$i" | head -c $n >/tmp/rec
	dd if=/tmp/rec of=/dev/vda bs=1024 seek=$at oflag=direct conv=fsync,notrunc 2>/dev/null ||
		{ echo "DD-FAILED $i"; break; }
	echo "FLUSHED $i"
	i=$((i + 1))
done
echo ALL-WRITTEN
GUEST

killed=0 checked=0 records=0
for r in $(seq 1 "$rounds"); do
	log=$E2E_TMP/ember-$r.log
	"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
		-append "$E2E_APPEND qkill=$r" -blockdev driver=file,node-name=f0,filename=ov.qcow2 \
		-blockdev driver=qcow2,node-name=d0,file=f0 -device virtio-blk-device,drive=d0 \
		</dev/null >"$log" 2>&1 &
	pid=$!
	wait_for "$log" "WRITING round=$r" 60
	# A random moment in the next 0.2-3 s of writing.
	sleep "$(awk -v r="$r$$" 'BEGIN { srand(); srand(srand() + r); printf "%.2f", 0.2 + rand() * 2.8 }')"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null
	expect_not_in "$log" DD-FAILED
	qemu-img check ov.qcow2 >check.log 2>&1
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 3 ] || { cat check.log; fail "round $r: qemu-img check exited $rc"; }
	checked=$((checked + 1))
	last=$(sed -n 's/^FLUSHED \([0-9]*\).*/\1/p' "$log" | tail -n 1)
	[ -n "$last" ] || fail "round $r: the guest flushed nothing before the kill"
	qemu-img convert -O raw ov.qcow2 out.raw || fail "round $r: qemu-img convert"
	for i in $(seq 0 "$last"); do
		if [ $((i % 4)) = 3 ]; then n=131072 at=$((i * 192 + 64)); else n=4096 at=$((i * 192 + 4)); fi
		yes "R$r-$i" | head -c $n >rec
		dd if=out.raw bs=1024 skip=$at count=$((n / 1024)) 2>/dev/null | cmp -s - rec ||
			fail "round $r: record $i (flushed) does not read back"
		if [ "$n" = 4096 ]; then
			# The copied-up rest of the cluster is the base's.
			dd if=out.raw bs=1024 skip=$((i * 192)) count=4 2>/dev/null >got
			dd if=base.raw bs=1024 skip=$((i * 192)) count=4 2>/dev/null |
				cmp -s - got || fail "round $r: the base bytes before record $i are lost"
		fi
	done
	records=$((records + last + 1))
	note "round $r: killed after FLUSHED $last; qemu-img check $rc"
done
expect_eq "$(sha256sum base.raw | cut -d' ' -f1)" "$base_sum" "the base after $rounds kills"
expect_eq "$checked" "$rounds" "rounds checked"
note "$killed of $rounds rounds killed mid-write; $records flushed records all read back"
