# virtio-net with two queue pairs (-netdev queues=2, mq=on, two vCPUs), then
# with the kernel's vhost-net (vhost=on) on PCI, and on MMIO with two pairs:
# the net-smoke scenario (ping, 16 MiB each way checksummed) in each.
# e2e-timeout: 600
. "$E2E_DIR/cases/net-smoke.sh"
