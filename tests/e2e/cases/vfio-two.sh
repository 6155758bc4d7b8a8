# -device vfio-pci twice: the IOMMU lab's edu function and its NVMe function
# (each in its own IOMMU group) passed to one L2 guest. Inside the guest:
# edu answers its identity and factorial registers and does DMA, and the
# stock nvme driver binds with MSI-X and reads the 4 MiB L1 wrote; both
# share the one container's DMA map of guest RAM. Afterwards L1 takes the
# NVMe function back and reads its data.
# e2e-timeout: 300
# e2e-lab: iommu
. "$E2E_LIB"
. "$E2E_DIR/vfio-lib.sh"
need_ember
need_kvm
vfio_pair_setup
vfio_pair_check "$E2E_TMP/ember.log"
vfio_nvme_back
