/*
 * PCI functions behind ember's one host bridge ("pci.0", pci_host.c), on
 * its root bus or on the buses that bridges add (pci_bridge.c).
 *
 * A device embeds struct pci_dev and builds it the way firmware would find
 * it: pci_dev_init() (ids, class), pci_bar_init() per BAR, pci_cap_add()
 * and pci_msix_init() for capabilities, then pci_dev_register() puts it in
 * a slot and gives its BARs addresses inside the host's windows. From then
 * on the guest owns config space: BARs move when it reprograms them and
 * decode only while the command register enables them.
 *
 * Nothing the guest writes into config space or a BAR is trusted: writes
 * go through a per-byte write mask, BAR placements outside the windows or
 * over another BAR are left unmapped, and MSI-X table entries reach KVM
 * only as routes the guest could have sent itself.
 *
 * Threads and locks:
 *   host->lock      config space of every function, the 0xcf8 register,
 *                   BAR placement (taken on vCPU threads by config
 *                   accesses, and by (un)registration);
 *   host BAR buses  BAR handlers run under their read lock: a handler must
 *                   not access config space through the host;
 *   msix.lock       the MSI-X table, PBA and KVM routes;
 *   host->irq_lock  INTx line levels; a leaf.
 * Order: host->lock, then msix.lock or irq_lock. pci_msix_notify() and
 * pci_intx_set() may be called from any thread.
 */
#ifndef EMBER_PCI_H
#define EMBER_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/pci_regs.h>

#include "devices/bus.h"

struct platform;

#define PCI_CFG_SIZE		256
#define PCIE_CFG_SIZE		4096
#define PCI_SLOTS		32
#define PCI_FUNCS		8
#define PCI_NUM_BARS		6
#define PCI_INTX_PINS		4

/*
 * The parts of the layout that are not pci_host_create() arguments: the
 * ECAM holds buses 0 to PCI_BUSES - 1 (1 MiB each), I/O BARs go to 0xc000-0xffff (above every
 * legacy port ember emulates), and INTA-INTD of the slots share GSIs 20-23
 * (level, active high; slot s pin p uses 20 + (s + p) % 4, the usual swizzle),
 * which leaves 16-19 to virtio-mmio slots on the same machine.
 */
#define PCI_ECAM_BUS_SIZE	(1ULL << 20)
#define PCI_BUSES		32
#define PCI_IOWIN_BASE		0xc000
#define PCI_IOWIN_SIZE		0x4000
#define PCI_INTX_GSI_BASE	20

/* The bridge's ids: Red Hat's "QEMU PCIe host bridge", which no OS quirks. */
#define PCI_HOST_VENDOR		0x1b36
#define PCI_HOST_DEVICE		0x0008

enum pci_bar_type { PCI_BAR_MEM32, PCI_BAR_MEM64, PCI_BAR_IO };

struct pci_bar {
	uint64_t size;			/* power of two; 0: no BAR here */
	enum pci_bar_type type;
	bool prefetch;
	const struct bus_ops *ops;	/* offsets are into the BAR */
	void *opaque;
	char name[64];			/* "virtio-blk disk0 BAR 4": bus messages */
	bool mapped;			/* decoding now, at addr */
	uint64_t addr;
	uint64_t home;			/* where pci_dev_register put it; a reset too */
};

struct pci_msix_vec {
	struct pci_dev *dev;
	unsigned index;
	int fd;			/* eventfd a device writes to fire; -1 without a loop */
	int gsi;		/* KVM MSI route; -1 without one */
	bool irqfd;		/* fd bound to gsi: KVM delivers without ember */
	bool route_tried;	/* route_addr/route_data were given to KVM */
	bool routed;		/* ...and KVM took them */
	uint64_t route_addr;
	uint32_t route_data;
};

struct pci_msix {
	unsigned nvec;		/* 0: no MSI-X */
	int bar;
	uint16_t cap;		/* capability offset in config space */
	uint32_t pba_off;	/* in the BAR; the table is at 0 */
	pthread_mutex_t lock;
	uint8_t *table;		/* nvec entries of 16 bytes, as the guest wrote them */
	uint64_t *pba;
	struct pci_msix_vec *v;
	bool enabled, masked;	/* the message control bits */
};

struct pci_bus;

struct pci_dev {
	struct platform *pf;
	struct pci_host *host;		/* set while registered */
	struct pci_bus *bus;		/* the bus it is on, while registered */
	struct pci_bus *sec;		/* a bridge's secondary bus, once added */
	uint8_t devfn;			/* slot << 3 | function */
	char owner[64];			/* for messages: "virtio-blk disk0" */
	unsigned cfg_size;		/* 256, or 4096 for PCI Express */
	uint8_t cfg[PCIE_CFG_SIZE];
	uint8_t wmask[PCIE_CFG_SIZE];	/* bits the guest may change */
	uint16_t cap_free;		/* next free capability offset */
	uint16_t cap_last;
	struct pci_bar bar[PCI_NUM_BARS];
	struct pci_msix msix;

	/* INTx (pin A), under host->irq_lock. */
	unsigned intx_gsi;
	bool intx_level, intx_driven, intx_disabled;
	bool warned;			/* one BAR placement message per device */

	/*
	 * Optional hooks, called under host->lock after the generic handling:
	 * cfg_read may replace what a read returns (a capability that is a
	 * window, like virtio's PCI cfg access), cfg_write sees every write;
	 * bar_map follows each BAR as it starts or stops decoding at @addr.
	 */
	void (*cfg_read)(struct pci_dev *d, unsigned off, void *data, unsigned len);
	void (*cfg_write)(struct pci_dev *d, unsigned off, const void *data,
			  unsigned len);
	void (*bar_map)(struct pci_dev *d, int bar, bool mapped, uint64_t addr);
	/* After the generic part of pci_dev_reset(): what firmware set up. */
	void (*reset)(struct pci_dev *d);
	void *opaque;
};

/*
 * A bus: the root one (pci.0) or a bridge's secondary side, named after
 * the bridge's id. Its number and its windows are what ember, acting as
 * firmware, gave the bridge; the guest may renumber and move them, and
 * config routing and BAR decode then follow the bridge's registers.
 */
struct pci_bus {
	char name[64];
	struct pci_dev *self;		/* the bridge; NULL: the root bus */
	struct pci_bus *parent;
	bool one_slot;			/* a root port's: device 0 only */
	uint8_t nr, sub;		/* firmware's secondary and subordinate */
	uint64_t mem_base, mem_size;	/* the bridge's memory window; 0: closed */
	uint32_t io_base, io_size;	/* its I/O window; 0: closed */
	struct pci_dev *dev[PCI_SLOTS * PCI_FUNCS];
};

/* The host bridge's layout as the ACPI tables describe it. */
struct pci_layout {
	uint64_t ecam_base, ecam_size;
	uint8_t bus_first, bus_last;
	uint64_t mmio32_base, mmio32_size;
	uint64_t mmio64_base, mmio64_size;	/* size 0: no 64-bit window */
	uint16_t io_base, io_size;
	unsigned intx_gsi[PCI_INTX_PINS];	/* INTA..INTD of slot 0 */
};

/* A window of the host bridge: accesses forward to @bus at @base + offset. */
struct pci_window {
	struct bus *parent, *bus;
	uint64_t base, size;
	bool registered;
};

struct pci_host {
	struct pci_layout layout;
	struct platform *pf;
	pthread_mutex_t lock;
	uint32_t cf8;				/* CONFIG_ADDRESS */
	struct pci_bus root;			/* pci.0, bus 0 */
	struct pci_bus *buses[PCI_BUSES];	/* root first, then as bridges came */
	unsigned nbuses;
	struct pci_dev bridge;			/* 00:00.0 */
	struct bus mem, io;			/* mapped BARs; the windows forward here */
	struct pci_window win[3];		/* 32-bit, 64-bit, I/O */
	bool cfg_ports, ecam;			/* registered on pf->pio, pf->mmio */
	pthread_mutex_t irq_lock;
	unsigned intx_count[PCI_INTX_PINS];	/* functions asserting each line */
};

static inline const struct pci_layout *pci_host_layout(const struct pci_host *h)
{
	return &h->layout;
}

/* --- the host bridge (pci_host.c) --- */

/*
 * Creates pci.0 and sets pf->pci: config access through 0xcf8/0xcfc and
 * the ECAM at @ecam_base, BARs in the 32-bit window (below 4 GiB) and the
 * 64-bit one (@mmio64_size 0: none), I/O BARs at PCI_IOWIN_BASE. The windows
 * are registered on pf->mmio / pf->pio as a whole, so a guest moving a BAR
 * never changes those buses (a config write arrives holding their locks).
 */
int pci_host_create(struct platform *pf, uint64_t ecam_base,
		    uint64_t mmio32_base, uint64_t mmio32_size,
		    uint64_t mmio64_base, uint64_t mmio64_size);
/* Every function must be unregistered first. */
void pci_host_destroy(struct platform *pf);
/*
 * The host bridge's DSDT node \_SB.PCI0 (PNP0A08, PCI Express) from its
 * layout (pci_host_aml.c): _CRS with the bus range, the config ports and
 * the I/O, 32-bit and 64-bit windows; _PRT routing INTA-INTD of the 32
 * slots (swizzled) to four link devices GSI0-GSI3 that hold the line's GSI
 * as level, active high (without links, Linux reads a _PRT GSI as active
 * low); _OSC granting native PCIe hot-plug, SHPC, PME, AER and the PCIe
 * capability; RES0 (PNP0C02) reserving the ECAM, where Linux looks before
 * it trusts the MCFG table. A layout it cannot describe fails @a (-EINVAL).
 */
struct aml;
void acpi_dsdt_add_pci_host(struct aml *a, const struct pci_layout *l);

/*
 * Plugs @d into @bus ("pci.0", "pcie.0", a bridge's id, or NULL for pci.0)
 * at @slot (-1: first free, from 1 on pci.0, from 0 behind a bridge) and
 * @function, and assigns its BARs as firmware would (naturally aligned,
 * first fit; 64-bit BARs in the 64-bit window when there is one; behind a
 * bridge, in the bridge's windows). Errors (one message, prefixed with
 * @owner, naming the bus): unknown bus or not a PCI one -ENODEV, bad
 * address -EINVAL, taken slot -EEXIST, no free slot or window room -ENOSPC.
 */
int pci_dev_register(struct pci_host *h, struct pci_dev *d, const char *bus,
		     int slot, int function, const char *owner);
/*
 * QEMU's addr= of a PCI device: slot[.function] in hex (4, 0x4, 04.0) into
 * @slot and @function; NULL gives slot -1 (first free), function 0. A bad
 * one is -EINVAL after one message prefixed with @owner.
 */
int pci_parse_addr(const char *s, int *slot, int *function, const char *owner);
/* Stops the BARs decoding (no handler runs once this returns), drops INTx. */
void pci_dev_unregister(struct pci_dev *d);
/*
 * Machine reset of every function on every bus and of the host's CONFIG_ADDRESS:
 * config space as pci_dev_register left it (command 0, BARs at their first
 * addresses, so none decodes), MSI-X off with every vector masked and no
 * irqfd bound, INTx low. vCPUs parked.
 */
void pci_host_reset(struct pci_host *h);

/* The PCI bus named @name (NULL: pci.0), or NULL. host->lock not held. */
struct pci_bus *pci_bus_find(struct pci_host *h, const char *name);
/*
 * Adds the secondary bus of bridge @d (registered), named @name, with
 * windows of @mem_size and @io_size bytes (0: closed; multiples of 1 MiB
 * and 4 KiB) taken from the bus @d is on, and numbers every bus again,
 * depth first, as firmware does. -ENOSPC (no bus number or window room),
 * -EEXIST (name taken), one message naming @d.
 */
int pci_bus_add(struct pci_dev *d, const char *name, bool one_slot,
		uint64_t mem_size, uint32_t io_size);
/* Takes @d's secondary bus away; every function on it unregistered first. */
void pci_bus_remove(struct pci_dev *d);
/* A bridge's windows or command changed: BARs below decode anew. host->lock held. */
void pci_bus_update_bars(struct pci_bus *b);

/* --- bridges (pci_bridge.c) --- */

/*
 * A type-1 header: @d as a PCI-to-PCI bridge (class 0x0604) whose bus
 * numbers, I/O window (16-bit), memory window and 64-bit prefetchable
 * window the guest may program; pci_host.c routes config cycles and BAR
 * decode through them. Then pci_dev_register() and pci_bus_add().
 */
void pci_bridge_init(struct pci_dev *d, struct platform *pf, uint16_t vendor,
		     uint16_t device, unsigned cfg_size);
/* Whether bridge @d forwards [addr, +size) of I/O (@io) or memory space now. */
bool pci_bridge_forwards(const struct pci_dev *d, bool io, uint64_t addr,
			 uint64_t size);
/* The bridge's cfg_write hook, for a bridge that has its own to chain it. */
void pci_bridge_cfg_write(struct pci_dev *d, unsigned off, const void *data,
			  unsigned len);
/* Writes the bus numbers and windows of @d's secondary bus into its config. */
void pci_bridge_set_home(struct pci_dev *d);

/* --- a function (pci.c) --- */

/* One function's part of pci_host_reset; host->lock held. */
void pci_dev_reset(struct pci_dev *d);

/* @class: base class << 16 | subclass << 8 | prog-if. @cfg_size 256 or 4096. */
void pci_dev_init(struct pci_dev *d, struct platform *pf, uint16_t vendor,
		  uint16_t device, uint32_t class, uint8_t revision,
		  uint16_t subsys_vendor, uint16_t subsys_id, unsigned cfg_size);
/* Releases the MSI-X vectors (routes, irqfds, eventfds). After unregister. */
void pci_dev_destroy(struct pci_dev *d);

/*
 * Declares BAR @bar (a 64-bit BAR takes @bar + 1 too) of @size bytes, a
 * power of two (memory at least 16, I/O 4 to 256). -EINVAL on misuse.
 */
int pci_bar_init(struct pci_dev *d, int bar, enum pci_bar_type type,
		 uint64_t size, bool prefetch, const struct bus_ops *ops,
		 void *opaque);

/* Appends a capability of @len bytes; returns its offset or -ENOSPC. */
int pci_cap_add(struct pci_dev *d, uint8_t id, unsigned len);

/* Raw config space for the device itself (no write mask), little-endian. */
void pci_cfg_set(struct pci_dev *d, unsigned off, uint32_t v, unsigned len);
uint32_t pci_cfg_get(const struct pci_dev *d, unsigned off, unsigned len);
/* Lets the guest change the bits of @mask in the @len bytes at @off. */
void pci_cfg_wmask(struct pci_dev *d, unsigned off, uint32_t mask, unsigned len);

/*
 * Guest config accesses (the host calls these under its lock). Reads past
 * cfg_size return all-ones, writes there are dropped.
 */
void pci_cfg_read(struct pci_dev *d, unsigned off, void *data, unsigned len);
void pci_cfg_write(struct pci_dev *d, unsigned off, const void *data,
		   unsigned len);

/*
 * MSI-X with @nvec vectors (1-2048): the table at 0 and the PBA after it
 * in BAR @bar, a 32-bit memory BAR this call declares. Each vector gets an
 * eventfd watched on pf->loop and, when the platform has them, a KVM MSI
 * route and an irqfd bound while the vector is unmasked, so a fire from
 * any thread reaches the guest without ember. Returns the capability
 * offset or a negative errno (one message).
 */
int pci_msix_init(struct pci_dev *d, unsigned nvec, int bar);
bool pci_msix_enabled(struct pci_dev *d);
/*
 * Fires vector @vec: delivered now, or left pending while masked and
 * delivered on unmask. Returns false (nothing done) while MSI-X is
 * disabled: the device then uses INTx.
 */
bool pci_msix_notify(struct pci_dev *d, unsigned vec);

/* Drives INTA (level); sharing, INTx-disable and MSI-X enable are honoured. */
void pci_intx_set(struct pci_dev *d, bool level);

/* --- between pci.c and pci_host.c --- */
void pci_update_bars(struct pci_dev *d);
uint64_t pci_bar_addr(const struct pci_dev *d, int bar);
/* Whether the bridges above @d forward BAR @bar at @addr. host->lock held. */
bool pci_host_bar_routed(const struct pci_dev *d, int bar, uint64_t addr);
int pci_host_bar_map(struct pci_dev *d, int bar, uint64_t addr);
void pci_host_bar_unmap(struct pci_dev *d, int bar);
void pci_host_intx_update(struct pci_dev *d);

#endif
