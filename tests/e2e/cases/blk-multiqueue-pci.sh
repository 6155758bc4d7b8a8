# Two vCPUs, num-queues=2: the guest's blk-mq has two hardware queues and
# I/O from both CPUs completes.
# e2e-timeout: 180
# The same scenario on virtio-pci (-M pci); the transport follows the case name.
. "$E2E_DIR/cases/blk-multiqueue-mmio.sh"
