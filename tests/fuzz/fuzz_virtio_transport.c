/*
 * The virtio transports' register files as a hostile guest sees them: a
 * sequence of bus accesses to PCI config space (ECAM and 0xCF8/0xCFC), the
 * virtio-pci BARs wherever the guest has moved them, the MSI-X table, a
 * virtio-mmio slot and guest RAM, interleaved with device-side events
 * (used-buffer and config interrupts, NEEDS_RESET). The PCI host, buses,
 * virtio core and both transports are the real ones; the device is a fake
 * with two queues, and interrupts are recorded; in the input's KVM mode
 * the eventfd plumbing (ioeventfds, irqfds, MSI routes) is faked and
 * checked for pairing. See docs/fuzzing.md for the
 * input format.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "devices/pci.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "fuzz_ops.h"

#define ECAM		0xe0000000ULL
#define MMIO32		0xc0000000ULL
#define MMIO32_SIZE	0x10000000ULL
#define MMIO64		0x800000000ULL
#define MMIO64_SIZE	0x800000000ULL
#define VMMIO_BASE	0xd0000000ULL
#define VMMIO_SIZE	0x200
#define SLOT		3
#define RAM_SIZE	0x40000
#define CFG_SIZE	12

static struct platform pf;
static struct gmem mem;
static uint8_t *ram;

/* --- a fake device: two queues, a small config space, nothing in the rings --- */
struct fake {
	struct virtio_dev vdev;
	uint8_t cfg[CFG_SIZE];
};

/* Functions 0 and 1 of one slot (multifunction), and a virtio-mmio slot. */
static struct fake fpci, fpci1, fmmio;

static uint64_t fake_features(struct virtio_dev *vdev)
{
	return 1ULL << 5 | 1ULL << 40;
}

static void fake_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	struct fake *f = container_of(vdev, struct fake, vdev);

	if (off > CFG_SIZE || len > CFG_SIZE - off)
		abort();	/* the core must bound device-config accesses */
	memcpy(data, f->cfg + off, len);
}

static void fake_write_config(struct virtio_dev *vdev, uint32_t off, const void *data,
			      unsigned len)
{
	struct fake *f = container_of(vdev, struct fake, vdev);

	if (off > CFG_SIZE || len > CFG_SIZE - off)
		abort();
	memcpy(f->cfg + off, data, len);
}

static int fake_activate(struct virtio_dev *vdev) { return 0; }
static void fake_reset(struct virtio_dev *vdev) { }

static void fake_queue_notify(struct virtio_dev *vdev, unsigned q)
{
	if (q >= 2)
		abort();	/* the transport must not kick a queue that is not there */
}

static const struct virtio_dev_ops fake_ops = {
	.device_id = 3,		/* console: any id will do */
	.get_features = fake_features,
	.config_size = CFG_SIZE,
	.read_config = fake_read_config,
	.write_config = fake_write_config,
	.activate = fake_activate,
	.reset = fake_reset,
	.queue_notify = fake_queue_notify,
};

/* --- the platform's interrupt side --- */
static unsigned irqs, msis;

static void fake_irq_set(void *opaque, unsigned gsi, int level) { irqs++; }

static int fake_msi_send(void *opaque, uint64_t addr, uint32_t data)
{
	msis++;
	return 0;
}

/*
 * KVM's eventfd plumbing, in the input's "KVM" mode: counted, so that every
 * binding is undone by the time the devices are gone. Few MSI routes, so
 * that running out (vectors then go through the loop) is reached too.
 */
#define ROUTES 4
static int ioevents, irqfds;
static bool route_used[ROUTES];

static int fake_ioeventfd(void *opaque, uint64_t addr, unsigned len, int pio, int fd,
			  int use_datamatch, uint64_t datamatch, int deassign)
{
	if (fd < 0 || (deassign && ioevents <= 0))
		abort();
	ioevents += deassign ? -1 : 1;
	return 0;
}

static int fake_irqfd(void *opaque, unsigned gsi, int fd, int resample_fd, int deassign)
{
	if (fd < 0 || (deassign && irqfds <= 0))
		abort();
	irqfds += deassign ? -1 : 1;
	return 0;
}

static int fake_route_alloc(void *opaque)
{
	for (unsigned i = 0; i < ROUTES; i++) {
		if (!route_used[i]) {
			route_used[i] = true;
			return 100 + i;
		}
	}
	return -ENOSPC;
}

static int fake_route_set(void *opaque, unsigned gsi, uint64_t addr, uint32_t data)
{
	if (gsi < 100 || gsi >= 100 + ROUTES || !route_used[gsi - 100])
		abort();	/* a route nobody allocated */
	return 0;
}

static void fake_route_free(void *opaque, unsigned gsi)
{
	if (gsi < 100 || gsi >= 100 + ROUTES || !route_used[gsi - 100])
		abort();
	route_used[gsi - 100] = false;
}

static uint64_t ecam_addr(unsigned slot, unsigned fn, unsigned reg)
{
	return ECAM + ((uint64_t)slot << 15 | fn << 12 | reg);
}

/* Where the guest has put BAR @bar of virtio-pci function @fn, as it reads it back. */
static uint64_t bar_addr(unsigned fn, int bar)
{
	uint64_t lo = 0, hi = 0;

	bus_read(&pf.mmio, ecam_addr(SLOT, fn, PCI_BASE_ADDRESS_0 + 4 * bar), &lo, 4);
	if ((lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64)
		bus_read(&pf.mmio, ecam_addr(SLOT, fn, PCI_BASE_ADDRESS_0 + 4 * bar + 4), &hi, 4);
	return (hi << 32 | lo) & ~0xfULL;
}

/* Device-side events: what a back end does between the guest's accesses. */
static void device_event(uint8_t e)
{
	struct virtio_dev *v = e & 1 ? &fmmio.vdev : e & 0x20 ? &fpci1.vdev : &fpci.vdev;

	switch ((e >> 1) & 3) {
	case 0:
		virtio_notify(v, (e >> 3) & 3);
		break;
	case 1:
		virtio_config_changed(v);
		break;
	case 2:
		virtio_needs_reset(v, "fuzz");
		break;
	default:
		virtio_queue_kick(v, (e >> 3) & 3);
		break;
	}
}

/*
 * One operation: a kind byte (bits 0-2 where, bit 3 write, bits 4-5 log2 of
 * the size, bit 6 function 1's BARs instead of function 0's), the address operand of that place, then for a write the value.
 */
static bool step(struct in *in)
{
	uint8_t kind, b8;
	uint16_t b16;
	uint64_t addr, val = 0;
	unsigned len;
	bool write;
	struct bus *bus = &pf.mmio;

	if (!take(in, &kind, 1))
		return false;
	write = kind & 8;
	len = 1u << ((kind >> 4) & 3);
	switch (kind & 7) {
	case 0:		/* ECAM: function, then register */
		if (!take(in, &b8, 1) || !take(in, &b16, 2))
			return false;
		addr = ecam_addr(b8 & 31, b8 >> 5, b16 & 0xfff);
		break;
	case 1:		/* a port, mostly 0xCF8-0xCFF */
		if (!take(in, &b8, 1))
			return false;
		bus = &pf.pio;
		addr = 0xcf8 + (b8 & 7);
		if (b8 & 0x80) {
			if (!take(in, &b16, 2))
				return false;
			addr = b16;
		}
		len = MIN(len, 4u);
		break;
	case 2:		/* BAR 4 (the virtio structures), wherever it is */
	case 3:		/* BAR 1 (MSI-X table and PBA) */
		if (!take(in, &b16, 2))
			return false;
		addr = bar_addr(kind >> 6 & 1, (kind & 7) == 2 ? 4 : 1) + b16;
		break;
	case 4:		/* the virtio-mmio slot */
		if (!take(in, &b16, 2))
			return false;
		addr = VMMIO_BASE + (b16 & (VMMIO_SIZE - 1));
		break;
	case 5:		/* anywhere */
		if (!take(in, &addr, 8))
			return false;
		break;
	case 6:		/* guest RAM, where rings live */
		if (!take(in, &b16, 2) || !take(in, &val, len))
			return false;
		memcpy(ram + 0x10000 + b16 % (RAM_SIZE - 0x10000 - 8), &val, len);
		return true;
	default:
		if (!take(in, &b8, 1))
			return false;
		device_event(b8);
		return true;
	}
	if (write) {
		if (!take(in, &val, len))
			return false;
		bus_write(bus, addr, &val, len);
	} else {
		bus_read(bus, addr, &val, len);
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_pci_opts o = { .bus = "pci.0", .slot = SLOT, .function = 0 };
	struct virtio_pci_opts o1 = { .bus = "pci.0", .slot = SLOT, .function = 1 };
	struct in in = { data, size };
	unsigned steps = 0;
	static struct loop *loop;
	uint8_t mode = 0;

	log_set_quiet(1);
	irqs = msis = 0;
	if (!ram) {
		ram = aligned_alloc(4096, RAM_SIZE);
		if (!ram)
			abort();
	}
	memset(ram, 0, RAM_SIZE);
	memset(&pf, 0, sizeof(pf));
	memset(&mem, 0, sizeof(mem));
	memset(&fpci, 0, sizeof(fpci));
	memset(&fpci1, 0, sizeof(fpci1));
	memset(&fmmio, 0, sizeof(fmmio));
	if (gmem_add(&mem, 0, RAM_SIZE, ram, -1, 0) || bus_init(&pf.pio, "pio") ||
	    bus_init(&pf.mmio, "mmio"))
		abort();
	pf.mem = &mem;
	pf.irq_set = fake_irq_set;
	pf.msi_send = fake_msi_send;
	pf.virtio_mmio_base = VMMIO_BASE;
	pf.virtio_mmio_size = VMMIO_SIZE;
	pf.virtio_mmio_gsi_base = 16;
	pf.virtio_mmio_slots = 1;
	/* The first byte: bit 0, with an event loop and KVM's eventfd plumbing. */
	take(&in, &mode, 1);
	ioevents = irqfds = 0;
	memset(route_used, 0, sizeof(route_used));
	if (mode & 1) {
		if (!loop && !(loop = loop_new()))
			abort();
		pf.loop = loop;
		pf.ioeventfd = fake_ioeventfd;
		pf.irqfd = fake_irqfd;
		pf.msi_route_alloc = fake_route_alloc;
		pf.msi_route_set = fake_route_set;
		pf.msi_route_free = fake_route_free;
	}
	if (pci_host_create(&pf, ECAM, MMIO32, MMIO32_SIZE, MMIO64, MMIO64_SIZE) ||
	    virtio_dev_init(&fpci.vdev, &fake_ops, &pf, 2, 256, "fuzz-pci") ||
	    virtio_pci_attach(&fpci.vdev, &pf, &o) ||
	    virtio_dev_init(&fpci1.vdev, &fake_ops, &pf, 2, 256, "fuzz-pci1") ||
	    virtio_pci_attach(&fpci1.vdev, &pf, &o1) ||
	    virtio_dev_init(&fmmio.vdev, &fake_ops, &pf, 2, 256, "fuzz-mmio") ||
	    virtio_mmio_attach(&fmmio.vdev, &pf))
		abort();

	while (steps++ < 4096 && step(&in))
		;
	/* For checking that a seed reaches the state it was written for. */
	if (getenv("FUZZ_TRACE"))
		fprintf(stderr, "pci status %#x, mmio status %#x, %u INTx edges, %u MSIs\n",
			fpci.vdev.status, fmmio.vdev.status, irqs, msis);

	virtio_mmio_detach(&fmmio.vdev);
	virtio_pci_detach(&fpci1.vdev);
	virtio_pci_detach(&fpci.vdev);
	pci_host_destroy(&pf);
	/* Every range the devices registered, wherever the guest moved it, is gone. */
	if (pf.mmio.nr || pf.pio.nr || ioevents || irqfds)
		abort();
	for (unsigned i = 0; i < ROUTES; i++)
		if (route_used[i])
			abort();
	bus_destroy(&pf.pio);
	bus_destroy(&pf.mmio);
	return 0;
}
