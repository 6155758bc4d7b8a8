# Guest RAM: -m above 3 GiB (RAM split around the MMIO hole), plain -m
# (anonymous memory), a memory-backend-ram object, memory-backend-memfd
# objects shared and private, and one with hugetlb=on. The guest sees the
# size it was given; ember maps RAM 2 MiB aligned.
# e2e-timeout: 240
. "$E2E_LIB"
need_ember
need_kvm
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
echo "MEMTOTAL $(awk '/MemTotal/ {print $2}' /proc/meminfo)"
GUEST
memtotal() { sed -n 's/^MEMTOTAL \([0-9]*\).*/\1/p' "$EMBER_LOG" | head -n 1; }
in_range() { # VALUE LOW HIGH WHAT
	[ -n "$1" ] && [ "$1" -ge "$2" ] && [ "$1" -le "$3" ] || fail "$4: $1 KiB not in [$2, $3]"
}

# Plain -m, checking the mapping while the guest runs: the one of exactly
# 384 MiB, anonymous (no file: the line has 5 fields) and 2 MiB aligned.
log=$E2E_TMP/ember-plain.log
"$EMBER" -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 384 -append "$E2E_APPEND" \
	</dev/null >"$log" 2>&1 &
pid=$!
map=
for _ in $(seq 1 100); do
	map=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { line = $0 }
		$1 == "Size:" && $2 == 393216 { print line; exit }' /proc/$pid/smaps 2>/dev/null)
	[ -n "$map" ] && break
	sleep 0.1
done
wait $pid
expect_eq "$?" 0 "ember -m 384 exit status"
[ -n "$map" ] || fail "no 384 MiB mapping in /proc/PID/smaps"
note "guest RAM: $map"
start=${map%%-*}
expect_eq "$(( 0x$start % 2097152 ))" 0 "guest RAM host address modulo 2 MiB"
expect_eq "$(echo "$map" | awk '{ print NF }')" 5 "fields of the RAM mapping (anonymous: no path)"
EMBER_LOG=$log in_range "$(EMBER_LOG=$log memtotal)" 300000 393216 "MemTotal with -m 384"

run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" \
	-object memory-backend-ram,id=ram0,size=320M -M microvm,memory-backend=ram0
expect_eq "$?" 0 "memory-backend-ram exit status"
in_range "$(memtotal)" 250000 327680 "MemTotal with a 320M anonymous back end"

run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" \
	-object memory-backend-memfd,id=ram0,size=384M,share=on -M microvm,memory-backend=ram0
expect_eq "$?" 0 "memory-backend-memfd,share=on exit status"
in_range "$(memtotal)" 300000 393216 "MemTotal with a shared 384M memfd back end"

run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" \
	-object memory-backend-memfd,id=ram0,size=512M,share=off -M microvm,memory-backend=ram0
expect_eq "$?" 0 "memory-backend-memfd,share=off exit status"
in_range "$(memtotal)" 400000 524288 "MemTotal with a private 512M memfd back end"

# Above 3 GiB the RAM continues at 4 GiB; L1 has 3 GiB, so the guest's
# untouched pages are never allocated.
run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" -m 4G
expect_eq "$?" 0 "-m 4G exit status"
in_range "$(memtotal)" 3800000 4194304 "MemTotal with -m 4G"

echo 160 >/proc/sys/vm/nr_hugepages
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 128 ] || skip "L1 could not reserve 128 huge pages"
run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" \
	-object memory-backend-memfd,id=ram0,size=256M,hugetlb=on,hugetlbsize=2M -M microvm,memory-backend=ram0
rc=$?
echo 0 >/proc/sys/vm/nr_hugepages
expect_eq "$rc" 0 "hugetlb back end exit status"
in_range "$(memtotal)" 200000 262144 "MemTotal with hugetlb"

# Not enough huge pages: a clear error, not a crash.
run_ember -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -append "$E2E_APPEND" \
	-object memory-backend-memfd,id=ram0,size=256M,hugetlb=on -M microvm,memory-backend=ram0
expect_eq "$?" 1 "exit status without huge pages"
expect_in "$EMBER_LOG" "huge pages"
