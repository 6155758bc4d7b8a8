# virtio-console options that are wrong: each a one-line error naming the
# problem, exit status 1.
# e2e-timeout: 60
. "$E2E_LIB"
need_ember
need_kvm
k="-kernel $LAB_KERNEL -serial none"
# shellcheck disable=SC2086 # $k: words
expect_usage_error no-vser "virtconsole: no virtio-serial-bus to plug into: add -device virtio-serial" \
	$k -chardev null,id=c0 -device virtconsole,chardev=c0
# shellcheck disable=SC2086
expect_usage_error no-chardev "virtconsole: no -chardev with id 'nope'" \
	$k -device virtio-serial-device -device virtconsole,chardev=nope
# shellcheck disable=SC2086
expect_usage_error chardev-busy "virtconsole: chardev 'c0' is in use by another device" \
	-kernel "$LAB_KERNEL" -chardev null,id=c0 -serial chardev:c0 \
	-device virtio-serial-device -device virtconsole,chardev=c0
# shellcheck disable=SC2086
expect_usage_error same-nr "virtconsole: port nr=1 is already in use on vser0" \
	$k -chardev null,id=c0 -chardev null,id=c1 -device virtio-serial-device,id=vser0 \
	-device virtconsole,chardev=c0,nr=1 -device virtconsole,chardev=c1,nr=1
# shellcheck disable=SC2086
expect_usage_error bad-bus "bus 'vser1.0' not found" \
	$k -chardev null,id=c0 -device virtio-serial-device,id=vser0 \
	-device virtconsole,chardev=c0,bus=vser1.0
# shellcheck disable=SC2086
expect_usage_error port-no-name "virtserialport: name= is required" \
	$k -chardev null,id=c0 -device virtio-serial-device -device virtserialport,chardev=c0
# shellcheck disable=SC2086
expect_usage_error max-ports "property 'max_ports': '32' is out of range" \
	$k -device virtio-serial-device,max_ports=32
