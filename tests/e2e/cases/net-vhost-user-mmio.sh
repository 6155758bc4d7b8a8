# The same scenario as net-vhost-user-pci with the first guest's NIC on
# virtio-mmio (microvm; its call eventfd served by ember's loop), the second
# on virtio-pci: they ping each other and move 8 MiB each way through testpmd.
# e2e-timeout: 600
# e2e-needs: dpdk-testpmd
. "$E2E_DIR/cases/net-vhost-user-pci.sh"
