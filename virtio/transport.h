/*
 * Putting a virtio device on a transport. A device type's realize picks one
 * by its bus ("virtio-blk-device" -> MMIO, "virtio-blk-pci" -> PCI) and
 * calls it after virtio_dev_init(); the device code is otherwise the same.
 */
#ifndef EMBER_VIRTIO_TRANSPORT_H
#define EMBER_VIRTIO_TRANSPORT_H

#include <stdbool.h>

struct virtio_dev;
struct platform;
struct aml;
struct keyval;

/*
 * virtio-mmio version 2: takes the next slot of the machine
 * (platform_virtio_mmio_slot), registers its registers on pf->mmio, an
 * ioeventfd on QueueNotify per queue (when pf->ioeventfd is set) and a
 * level-triggered irqfd with resample on the slot's GSI.
 */
int virtio_mmio_attach(struct virtio_dev *vdev, struct platform *pf);
void virtio_mmio_detach(struct virtio_dev *vdev);
/* The slot's DSDT node (LNRO0005), from the device type's aml callback. */
void virtio_mmio_aml(struct virtio_dev *vdev, struct aml *dsdt);

/*
 * virtio-pci modern: a PCI function on pf->pci at @bus/@addr (addr -1:
 * first free slot) with the common, notify, ISR and device-config
 * capabilities and an MSI-X table of num_queues + 1 vectors.
 */
struct virtio_pci_opts {
	const char *bus;	/* "pci.0" or NULL */
	int slot;		/* -1: first free; else 0..31 */
	int function;		/* 0..7 */
};
int virtio_pci_attach(struct virtio_dev *vdev, struct platform *pf,
		      const struct virtio_pci_opts *o);
void virtio_pci_detach(struct virtio_dev *vdev);

/*
 * For device types that come in a -pci and an MMIO flavour: @pci picks the
 * transport; @o is used on PCI only.
 */
static inline int virtio_attach(struct virtio_dev *vdev, struct platform *plat, bool pci,
				const struct virtio_pci_opts *o)
{
	return pci ? virtio_pci_attach(vdev, plat, o) : virtio_mmio_attach(vdev, plat);
}

static inline void virtio_detach(struct virtio_dev *vdev, bool pci)
{
	if (pci)
		virtio_pci_detach(vdev);
	else
		virtio_mmio_detach(vdev);
}

/* bus= and addr= of a virtio-*-pci type, into the char * fields bus and addr. */
#define VIRTIO_PCI_PROPS(type)							\
	{ "bus", PROP_STR, offsetof(type, bus), NULL, "PCI bus (pci.0)" },	\
	{ "addr", PROP_STR, offsetof(type, addr), NULL,				\
	  "PCI slot[.function], hex (default: first free slot)" }

#endif
