# Guest RAM gets transparent huge pages on an untuned host: with the
# kernel's default THP settings (enabled=madvise, shmem_enabled=never, set
# here for this case whatever the lab's default) plain -m is anonymous memory
# advised for THP, so the host maps it with 2 MiB pages (AnonHugePages of the
# RAM mapping in ember's /proc/PID/smaps) and ember does not warn. Against it,
# memory-backend-memfd under the same settings gets no huge pages and ember
# warns, naming memory-backend-ram. Exec -> guest marker is noted for both.
# e2e-timeout: 240
. "$E2E_LIB"
need_ember
need_kvm
pid=
thp=/sys/kernel/mm/transparent_hugepage
old_enabled=$(sed 's/.*\[\(.*\)\].*/\1/' $thp/enabled)
old_shmem=$(sed 's/.*\[\(.*\)\].*/\1/' $thp/shmem_enabled)
echo madvise >$thp/enabled || fail "cannot set $thp/enabled"
echo never >$thp/shmem_enabled || fail "cannot set $thp/shmem_enabled"
trap 'kill $pid 2>/dev/null; echo "$old_enabled" >$thp/enabled; echo "$old_shmem" >$thp/shmem_enabled' EXIT
note "THP: enabled $(cat $thp/enabled), shmem_enabled $(cat $thp/shmem_enabled)"

make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo THP-GUEST-UP
sleep 120
GUEST

# ram_kib PID SIZE_KIB FIELD: FIELD (kB) of the mapping of exactly SIZE_KIB in smaps.
ram_kib() {
	awk -v size="$2" -v field="$3:" '
		/^[0-9a-f]+-[0-9a-f]+ / { in_ram = 0 }
		$1 == "Size:" { in_ram = ($2 == size) }
		in_ram && $1 == field { print $2; exit }' "/proc/$1/smaps"
}

# boot_sample LOG ARGS...: ember in the background until the guest is up;
# sets pid, secs (exec -> marker) and the RAM mapping's figures.
boot_sample() {
	_log=$1
	shift
	_t0=$(now)
	"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" "$@" \
		</dev/null >"$_log" 2>&1 &
	pid=$!
	wait_for "$_log" THP-GUEST-UP 120
	secs=$(elapsed "$_t0")
	rss=$(ram_kib $pid 262144 Rss)
	anon_huge=$(ram_kib $pid 262144 AnonHugePages)
	shmem_huge=$(ram_kib $pid 262144 ShmemPmdMapped)
	[ -n "$rss" ] || fail "no 256 MiB mapping in /proc/$pid/smaps"
	kill $pid
	wait $pid
	sed 's/^/| /' "$_log" | grep -v THP-GUEST-UP | tail -n 5
}

boot_sample "$E2E_TMP/default.log" -m 256
note "-m 256: exec -> guest up $secs s; RAM Rss $rss KiB, AnonHugePages $anon_huge KiB"
[ "${anon_huge:-0}" -gt 0 ] || fail "plain -m RAM has no huge pages (AnonHugePages ${anon_huge:-?} KiB of Rss $rss KiB)"
expect_not_in "$E2E_TMP/default.log" "huge pages"

boot_sample "$E2E_TMP/ram.log" -object memory-backend-ram,id=r0,size=256M -M microvm,memory-backend=r0
note "memory-backend-ram: exec -> guest up $secs s; AnonHugePages $anon_huge KiB"
[ "${anon_huge:-0}" -gt 0 ] || fail "memory-backend-ram has no huge pages"

boot_sample "$E2E_TMP/memfd.log" -object memory-backend-memfd,id=m0,size=256M,share=on \
	-M microvm,memory-backend=m0
note "memory-backend-memfd,share=on: exec -> guest up $secs s; ShmemPmdMapped ${shmem_huge:-?} KiB"
expect_eq "${shmem_huge:-0}${anon_huge:-0}" 00 "huge pages of memfd RAM with shmem THP off"
expect_in "$E2E_TMP/memfd.log" "gets no huge pages.*memory-backend-ram"
