# The scenario of net-traffic-mmio on virtio-pci (-M pci, virtio-net-pci);
# the transport follows the case name.
# e2e-timeout: 420
# e2e-needs: iperf3 ip ethtool qemu
. "$E2E_DIR/cases/net-traffic-mmio.sh"
