# A hostile guest with edu and the NVMe function of the IOMMU lab passed
# through: as root it unbinds its nvme driver, fills the NVMe's MSI-X table
# (ember's) with garbage through resource0, then writes garbage over both
# functions' command registers, BARs, ROM BAR and MSI / MSI-X capabilities
# through sysfs config, and powers off. ember stays up to the poweroff,
# exits 0 and logs at most one line per kind of problem; then L1 can still
# use both functions: a second ember's guest drives edu and reads the NVMe,
# and L1 takes the NVMe back.
# e2e-timeout: 300
# e2e-lab: iommu
. "$E2E_LIB"
. "$E2E_DIR/vfio-lib.sh"
need_ember
need_kvm
vfio_pair_setup

make_initrd "$E2E_TMP/initrd" --file "$E2E_DIR/hostile/bin/pci_edu:/bin/pci_edu" --script - <<'GUEST'
e=/sys/bus/pci/devices/0000:00:05.0
n=/sys/bus/pci/devices/0000:00:06.0
i=0
while [ ! -e $n/driver ] && [ $i -lt 120 ]; do sleep 0.5; i=$((i + 1)); done
[ -e $n/driver ] && echo 0000:00:06.0 >$n/driver/unbind
echo "NVME-UNBOUND $(ls $n/driver 2>/dev/null | wc -l)"
rd() { od -An -tu$3 -j $(($2)) -N$3 $1/config | tr -d ' '; }
# The NVMe's MSI-X table, enabled, then garbage over every entry.
off=$(rd $n 0x34 1)
while [ "$off" != 0 ] && [ "$(rd $n $off 1)" != 17 ]; do off=$(rd $n $((off + 1)) 1); done
tbl=$(rd $n $((off + 4)) 4)
nvec=$(( ($(rd $n $((off + 2)) 2) & 0x7ff) + 1 ))
echo "MSIX-AT cap=$off bir=$((tbl & 7)) table=$((tbl & ~7)) vectors=$nvec"
printf '\200' | dd of=$n/config bs=1 seek=$((off + 3)) conv=notrunc 2>/dev/null
[ $((tbl & 7)) = 0 ] && pci_edu $n garbage $((tbl & ~7)) $((nvec * 16))
# Garbage over config space: the command register, the BARs and ROM BAR,
# the capabilities; rounds of random bytes at random places too.
r=0
while [ $r -lt 40 ]; do
	for d in $e $n; do
		dd if=/dev/urandom of=$d/config bs=1 seek=4 count=2 conv=notrunc 2>/dev/null
		dd if=/dev/urandom of=$d/config bs=1 seek=16 count=24 conv=notrunc 2>/dev/null
		dd if=/dev/urandom of=$d/config bs=1 seek=48 count=4 conv=notrunc 2>/dev/null
		dd if=/dev/urandom of=$d/config bs=1 seek=64 count=192 conv=notrunc 2>/dev/null
		dd if=/dev/urandom of=$d/config bs=4 seek=$((RANDOM % 64)) count=1 conv=notrunc 2>/dev/null
	done
	r=$((r + 1))
done
echo "HOSTILE-DONE $r rounds"
GUEST
run_ember --timeout 200 -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" -device "vfio-pci,host=$edu,addr=5" -device "vfio-pci,host=$nvme,addr=6"
expect_eq "$?" 0 "ember exit status (hostile guest)"
expect_in "$EMBER_LOG" "NVME-UNBOUND 0"
expect_in "$EMBER_LOG" "MSIX-AT cap=[0-9]* bir=0"
expect_in "$EMBER_LOG" "GARBAGE [1-9]"
expect_in "$EMBER_LOG" "HOSTILE-DONE 40 rounds"
expect_in "$EMBER_LOG" "ember: guest powered off (ACPI S5)"
grep '^ember: warning' "$EMBER_LOG" | sed 's/^/ember said: /' >&2
# At most one line per kind (and device): no warning repeats once its
# addresses are set aside.
rep=$(grep '^ember: warning' "$EMBER_LOG" | sed 's/0x[0-9a-f]*/N/g' | sort | uniq -d)
[ -z "$rep" ] || fail "ember repeated a warning: $rep"
[ "$(grep -c '^ember: warning' "$EMBER_LOG")" -le 8 ] || fail "more than 8 warnings from ember"

# L1 can still use both functions.
vfio_pair_check "$E2E_TMP/after.log"
vfio_nvme_back
