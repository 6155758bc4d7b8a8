# virtio-rng on virtio-pci (-M pci); the scenario is rng-mmio.sh's.
# e2e-timeout: 240
. "$E2E_DIR/cases/rng-mmio.sh"
