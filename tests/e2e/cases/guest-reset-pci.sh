# The scenario of guest-reset-mmio on virtio-pci (-M pci); the transport and
# the reset path (ACPI reset register) follow the case name.
# e2e-timeout: 300
# e2e-needs: socat
. "$E2E_DIR/cases/guest-reset-mmio.sh"
