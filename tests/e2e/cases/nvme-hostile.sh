# A hostile guest: tests/e2e/hostile/nvme_hostile takes the first NVMe
# controller (serial VICTIM) away from the guest's nvme driver and drives it
# itself: PRPs and PRP lists outside RAM, misaligned or chained into
# themselves, SGLs that add up wrong or point outside RAM, LBAs past the end and wrapping, bad namespaces, bad
# queue set-ups, DSM ranges past the end, random commands, doorbells all
# over BAR 0, admin queues outside RAM. Each must get its NVMe status (or
# the controller fatal status) and the controller must work again after a
# reset. Meanwhile the second controller (SURVIVOR) serves reads, then a
# 4 MiB O_DIRECT write and read-back; ember stays up and powers off.
# e2e-timeout: 180
. "$E2E_LIB"
need_ember
need_kvm
hostile=$E2E_DIR/hostile/bin/nvme_hostile
[ -x "$hostile" ] || fail "$hostile is missing (tests/e2e/run builds it on the host)"
victim=$E2E_TMP/victim.img survivor=$E2E_TMP/survivor.img
truncate -s 64M "$victim" "$survivor"
make_initrd "$E2E_TMP/initrd" --file "$hostile:/bin/nvme_hostile" --script - <<'GUEST'
i=0
while [ ! -b /dev/nvme1n1 ] && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
vdev= sdev=
for c in /sys/class/nvme/nvme*; do
	case "$(cat $c/serial | tr -d ' ')" in
	VICTIM) vdev=$(readlink -f $c/device); vblk=$(basename $c)n1 ;;
	SURVIVOR) sblk=$(basename $c)n1 ;;
	esac
done
echo "CONTROLLERS victim=$(basename "$vdev") survivor=$sblk"
[ -n "$vdev" ] && [ -n "$sblk" ] || { echo HOSTILE-FAIL no-controllers; exit 1; }
echo "$(basename "$vdev")" >/sys/bus/pci/drivers/nvme/unbind
(
	n=0
	while [ ! -e /tmp/stop ]; do
		dd if=/dev/$sblk of=/dev/null bs=64k count=16 iflag=direct 2>/dev/null ||
			{ echo BG-IO-FAILED; break; }
		n=$((n + 1))
	done
	echo "BG-IO-ROUNDS $n"
) &
bg=$!
/bin/nvme_hostile "$vdev"
echo "HOSTILE-EXIT $?"
touch /tmp/stop
wait "$bg"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 2>/dev/null
dd if=/tmp/pattern of=/dev/$sblk bs=1M oflag=direct 2>/dev/null || echo SURVIVOR-WRITE-FAILED
dd if=/dev/$sblk of=/tmp/back bs=1M count=4 iflag=direct 2>/dev/null || echo SURVIVOR-READ-FAILED
cmp /tmp/pattern /tmp/back >/dev/null && echo SURVIVOR-OK
echo "SURVIVOR-SUM $(sha256sum /tmp/pattern | cut -d' ' -f1)"
echo CONSOLE-STILL-WORKS
GUEST
run_ember --timeout 150 -M pci -kernel "$LAB_KERNEL" -initrd "$E2E_TMP/initrd" -smp 1 -m 256 \
	-append "$E2E_APPEND iomem=relaxed" \
	-blockdev driver=file,node-name=f0,filename="$victim" \
	-blockdev driver=file,node-name=f1,filename="$survivor" \
	-device nvme,drive=f0,serial=VICTIM -device nvme,drive=f1,serial=SURVIVOR
expect_eq "$?" 0 "ember exit status"
log=$EMBER_LOG
expect_in "$log" "CONTROLLERS victim=0000:00:0.\.0 survivor=nvme.n1"
expect_not_in "$log" "HOSTILE-FAIL"
expect_not_in "$log" "UNEXPECTED"
for a in control-before identify-outside-ram identify-misaligned identify-prp2-offset identify-sgl \
	identify-bad-cns bad-admin-opcode create-cq-qid-0 create-cq-qid-huge create-cq-size-huge \
	create-cq-outside-ram create-cq-vector-huge create-sq-no-cq delete-sq-none log-huge \
	dbbuf-outside-ram read-ok read-prp1-outside-ram read-list-outside-ram read-list-entry-offset \
	read-list-entry-outside-ram read-list-self-chain read-list-misaligned read-past-mdts \
	read-lba-range read-lba-wrap read-bad-nsid read-nsid-broadcast write-sgl-empty \
	read-sgl-segment-outside-ram read-sgl-bit-bucket read-sgl-ok write-psdt-3 zeroes-lba-range \
	dsm-range-huge dsm-outside-ram bad-io-opcode control-io doorbell-garbage \
	enable-asq-outside-ram control-after-reset control-after; do
	expect_in "$log" "^ATTACK $a status=.* ok"
done
for i in 00 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19; do
	expect_in "$log" "^ATTACK garbage-io-$i status=.* ok"
done
expect_in "$log" "HOSTILE-DONE failures=0"
expect_in "$log" "HOSTILE-EXIT 0"
expect_not_in "$log" "BG-IO-FAILED"
expect_in "$log" "BG-IO-ROUNDS [1-9]"
expect_in "$log" SURVIVOR-OK
expect_in "$log" CONSOLE-STILL-WORKS
sum=$(sed -n 's/^SURVIVOR-SUM \([0-9a-f]*\).*/\1/p' "$log" | head -n 1)
expect_eq "$(head -c 4194304 "$survivor" | sha256sum | cut -d' ' -f1)" "$sum" "the survivor's data on the host"
