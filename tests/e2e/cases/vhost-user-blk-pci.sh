# The same scenario on virtio-pci (-M pci): kick through the ioeventfd,
# completions through the queue's MSI-X irqfd.
# e2e-timeout: 180
# e2e-needs: qemu-storage-daemon
. "$E2E_DIR/cases/vhost-user-blk-mmio.sh"
