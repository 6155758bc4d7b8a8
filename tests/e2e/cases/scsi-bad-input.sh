# virtio-scsi device trees that cannot be: each refused with one line naming
# the device and the bus, exit status 1.
# e2e-timeout: 60
. "$E2E_LIB"
need_ember
need_kvm
truncate -s 16M "$E2E_TMP/a.img" "$E2E_TMP/b.img"
blk="-blockdev driver=file,node-name=a,filename=$E2E_TMP/a.img -blockdev driver=file,node-name=b,filename=$E2E_TMP/b.img"
# shellcheck disable=SC2086
expect_usage_error unknown-bus "scsi-hd: bus 'nope.0' not found" -kernel "$LAB_KERNEL" $blk \
	-device virtio-scsi-device,id=s0 -device scsi-hd,drive=a,bus=nope.0
# shellcheck disable=SC2086
expect_usage_error no-controller "scsi-hd: no scsi-bus to plug into: add -device virtio-scsi" \
	-kernel "$LAB_KERNEL" $blk -device scsi-hd,drive=a
# shellcheck disable=SC2086
expect_usage_error wrong-kind "scsi-hd: bus 'v0.0' is a virtio-serial-bus, not a scsi-bus" \
	-kernel "$LAB_KERNEL" $blk -device virtio-serial-device,id=v0 -device scsi-hd,drive=a,bus=v0.0
expect_usage_error wrong-kind-port "virtserialport: bus 's0.0' is a scsi-bus, not a virtio-serial-bus" \
	-kernel "$LAB_KERNEL" -chardev null,id=c0 -device virtio-scsi-device,id=s0 \
	-device virtserialport,chardev=c0,name=x,bus=s0.0
# shellcheck disable=SC2086
expect_usage_error taken "scsi-cd: scsi-id=2 lun=1 on bus s0.0 is taken by drive 'a'" \
	-kernel "$LAB_KERNEL" $blk -device virtio-scsi-device,id=s0 \
	-device scsi-hd,drive=a,scsi-id=2,lun=1 -device scsi-cd,drive=b,bus=s0.0,scsi-id=2,lun=1
# shellcheck disable=SC2086
expect_usage_error same-drive "scsi-hd: .* 'a' is already used by -device scsi-hd" -kernel "$LAB_KERNEL" $blk -device virtio-scsi-device,id=s0 \
	-device scsi-hd,drive=a,scsi-id=0 -device scsi-hd,drive=a,scsi-id=1
# shellcheck disable=SC2086
expect_usage_error bad-target "scsi-hd: scsi-id=256: expected 0 to 255" -kernel "$LAB_KERNEL" $blk \
	-device virtio-scsi-device,id=s0 -device scsi-hd,drive=a,scsi-id=256
expect_usage_error unknown-node "scsi-hd: no -blockdev with node-name 'zz'" -kernel "$LAB_KERNEL" \
	-device virtio-scsi-device,id=s0 -device scsi-hd,drive=zz
