# Snapshot to a file and restore, as snapshot-file, on virtio-pci (-M pci):
# the functions' config space and MSI-X come back with the rest.
# e2e-timeout: 420
# e2e-needs: socat mkfs.ext4 e2fsck debugfs
. "$E2E_DIR/cases/snapshot-file.sh"
