# A read-only disk: the guest sees it read-only, its writes fail, and the
# image's hash is unchanged. A second disk in the same VM stays writable,
# and the serial console works alongside both.
# e2e-timeout: 180
# The same scenario on virtio-pci (-M pci); the transport follows the case name.
. "$E2E_DIR/cases/blk-readonly-mmio.sh"
