# virtio-blk: the guest sees /dev/vda with the right size and serial, makes
# an ext4 file system, writes a 64 MiB file with a known checksum, syncs and
# powers off; then L1 checks the image (e2fsck -fn) and reads the file back
# with debugfs: same checksum.
# e2e-timeout: 240
# e2e-needs: mkfs.ext4 e2fsck debugfs
# The same scenario on virtio-pci (-M pci); the transport follows the case name.
. "$E2E_DIR/cases/blk-ext4-mmio.sh"
