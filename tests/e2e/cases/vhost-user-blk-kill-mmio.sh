# The same scenario on virtio-mmio: the daemon's call fd is the device's
# loop-served interrupt eventfd there.
# e2e-timeout: 180
# e2e-needs: qemu-storage-daemon
. "$E2E_DIR/cases/vhost-user-blk-kill-pci.sh"
