# Console output to a reader that stalled (docs/architecture.md, "Console
# output to a slow reader"): ember's stdout is a FIFO whose reader never
# reads. The guest writes 200 KiB to ttyS0 (that stdout), then ALIVE on
# ttyS1 (a file, its console). The vCPU writing the UART must not block:
# ALIVE arrives, ember warns once that the reader stalled, and at exit says
# how many bytes it dropped.
# e2e-timeout: 180
. "$E2E_LIB"
need_ember
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo FLOOD-START
i=0
while [ $i -lt 3000 ]; do
	echo "line $i 0123456789012345678901234567890123456789012345678901234567890"
	i=$((i + 1))
done >/dev/ttyS0
echo ALIVE
GUEST
mkfifo "$E2E_TMP/out"
# The stalled reader: opens the FIFO, never reads.
sleep 300 <"$E2E_TMP/out" &
reader=$!
t0=$(now)
timeout 150 "$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256M \
	-append "console=ttyS1 panic=-1 quiet" -serial stdio \
	-serial "file:$E2E_TMP/ttyS1.txt" </dev/null >"$E2E_TMP/out" 2>"$E2E_TMP/ember.err"
rc=$?
note "ember exited $rc after $(elapsed "$t0") s"
kill "$reader" 2>/dev/null
sed 's/^/| /' "$E2E_TMP/ember.err"
grep -v '^line ' "$E2E_TMP/ttyS1.txt" | tail -n 5 | sed 's/^/| /'
expect_eq "$rc" 0 "ember exit status (124: the vCPU blocked on the stalled reader)"
expect_in "$E2E_TMP/ttyS1.txt" FLOOD-START
expect_in "$E2E_TMP/ttyS1.txt" ALIVE
expect_in "$E2E_TMP/ember.err" "chardev 'serial0': the reader stalled"
expect_in "$E2E_TMP/ember.err" "chardev 'serial0': [0-9]* bytes of output were dropped"
n=$(grep -c "the reader stalled" "$E2E_TMP/ember.err")
expect_eq "$n" 1 "stall warnings (once per stall, not per write)"
