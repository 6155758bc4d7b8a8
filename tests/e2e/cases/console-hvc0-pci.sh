# The same on virtio-pci (-M pci); see console-hvc0-mmio.sh.
# e2e-timeout: 150
. "$E2E_DIR/cases/console-hvc0-mmio.sh"
