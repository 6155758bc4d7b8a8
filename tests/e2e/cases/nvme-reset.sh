# A guest reboot with the NVMe controller busy: boot 1 finds no marker on
# nvme0n1, writes one, starts direct reads in the background and runs
# `reboot -f` (the ACPI reset register) while they are in flight; the
# machine resets in place (the controller back to power-on, its reads
# drained), boot 2 finds the marker through a freshly probed controller,
# writes a second one and powers off; L1 reads it from the image.
# e2e-timeout: 240
. "$E2E_LIB"
need_ember
need_kvm
img=$E2E_TMP/disk.img
truncate -s 64M "$img"
make_initrd "$E2E_TMP/initrd" --script - <<'GUEST'
i=0
while [ ! -b /dev/nvme0n1 ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
m=$(dd if=/dev/nvme0n1 bs=64 count=1 2>/dev/null | tr -d '\000')
echo "GUEST-INIT marker=[$m]"
case "$m" in
"")
	echo BOOT-ONE
	printf 'EMBER-BOOT-1' | dd of=/dev/nvme0n1 oflag=direct conv=fsync 2>/dev/null
	for j in 1 2 3 4; do
		dd if=/dev/nvme0n1 of=/dev/null bs=256k iflag=direct 2>/dev/null &
	done
	sleep 1
	reboot -f
	sleep 30
	;;
EMBER-BOOT-1)
	echo BOOT-TWO
	printf 'EMBER-BOOT-2' | dd of=/dev/nvme0n1 oflag=direct conv=fsync 2>/dev/null
	echo GUEST-DONE
	;;
*)
	echo "BOOT-UNEXPECTED [$m]"
	;;
esac
GUEST
run_ember --timeout 200 -M pci -smp 2 -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -m 256 \
	-append "$E2E_APPEND" -blockdev driver=file,node-name=f0,filename="$img" \
	-device nvme,drive=f0,serial=EMBER-RESET,num_queues=2
expect_eq "$?" 0 "ember exit status"
expect_in "$EMBER_LOG" "GUEST-INIT marker=\[\]"
expect_in "$EMBER_LOG" BOOT-ONE
expect_in "$EMBER_LOG" "GUEST-INIT marker=\[EMBER-BOOT-1\]"
expect_in "$EMBER_LOG" BOOT-TWO
expect_in "$EMBER_LOG" GUEST-DONE
expect_not_in "$EMBER_LOG" BOOT-UNEXPECTED
expect_eq "$(head -c 12 "$img")" EMBER-BOOT-2 "the second boot's marker on the host"
