# ember's own resident memory stays under its ceiling (issue 13 item 3): a
# default microVM (-m 256, serial console) boots to the guest's init, and the
# resident memory of every mapping smaller than guest RAM (program text and
# data, heap, stacks: what scripts/bench/boot counts) is summed from
# /proc/PID/smaps. Over EMBER_RSS_CEILING_KIB (1536, the figure of
# docs/benchmarks.md) the case fails and lists the largest mappings. Text is
# mapped 64 KiB of fault-around at a time, so this is what catches code a boot
# runs that scripts/link/boot-order.ld no longer gathers (docs/benchmarks.md
# says how to remake it). A memory check, not a timed one.
# e2e-timeout: 180
. "$E2E_LIB"
need_ember
need_kvm
ceiling=${EMBER_RSS_CEILING_KIB:-1536}
pid=
trap 'kill $pid 2>/dev/null' EXIT

make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo RSS-GUEST-UP
sleep 120
GUEST

"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" -m 256 \
	</dev/null >"$E2E_TMP/console.log" 2>&1 &
pid=$!
wait_for "$E2E_TMP/console.log" RSS-GUEST-UP 120
# KiB NAME per mapping smaller than guest RAM (256 MiB), largest first.
awk '
	/^[0-9a-f]+-[0-9a-f]+ / { split($1, r, "-"); name = NF >= 6 ? $6 : "[anon]"; next }
	$1 == "Size:" { small = $2 < 262144 }
	$1 == "Rss:" && small && $2 > 0 { print $2, name }' "/proc/$pid/smaps" | sort -rn >"$E2E_TMP/rss"
kill $pid
wait $pid
total=$(awk '{ t += $1 } END { print t + 0 }' "$E2E_TMP/rss")
[ "$total" -gt 0 ] || fail "no resident mapping read from /proc/$pid/smaps"
note "resident outside guest RAM at guest init: $total KiB (ceiling $ceiling KiB)"
head -n 6 "$E2E_TMP/rss" | sed 's/^/| /'
[ "$total" -le "$ceiling" ] ||
	fail "ember's resident memory outside guest RAM is $total KiB, over the $ceiling KiB ceiling: remake scripts/link/boot-order.ld (docs/benchmarks.md) or find what grew"
