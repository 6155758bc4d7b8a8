/*
 * What a device may use of the machine it is plugged into. The machine (vmm/)
 * fills this in; devices never include vmm/ headers, and unit tests build a
 * platform of their own with fake interrupt and stop callbacks.
 */
#ifndef EMBER_PLATFORM_H
#define EMBER_PLATFORM_H

#include <stdint.h>

#include "devices/bus.h"

struct clock_src;
struct loop;
struct gmem;
struct device;
struct pci_host;

/* What a device reports for the machine's clients to hear of (QMP events). */
enum platform_event {
	PF_EVENT_BALLOON_CHANGE,	/* the balloon's size changed */
	PF_EVENT_HOTPLUG,		/* the guest powered off a slot it was asked to free */
	PF_EVENT_NR,
};

/* Why the machine stops. */
enum stop_reason {
	STOP_POWEROFF,		/* guest ACPI S5: exit 0 */
	STOP_RESET,		/* guest reboot: exit 0 */
	STOP_SIGNAL,		/* SIGTERM/SIGINT */
	STOP_PANIC,		/* guest kernel panic reported by pvpanic */
	STOP_ERROR,		/* fatal: exit non-zero */
};

struct platform {
	struct bus pio;
	struct bus mmio;
	struct loop *loop;
	struct gmem *mem;
	/* Time for timed devices; NULL: the host's (unit tests fake it). */
	const struct clock_src *clock;
	unsigned ncpus;

	/* Drive interrupt line @gsi of the IOAPIC (level 1/0; edge = 1 then 0). */
	void (*irq_set)(void *opaque, unsigned gsi, int level);
	void *irq_opaque;
	/* Ask the machine to stop; callable from any thread. */
	void (*request_stop)(void *opaque, enum stop_reason why, const char *msg);
	/* Report an event; callable from any thread (same opaque). */
	void (*event)(void *opaque, enum platform_event ev);
	void *stop_opaque;

	struct device *devices;	/* creation order */

	/*
	 * KVM eventfd plumbing for virtio transports. NULL in unit tests: a
	 * transport then handles notifies as ordinary bus writes and raises
	 * interrupts through irq_set / msi_send.
	 */
	int (*ioeventfd)(void *opaque, uint64_t addr, unsigned len, int pio, int fd,
			 int use_datamatch, uint64_t datamatch, int deassign);
	int (*irqfd)(void *opaque, unsigned gsi, int fd, int resample_fd, int deassign);
	int (*msi_route_alloc)(void *opaque);
	int (*msi_route_set)(void *opaque, unsigned gsi, uint64_t addr, uint32_t data);
	void (*msi_route_free)(void *opaque, unsigned gsi);
	int (*msi_send)(void *opaque, uint64_t addr, uint32_t data);
	/*
	 * Guest-physical memory that is not RAM and comes and goes while the
	 * guest runs (a passed-through BAR): mem_map returns a handle for
	 * mem_unmap, or -errno. NULL in unit tests (the BAR stays trapped).
	 */
	int (*mem_map)(void *opaque, uint64_t gpa, uint64_t size, void *hva);
	void (*mem_unmap)(void *opaque, int handle);
	/* A VFIO group fd for KVM's VFIO device (kvm_vfio_group); NULL in unit tests. */
	int (*vfio_group)(void *opaque, int group_fd, int add);
	void *kvm_opaque;

	/* virtio-mmio slots of the machine (base, size, GSI), handed out in order. */
	uint64_t virtio_mmio_base;
	uint32_t virtio_mmio_size;	/* bytes per slot */
	unsigned virtio_mmio_gsi_base;
	unsigned virtio_mmio_slots, virtio_mmio_used;

	/* The PCI host bridge, when the machine type has one (devices/pci.h). */
	struct pci_host *pci;
};

/* Next free virtio-mmio slot; -ENOSPC (one message) when all are taken. */
int platform_virtio_mmio_slot(struct platform *pf, uint64_t *base, unsigned *gsi);

/* An interrupt line a device raises; gsi is fixed when the device is placed. */
struct irq_pin {
	struct platform *pf;
	unsigned gsi;
};

static inline void irq_pin_set(struct irq_pin *p, int level)
{
	if (p->pf && p->pf->irq_set)
		p->pf->irq_set(p->pf->irq_opaque, p->gsi, level);
}

static inline void platform_stop(struct platform *pf, enum stop_reason why,
				 const char *msg)
{
	if (pf->request_stop)
		pf->request_stop(pf->stop_opaque, why, msg);
}

static inline void platform_event(struct platform *pf, enum platform_event ev)
{
	if (pf && pf->event)
		pf->event(pf->stop_opaque, ev);
}

#endif
