/*
 * Putting a virtio device on a transport. A virtio device file declares one
 * struct virtio_dev_type (below); the shared realize (transport.c) picks the
 * transport by the device type's bus ("virtio-blk-device" -> MMIO,
 * "virtio-blk-pci" -> PCI) and attaches it after the device's realize; the
 * device code is otherwise the same on both.
 */
#ifndef EMBER_VIRTIO_TRANSPORT_H
#define EMBER_VIRTIO_TRANSPORT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/aml.h"
#include "lib/util.h"

struct virtio_dev;
struct pci_dev;
struct virtq_held;
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
 * Slot @index's node VR<index> (_UID @index) as QEMU's microvm describes
 * it; Linux's virtio_mmio matches LNRO0005. An index above 99 or a range
 * not below 4 GiB fails @a (-EINVAL).
 */
static inline void acpi_dsdt_add_virtio_mmio(struct aml *a, int index, uint64_t base,
					     uint32_t size, unsigned gsi)
{
	char name[5] = { 'V', 'R', '0' + index / 10, '0' + index % 10 };
	size_t dev, crs;

	if (index < 0 || index > 99 || !size || base > 4 * GiB - size) {
		aml_fail(a, -EINVAL);
		return;
	}
	dev = aml_device(a, name);
	aml_hid(a, "LNRO0005");
	aml_name(a, "_UID");
	aml_int(a, index);
	aml_name(a, "_CCA");	/* DMA is cache-coherent */
	aml_int(a, 1);
	aml_name(a, "_CRS");
	crs = aml_res_begin(a);
	aml_res_mem32_fixed(a, true, base, size);
	aml_res_interrupt(a, AML_IRQ_CONSUMER, gsi);	/* level, high, exclusive */
	aml_res_end(a, crs);
	aml_end(a, dev);
}

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
/* The function of a device on virtio-pci (its snapshot). */
struct pci_dev *virtio_pci_dev(struct virtio_dev *vdev);

/*
 * A virtio device type, declared once by its device file: it becomes the
 * two device types STEM-pci (bus "pci", with bus= and addr=) and
 * STEM-device (bus "virtio-mmio", with its slot's DSDT node). Their shared
 * realize reads addr=, calls the device's realize, then attaches the
 * transport; their unrealize detaches it, then calls the device's.
 *
 * The device's state struct holds a `struct virtio_dev vdev` and a
 * `struct virtio_link link` (VIRTIO_STATE() gives the offsets).
 */
struct virtio_link {
	char *bus, *addr;	/* the -pci type's bus= and addr= */
	bool pci;		/* on virtio-pci, else on virtio-mmio */
	bool attached;		/* on its transport */
	bool dying;		/* being unrealized; set under vdev->lock */
};

struct device;
struct prop;

struct virtio_dev_type {
	const char *stem;	/* "virtio-blk": virtio-blk-pci, virtio-blk-device */
	const char *desc;	/* " (PCI)" or " (virtio-mmio)" is appended */
	const char *child_bus;	/* as struct device_type's */
	size_t state_size, vdev_offset, link_offset;
	/* The device's own properties; bus= and addr= are added for -pci. */
	const struct prop *props;
	/*
	 * Sets the device up up to virtio_dev_init(); the transport comes
	 * after. @owner is "-device NAME" for messages. On failure it undoes
	 * its own work.
	 */
	int (*realize)(struct device *dev, struct platform *pf, const char *owner);
	/* Optional: with dying set, before the transport goes (a vhost stops). */
	void (*stop)(struct device *dev, struct platform *pf);
	/* Optional: after the transport is gone, or when attaching it failed. */
	void (*unrealize)(struct device *dev, struct platform *pf);
	/*
	 * Optional, machine reset only (loop thread, after the device's
	 * reset): waits until no back-end I/O can still write guest RAM.
	 */
	void (*quiesce)(struct device *dev);
	/*
	 * The device keeps no state outside struct virtio_dev that a snapshot
	 * needs; quiesce drains it first.
	 */
	bool snapshot;
	/*
	 * Optional: the chains of queue @q the device popped last and still
	 * holds. A snapshot gives them back to the ring, so that the restored
	 * device pops them again.
	 */
	struct virtq_held (*held)(struct device *dev, unsigned q);
	/* Optional: false when this instance cannot be saved (its back end). */
	bool (*can_snapshot)(struct device *dev);
	/*
	 * Optional: the device's own guest-visible state, plain bytes at
	 * snap_off of its state struct, saved after virtio's and put back
	 * once the device started (activate); then post_load, optional, acts
	 * on them.
	 */
	size_t snap_off, snap_size;
	void (*post_load)(struct device *dev);
	/* Its -pci type can be hot-plugged (device_add) into a root port. */
	bool hotplug;
};

#define VIRTIO_STATE(type)						\
	.state_size = sizeof(type), .vdev_offset = offsetof(type, vdev),	\
	.link_offset = offsetof(type, link)

void virtio_dev_type_register(const struct virtio_dev_type *vt);
/* Is @dev one of the two device types made of @vt? */
bool virtio_dev_is(const struct device *dev, const struct virtio_dev_type *vt);
#define VIRTIO_DEV_TYPE(var)                                                  \
	static void __attribute__((constructor)) register_##var(void)        \
	{                                                                     \
		virtio_dev_type_register(&var);                               \
	}

#endif
