# NVMe options that are wrong: each a one-line error naming the problem,
# exit status 1.
# e2e-timeout: 120
. "$E2E_LIB"
need_ember
need_kvm
img=$E2E_TMP/d.img
truncate -s 16M "$img" "$img.1"
bd="-blockdev driver=file,node-name=d0,filename=$img"
expect_usage_error no-serial "property 'serial' is required" -M pci -kernel "$LAB_KERNEL" $bd \
	-device nvme,drive=d0
expect_usage_error long-serial "serial='123456789012345678901': 1 to 20 characters" -M pci \
	-kernel "$LAB_KERNEL" -device nvme,serial=123456789012345678901
expect_usage_error mmio-machine "no PCI bus" -kernel "$LAB_KERNEL" $bd -device nvme,serial=S1,drive=d0
expect_usage_error ns-unknown-bus "bus 'nope': no -device nvme with id=nope" -M pci \
	-kernel "$LAB_KERNEL" $bd -device nvme,serial=S1,id=nv0 -device nvme-ns,drive=d0,bus=nope
expect_usage_error ns-no-controller "no nvme-bus to plug into" -M pci -kernel "$LAB_KERNEL" $bd \
	-device nvme-ns,drive=d0
expect_usage_error ns-unknown-drive "no -blockdev with node-name 'd9'" -M pci -kernel "$LAB_KERNEL" \
	-device nvme,serial=S1,id=nv0 -device nvme-ns,drive=d9,bus=nv0
expect_usage_error ns-taken "namespace 1 of -device nvme,id=nv0 is already there" -M pci \
	-kernel "$LAB_KERNEL" $bd -blockdev driver=file,node-name=d1,filename="$img.1" \
	-device nvme,serial=S1,id=nv0,drive=d0 -device nvme-ns,drive=d1,bus=nv0,nsid=1
expect_usage_error nsid-range "'nsid': '40' is out of range" -M pci -kernel "$LAB_KERNEL" $bd \
	-device nvme,serial=S1,id=nv0 -device nvme-ns,drive=d0,bus=nv0,nsid=40
expect_usage_error num-queues "num_queues" -M pci -kernel "$LAB_KERNEL" \
	-device nvme,serial=S1,num_queues=0
