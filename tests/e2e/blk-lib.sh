# Shared by the virtio-blk cases: the transport comes from the case name
# (…-mmio or …-pci), so each scenario runs on both.
blk_transport() {
	case "$E2E_CASE" in
	*-pci) BLK_DEV=virtio-blk-pci; BLK_MACHINE="-M pci" ;;
	*) BLK_DEV=virtio-blk-device; BLK_MACHINE= ;;
	esac
}
