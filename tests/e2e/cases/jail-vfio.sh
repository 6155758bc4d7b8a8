# -device vfio-pci under ember-jail: --vfio GROUP makes /dev/vfio/vfio and
# /dev/vfio/GROUP in the jail for the jail's uid (0600, uid:gid) and binds
# the group's sysfs directories read-only at /sys/bus/pci/devices/, where
# ember checks the function's driver and group. A jailed ember (uid 1234,
# sandbox on, RLIMIT_MEMLOCK raised by the caller for the DMA map) then
# passes the IOMMU lab's edu function to a guest, which reads its identity
# and drives its DMA engine. Without --vfio the jailed ember finds no such
# function (one line, exit 1); --vfio of a group the host lacks is
# ember-jail's one-line error.
# e2e-timeout: 240
# e2e-lab: iommu
. "$E2E_LIB"
. "$E2E_DIR/vfio-lib.sh"
. "$E2E_DIR/jail-lib.sh"
need_ember
need_kvm
jail_setup
vfio_edu_bind
group=$(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group")")
note "edu is $edu, IOMMU group $group"

make_initrd "$E2E_TMP/initrd" --file "$E2E_DIR/hostile/bin/pci_edu:/bin/pci_edu" --script - <<'GUEST'
d=/sys/bus/pci/devices/0000:00:05.0
echo "EDU-IDS $(cat $d/vendor):$(cat $d/device)"
pci_edu $d read 0
pci_edu $d dma
GUEST
jailed() { # ID LOG 'JAIL-ARGS'; the DMA map needs RLIMIT_MEMLOCK raised
	(ulimit -l unlimited && jail_run "$1" "$2" "$3" -M pci -m 256 \
		-device "vfio-pci,host=$edu,addr=5")
}

jailed novfio "$E2E_TMP/novfio.log" ""
rc=$?
sed 's/^/| novfio: /' "$E2E_TMP/novfio.log"
expect_eq "$rc" 1 "exit status without --vfio"
expect_in "$E2E_TMP/novfio.log" "no PCI device $edu on this host"

jailed nogroup "$E2E_TMP/nogroup.log" "--vfio 99"
rc=$?
sed 's/^/| nogroup: /' "$E2E_TMP/nogroup.log"
expect_eq "$rc" 1 "exit status with --vfio 99"
expect_in "$E2E_TMP/nogroup.log" "ember-jail: error: --vfio 99: the host has no /dev/vfio/99"

jailed withvfio "$E2E_TMP/withvfio.log" "--vfio $group --keep -v"
rc=$?
sed 's/^/| withvfio: /' "$E2E_TMP/withvfio.log"
expect_eq "$rc" 0 "exit status of the jailed ember with --vfio $group"
expect_in "$E2E_TMP/withvfio.log" "EDU-IDS 0x1234:0x11e8"
expect_in "$E2E_TMP/withvfio.log" "READ 0 0x010000ed"
expect_in "$E2E_TMP/withvfio.log" "DMA-OK 1024 bytes"
expect_not_in "$E2E_TMP/withvfio.log" "PCI-EDU-FAIL"
root=$JAIL_BASE/ember/withvfio/root
expect_eq "$(stat -c '%u:%g %a' "$root/dev/vfio/$group")" "1234:1234 600" "/dev/vfio/$group in the jail"
expect_eq "$(stat -c '%u:%g %a' "$root/dev/vfio/vfio")" "1234:1234 600" "/dev/vfio/vfio in the jail"
rm -rf "$JAIL_BASE/ember/withvfio"
