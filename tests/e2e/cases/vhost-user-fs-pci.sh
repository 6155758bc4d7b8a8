# The same scenario on virtio-pci (-M pci): kicks through the queues'
# ioeventfds, completions through their MSI-X irqfds, served by virtiofsd.
# e2e-timeout: 180
# e2e-needs: /usr/lib/qemu/virtiofsd
. "$E2E_DIR/cases/vhost-user-fs-mmio.sh"
