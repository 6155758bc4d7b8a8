# The balloon scenario of balloon-mmio on virtio-pci (-M pci).
# e2e-timeout: 300
. "$E2E_DIR/cases/balloon-mmio.sh"
