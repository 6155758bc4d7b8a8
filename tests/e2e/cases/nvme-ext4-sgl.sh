# The nvme-ext4 scenario with the guest's nvme driver using SGLs for every
# I/O command (nvme.sgl_threshold=1): ember must have seen them.
# e2e-timeout: 240
# e2e-needs: mkfs.ext4 e2fsck debugfs
. "$E2E_DIR/cases/nvme-ext4.sh"
