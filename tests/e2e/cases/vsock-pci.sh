# vhost-vsock on virtio-pci (-M pci): interrupts are MSI-X vectors, bound
# to KVM irqfds that the kernel's vhost writes directly.
# e2e-timeout: 180
. "$E2E_DIR/cases/vsock-mmio.sh"
