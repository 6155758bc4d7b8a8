/*
 * The PCI host bridge and functions, driven the way a guest drives them:
 * config cycles through 0xcf8/0xcfc and the ECAM, BAR accesses through the
 * machine's buses. Interrupts and KVM routes go to fakes that record them
 * and check that routes and irqfds are bound and unbound in pairs.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "devices/pci.h"
#include "devices/pci_snap.h"
#include "lib/log.h"
#include "lib/snapfile.h"
#include "pci_guest.h"

/* --- fakes: IOAPIC lines, MSIs, KVM routes and irqfds --- */

static int irq_level[24];

static void fake_irq_set(void *opaque, unsigned gsi, int level)
{
	assert_true(gsi < 24);
	irq_level[gsi] = level;
}

#define ROUTES 8
static struct route { bool used, bound; uint64_t addr; uint32_t data; int fd; } route[ROUTES];
static unsigned route_sets;

static struct route *route_of(unsigned gsi)
{
	assert_true(gsi >= 24 && gsi < 24 + ROUTES);
	assert_true(route[gsi - 24].used);
	return &route[gsi - 24];
}

static int fake_route_alloc(void *opaque)
{
	for (unsigned i = 0; i < ROUTES; i++)
		if (!route[i].used) {
			route[i] = (struct route){ .used = true, .fd = -1 };
			return 24 + i;
		}
	return -ENOSPC;
}

static int fake_route_set(void *opaque, unsigned gsi, uint64_t addr, uint32_t data)
{
	struct route *r = route_of(gsi);

	route_sets++;
	if (addr == 0xbad)	/* what KVM would refuse */
		return -EINVAL;
	r->addr = addr;
	r->data = data;
	return 0;
}

static void fake_route_free(void *opaque, unsigned gsi)
{
	struct route *r = route_of(gsi);

	assert_false(r->bound);
	r->used = false;
}

static int fake_irqfd(void *opaque, unsigned gsi, int fd, int resample, int deassign)
{
	struct route *r = route_of(gsi);

	assert_int_equal(resample, -1);
	assert_int_equal(r->bound, !!deassign);	/* bound and unbound in pairs */
	if (!deassign)
		r->fd = fd;
	else
		assert_int_equal(r->fd, fd);
	r->bound = !deassign;
	return 0;
}

static void fake_kvm(void)
{
	pf.msi_route_alloc = fake_route_alloc;
	pf.msi_route_set = fake_route_set;
	pf.msi_route_free = fake_route_free;
	pf.irqfd = fake_irqfd;
	pf.loop = loop_new();
	assert_non_null(pf.loop);
}

/* --- a test function: BAR 0 mem32 4K, BAR 2 mem64 16K, BAR 4 I/O 32 --- */

struct tbar {
	int n;
	unsigned reads, writes;
	uint64_t last_off;
	uint32_t last_val;
};

struct tdev {
	struct pci_dev pci;
	struct tbar bar[PCI_NUM_BARS];
	unsigned maps;
	bool mapped[PCI_NUM_BARS];
	uint64_t map_addr[PCI_NUM_BARS];
};

static void tbar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct tbar *b = opaque;
	uint64_t v = (uint64_t)(0xb0 + b->n) << 24 | off;

	b->reads++;
	memcpy(data, &v, len);
}

static void tbar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct tbar *b = opaque;

	b->writes++;
	b->last_off = off;
	b->last_val = 0;
	memcpy(&b->last_val, data, len < 4 ? len : 4);
}

static const struct bus_ops tbar_ops = { .read = tbar_read, .write = tbar_write };

static void tdev_bar_map(struct pci_dev *d, int bar, bool mapped, uint64_t addr)
{
	struct tdev *t = (struct tdev *)d;

	t->maps++;
	assert_int_not_equal(t->mapped[bar], mapped);
	t->mapped[bar] = mapped;
	t->map_addr[bar] = addr;
}

static void tdev_init(struct tdev *t, unsigned msix_vectors)
{
	pci_dev_init(&t->pci, &pf, 0x1234, 0x5678, 0xff0000, 7, 0x1af4, 0x0042,
		     PCI_CFG_SIZE);
	memset(t->bar, 0, sizeof(t->bar));
	t->maps = 0;
	memset(t->mapped, 0, sizeof(t->mapped));
	for (int i = 0; i < PCI_NUM_BARS; i++)
		t->bar[i].n = i;
	assert_int_equal(pci_bar_init(&t->pci, 0, PCI_BAR_MEM32, 4096, false,
				      &tbar_ops, &t->bar[0]), 0);
	assert_int_equal(pci_bar_init(&t->pci, 2, PCI_BAR_MEM64, 16384, true,
				      &tbar_ops, &t->bar[2]), 0);
	assert_int_equal(pci_bar_init(&t->pci, 4, PCI_BAR_IO, 32, false,
				      &tbar_ops, &t->bar[4]), 0);
	if (msix_vectors)
		assert_true(pci_msix_init(&t->pci, msix_vectors, 5) >= 0x40);
	t->pci.bar_map = tdev_bar_map;
}

static struct tdev tdev_a, tdev_b;

/* --- guest-side accessors --- */

static uint32_t cf8_addr(unsigned bus, unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000u | bus << 16 | slot << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t cf8_read(unsigned bus, unsigned slot, unsigned fn, unsigned reg,
			 unsigned len)
{
	uint32_t a = cf8_addr(bus, slot, fn, reg), v = 0;

	assert_true(bus_write(&pf.pio, 0xcf8, &a, 4));
	assert_true(bus_read(&pf.pio, 0xcfc + (reg & 3), &v, len));
	return v;
}

static void cf8_write(unsigned bus, unsigned slot, unsigned fn, unsigned reg,
		      uint32_t v, unsigned len)
{
	uint32_t a = cf8_addr(bus, slot, fn, reg);

	assert_true(bus_write(&pf.pio, 0xcf8, &a, 4));
	assert_true(bus_write(&pf.pio, 0xcfc + (reg & 3), &v, len));
}

/* --- fixtures --- */

static int setup(void **state)
{
	memset(&pf, 0, sizeof(pf));
	memset(irq_level, 0, sizeof(irq_level));
	memset(route, 0, sizeof(route));
	nmsi = route_sets = 0;
	log_set_quiet(1);
	bus_init(&pf.pio, "pio");
	bus_init(&pf.mmio, "mmio");
	pf.irq_set = fake_irq_set;
	pf.msi_send = fake_msi_send;
	return 0;
}

static int host_up(void)
{
	return pci_host_create(&pf, ECAM, MMIO32, MMIO32_SIZE, MMIO64, MMIO64_SIZE);
}

static int setup_host(void **state)
{
	setup(state);
	assert_int_equal(host_up(), 0);
	return 0;
}

static int teardown(void **state)
{
	struct tdev *all[] = { &tdev_a, &tdev_b };

	for (unsigned i = 0; i < 2; i++) {
		pci_dev_unregister(&all[i]->pci);
		pci_dev_destroy(&all[i]->pci);
		memset(all[i], 0, sizeof(*all[i]));
	}
	pci_host_destroy(&pf);
	/* Every window and port is gone again. */
	assert_int_equal(pf.pio.nr, 0);
	assert_int_equal(pf.mmio.nr, 0);
	for (unsigned i = 0; i < ROUTES; i++)
		assert_false(route[i].used);
	if (pf.loop)
		loop_free(pf.loop);
	bus_destroy(&pf.pio);
	bus_destroy(&pf.mmio);
	return 0;
}

static void plug(struct tdev *t, int slot, unsigned msix_vectors)
{
	tdev_init(t, msix_vectors);
	assert_int_equal(pci_dev_register(pf.pci, &t->pci, "pci.0", slot, 0, "tdev"), 0);
}

/* --- config cycles --- */

static void t_cf8_widths(void **state)
{
	uint32_t a, v;

	/* The host bridge, 00:00.0, in every width and byte lane. */
	assert_int_equal(cf8_read(0, 0, 0, 0, 4), 0x00081b36);
	assert_int_equal(cf8_read(0, 0, 0, 0, 2), 0x1b36);
	assert_int_equal(cf8_read(0, 0, 0, 2, 2), 0x0008);
	assert_int_equal(cf8_read(0, 0, 0, 0, 1), 0x36);
	assert_int_equal(cf8_read(0, 0, 0, 1, 1), 0x1b);
	assert_int_equal(cf8_read(0, 0, 0, 2, 1), 0x08);
	assert_int_equal(cf8_read(0, 0, 0, 3, 1), 0x00);
	assert_int_equal(cf8_read(0, 0, 0, 8, 4) >> 8, 0x060000);
	assert_int_equal(cf8_read(0, 0, 0, 0x0e, 1), 0);	/* type 0, one function */
	assert_int_equal(cf8_read(0, 0, 0, PCI_INTERRUPT_PIN, 1), 0);

	/* A writable byte in the middle of a dword. */
	cf8_write(0, 0, 0, PCI_LATENCY_TIMER, 0x5a, 1);
	assert_int_equal(cf8_read(0, 0, 0, PCI_LATENCY_TIMER, 1), 0x5a);
	assert_int_equal(cf8_read(0, 0, 0, PCI_CACHE_LINE_SIZE, 2), 0x5a00);

	/* CONFIG_ADDRESS reads back; byte writes to it are ignored. */
	a = 0x80000000;
	bus_write(&pf.pio, 0xcf8, &a, 4);
	v = 0x01;
	bus_write(&pf.pio, 0xcfb, &v, 1);
	bus_read(&pf.pio, 0xcf8, &v, 4);
	assert_int_equal(v, 0x80000000);
	bus_read(&pf.pio, 0xcfb, &v, 1);
	assert_int_equal(v & 0xff, 0x80);

	/* Without the enable bit the data port reads as nothing. */
	a = 0x00000000;
	bus_write(&pf.pio, 0xcf8, &a, 4);
	bus_read(&pf.pio, 0xcfc, &v, 4);
	assert_int_equal(v, 0xffffffff);
	v = 0x12345678;
	bus_write(&pf.pio, 0xcfc, &v, 4);
	assert_int_equal(cf8_read(0, 0, 0, 0, 4), 0x00081b36);

	/* AMD's extended access: register bits 11:8 in bits 27:24. */
	a = 0x81000000;
	bus_write(&pf.pio, 0xcf8, &a, 4);
	bus_read(&pf.pio, 0xcfc, &v, 4);
	assert_int_equal(v, 0xffffffff);	/* 0x100 of a conventional function */

	/* Absent functions, slots and buses: all-ones. */
	assert_int_equal(cf8_read(0, 7, 0, 0, 4), 0xffffffff);
	assert_int_equal(cf8_read(0, 0, 3, 0, 2), 0xffff);
	assert_int_equal(cf8_read(1, 0, 0, 0, 4), 0xffffffff);
	assert_int_equal(cf8_read(0, 31, 7, 0xfc, 1), 0xff);
}

static void t_ecam(void **state)
{
	uint64_t v8 = 0;

	assert_int_equal(ecam_read(0, 0, 0, 4), 0x00081b36);
	assert_int_equal(ecam_read(0, 0, 2, 2), 0x0008);
	assert_int_equal(ecam_read(0, 0, 0xb, 1), 0x06);
	ecam_write(0, 0, PCI_LATENCY_TIMER, 0x33, 1);
	assert_int_equal(cf8_read(0, 0, 0, PCI_LATENCY_TIMER, 1), 0x33);
	/* Absent function; extended space of a conventional function. */
	assert_int_equal(ecam_read(9, 0, 0, 4), 0xffffffff);
	assert_int_equal(ecam_read(0, 0, 0x100, 4), 0xffffffff);
	assert_int_equal(ecam_read(0, 0, 0xffc, 4), 0xffffffff);
	/* Unaligned and 8-byte accesses read as nothing, write nothing. */
	assert_int_equal(ecam_read(0, 0, 1, 2), 0xffff);
	assert_int_equal(ecam_read(0, 0, 2, 4), 0xffffffff);
	bus_read(&pf.mmio, ecam_off(0, 0, 0), &v8, 8);
	assert_true(v8 == UINT64_MAX);
	ecam_write(0, 0, PCI_LATENCY_TIMER, 0x4444, 2);
	assert_int_equal(cf8_read(0, 0, 0, PCI_LATENCY_TIMER, 1), 0x33);

	/* A PCI Express function has 4 KiB of config space behind the ECAM. */
	tdev_init(&tdev_a, 0);
	tdev_a.pci.cfg_size = PCIE_CFG_SIZE;
	pci_cfg_wmask(&tdev_a.pci, 0x200, 0xffffffff, 4);
	assert_int_equal(pci_dev_register(pf.pci, &tdev_a.pci, NULL, 3, 0, "tdev"), 0);
	ecam_write(3, 0, 0x200, 0xcafef00d, 4);
	assert_int_equal(ecam_read(3, 0, 0x200, 4), 0xcafef00d);
	assert_int_equal(ecam_read(3, 0, 0x202, 2), 0xcafe);
	assert_int_equal(ecam_read(3, 0, 0x100, 4), 0);
	/* The same register through 0xcf8 with AMD's extended bits. */
	assert_int_equal(cf8_read(0, 3, 0, 0, 4), 0x56781234);
	{
		uint32_t a = 0x82000000 | 3 << 11, v = 0;

		bus_write(&pf.pio, 0xcf8, &a, 4);
		bus_read(&pf.pio, 0xcfe, &v, 2);
		assert_int_equal(v, 0xcafe);
	}
}

static void t_readonly(void **state)
{
	plug(&tdev_a, 2, 2);
	for (unsigned reg = 0; reg < 0x40; reg += 4) {
		if (reg == PCI_COMMAND || (reg >= PCI_BASE_ADDRESS_0 && reg <= PCI_BASE_ADDRESS_5) ||
		    reg == PCI_CACHE_LINE_SIZE || reg == PCI_INTERRUPT_LINE)
			continue;
		uint32_t before = cf8_read(0, 2, 0, reg, 4);

		cf8_write(0, 2, 0, reg, ~before, 4);
		ecam_write(2, 0, reg, 0, 4);
		assert_int_equal(cf8_read(0, 2, 0, reg, 4), before);
	}
	/* Command: only the defined bits stick; status is read-only. */
	cf8_write(0, 2, 0, PCI_COMMAND, 0xffffffff, 4);
	assert_int_equal(cf8_read(0, 2, 0, PCI_COMMAND, 2), 0x0547);
	assert_int_equal(cf8_read(0, 2, 0, PCI_STATUS, 2), PCI_STATUS_CAP_LIST);
	assert_int_equal(cf8_read(0, 2, 0, PCI_VENDOR_ID, 4), 0x56781234);
	assert_int_equal(cf8_read(0, 2, 0, PCI_HEADER_TYPE, 1), 0);
	/* Cache line size and interrupt line are plain registers. */
	cf8_write(0, 2, 0, PCI_CACHE_LINE_SIZE, 0x10, 1);
	assert_int_equal(cf8_read(0, 2, 0, PCI_CACHE_LINE_SIZE, 1), 0x10);
	cf8_write(0, 2, 0, PCI_INTERRUPT_LINE, 0x0b, 1);
	assert_int_equal(cf8_read(0, 2, 0, PCI_INTERRUPT_LINE, 1), 0x0b);
	assert_int_equal(cf8_read(0, 2, 0, PCI_INTERRUPT_PIN, 1), 1);
}

/* --- BARs --- */

static uint32_t size_bar(unsigned slot, unsigned reg)
{
	uint32_t old = cf8_read(0, slot, 0, reg, 4), mask;

	cf8_write(0, slot, 0, reg, 0xffffffff, 4);
	mask = cf8_read(0, slot, 0, reg, 4);
	cf8_write(0, slot, 0, reg, old, 4);
	return mask;
}

static int declare(struct tdev *t, int bar, enum pci_bar_type type, uint64_t size)
{
	return pci_bar_init(&t->pci, bar, type, size, false, &tbar_ops, &t->bar[0]);
}

static void t_bar_sizing(void **state)
{
	uint32_t b0, b2, b3, b4;
	uint64_t a2;

	plug(&tdev_a, 4, 0);
	/* Firmware-like placement: aligned, inside the right window. */
	b0 = cf8_read(0, 4, 0, PCI_BASE_ADDRESS_0, 4);
	b2 = cf8_read(0, 4, 0, PCI_BASE_ADDRESS_2, 4);
	b3 = cf8_read(0, 4, 0, PCI_BASE_ADDRESS_3, 4);
	b4 = cf8_read(0, 4, 0, PCI_BASE_ADDRESS_4, 4);
	assert_int_equal(b0, MMIO32);
	a2 = (b2 & ~0xfu) | (uint64_t)b3 << 32;
	assert_true(a2 == MMIO64);
	assert_int_equal(b2 & 0xf, PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH);
	assert_int_equal(b4, PCI_IOWIN_BASE | PCI_BASE_ADDRESS_SPACE_IO);

	/* Sizing by writing all-ones, then restoring. */
	assert_int_equal(size_bar(4, PCI_BASE_ADDRESS_0), 0xfffff000);
	assert_int_equal(size_bar(4, PCI_BASE_ADDRESS_2), 0xffffc00c);
	assert_int_equal(size_bar(4, PCI_BASE_ADDRESS_3), 0xffffffff);
	assert_int_equal(size_bar(4, PCI_BASE_ADDRESS_4), 0xffffffe1);
	assert_int_equal(size_bar(4, PCI_BASE_ADDRESS_1), 0);
	assert_int_equal(size_bar(4, PCI_BASE_ADDRESS_5), 0);
	assert_int_equal(size_bar(4, PCI_ROM_ADDRESS), 0);
	assert_int_equal(cf8_read(0, 4, 0, PCI_BASE_ADDRESS_0, 4), b0);
	assert_int_equal(cf8_read(0, 4, 0, PCI_BASE_ADDRESS_2, 4), b2);

	/* A second function is placed after the first. */
	plug(&tdev_b, 5, 0);
	assert_int_equal(cf8_read(0, 5, 0, PCI_BASE_ADDRESS_0, 4), MMIO32 + 4096);
	assert_int_equal(cf8_read(0, 5, 0, PCI_BASE_ADDRESS_2, 4) & ~0xfu,
			 (MMIO64 + 16384) & 0xffffffff);
	assert_int_equal(cf8_read(0, 5, 0, PCI_BASE_ADDRESS_4, 4), (PCI_IOWIN_BASE + 32) | 1);

	/* Misdeclared BARs are refused. */
	assert_int_equal(declare(&tdev_b, 1, PCI_BAR_MEM32, 4096), 0);
	assert_int_equal(declare(&tdev_b, 3, PCI_BAR_MEM32, 4096), -EINVAL);	/* BAR 2's high half */
	assert_int_equal(declare(&tdev_b, 5, PCI_BAR_MEM64, 4096), -EINVAL);
	assert_int_equal(declare(&tdev_b, 5, PCI_BAR_MEM32, 3000), -EINVAL);
	assert_int_equal(declare(&tdev_b, 5, PCI_BAR_IO, 512), -EINVAL);
	assert_int_equal(declare(&tdev_b, 6, PCI_BAR_IO, 16), -EINVAL);
	assert_int_equal(declare(&tdev_b, -1, PCI_BAR_IO, 16), -EINVAL);
	assert_int_equal(declare(&tdev_b, 1, PCI_BAR_IO, 16), -EINVAL);	/* taken */
}

static void t_bar_decode(void **state)
{
	uint32_t v = 0;

	plug(&tdev_a, 4, 0);
	/* Decoding is off until the command register enables it. */
	assert_int_equal(mmio_read(MMIO32, 4), 0xffffffff);
	assert_int_equal(tdev_a.bar[0].reads, 0);
	assert_int_equal(tdev_a.maps, 0);
	cf8_write(0, 4, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(mmio_read(MMIO32 + 0x10, 4), 0xb0000010);
	assert_int_equal(mmio_read(MMIO64 + 0x20, 2), 0x0020);
	mmio_write(MMIO64 + 0x3ffc, 0xabcd, 2);
	assert_int_equal(tdev_a.bar[2].last_off, 0x3ffc);
	assert_int_equal(tdev_a.bar[2].last_val, 0xabcd);
	assert_true(tdev_a.mapped[0] && tdev_a.mapped[2] && !tdev_a.mapped[4]);
	assert_true(tdev_a.map_addr[2] == MMIO64);
	/* I/O decodes with its own bit. */
	bus_read(&pf.pio, PCI_IOWIN_BASE, &v, 1);
	assert_int_equal(v & 0xff, 0xff);
	cf8_write(0, 4, 0, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
	bus_read(&pf.pio, PCI_IOWIN_BASE + 4, &v, 4);
	assert_int_equal(v, 0xb4000004);
	/* The end of a BAR is its end: the next byte is nobody's. */
	assert_int_equal(mmio_read(MMIO32 + 4096, 4), 0xffffffff);
	/* Off again: nothing decodes, the handler is not called. */
	cf8_write(0, 4, 0, PCI_COMMAND, 0, 2);
	tdev_a.bar[0].reads = 0;
	assert_int_equal(mmio_read(MMIO32, 4), 0xffffffff);
	assert_int_equal(tdev_a.bar[0].reads, 0);
	assert_true(!tdev_a.mapped[0] && !tdev_a.mapped[2] && !tdev_a.mapped[4]);
}

static void t_bar_move(void **state)
{
	const uint64_t to = MMIO32 + 0x100000;

	plug(&tdev_a, 4, 0);
	plug(&tdev_b, 6, 0);
	cf8_write(0, 4, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	cf8_write(0, 6, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);

	/* Moved: the old place is empty, the new one decodes. */
	cf8_write(0, 4, 0, PCI_BASE_ADDRESS_0, (uint32_t)to, 4);
	assert_int_equal(mmio_read(MMIO32, 4), 0xffffffff);
	assert_int_equal(mmio_read(to + 8, 4), 0xb0000008);
	assert_true(tdev_a.map_addr[0] == to && tdev_a.mapped[0]);

	/* A 64-bit BAR moves one dword at a time, as a driver writes it. */
	cf8_write(0, 4, 0, PCI_BASE_ADDRESS_2, (uint32_t)(MMIO32 + 0x200000), 4);
	assert_true(tdev_a.mapped[2] && tdev_a.map_addr[2] == 0x8c0200000ULL);
	cf8_write(0, 4, 0, PCI_BASE_ADDRESS_3, 0x20, 4);
	assert_false(tdev_a.mapped[2]);
	assert_non_null(strstr(log_last(), "tdev: BAR 2 at 0x20c0200000 is outside the windows"));
	cf8_write(0, 4, 0, PCI_BASE_ADDRESS_3, 0, 4);
	assert_true(tdev_a.mapped[2] && tdev_a.map_addr[2] == MMIO32 + 0x200000);
	assert_int_equal(mmio_read(MMIO32 + 0x200000 + 4, 4), 0xb2000004);

	/* Onto tdev_b's BAR 0: refused with a message, left unmapped. */
	cf8_write(0, 6, 0, PCI_BASE_ADDRESS_0, (uint32_t)(to + 0x1000), 4);
	assert_true(tdev_b.mapped[0]);
	cf8_write(0, 6, 0, PCI_BASE_ADDRESS_0, (uint32_t)to, 4);
	assert_false(tdev_b.mapped[0]);
	assert_non_null(strstr(log_last(), "overlaps BAR 0 of tdev"));
	assert_int_equal(mmio_read(to, 4), 0xb0000000);	/* still tdev_a's */
	assert_int_equal(tdev_b.bar[0].reads, 0);
	/* Moved somewhere free again, it decodes. */
	cf8_write(0, 6, 0, PCI_BASE_ADDRESS_0, (uint32_t)(to + 0x3000), 4);
	assert_true(tdev_b.mapped[0]);
	assert_int_equal(mmio_read(to + 0x3000, 4), 0xb0000000);
	assert_int_equal(tdev_b.bar[0].reads, 1);

	/* Address 0 is "unassigned": not decoded. */
	cf8_write(0, 6, 0, PCI_BASE_ADDRESS_0, 0, 4);
	assert_false(tdev_b.mapped[0]);

	/* Unregistering unmaps: nothing of tdev_a answers afterwards. */
	pci_dev_unregister(&tdev_a.pci);
	assert_int_equal(mmio_read(to, 4), 0xffffffff);
	assert_false(tdev_a.mapped[0]);
	assert_int_equal(cf8_read(0, 4, 0, 0, 4), 0xffffffff);
}

/* --- capabilities --- */

static void t_caps(void **state)
{
	unsigned off, n = 0;
	uint8_t ids[8];

	tdev_init(&tdev_a, 0);
	assert_int_equal(pci_cap_add(&tdev_a.pci, PCI_CAP_ID_VNDR, 14), 0x40);
	assert_int_equal(pci_cap_add(&tdev_a.pci, PCI_CAP_ID_VNDR, 16), 0x50);
	assert_int_equal(pci_msix_init(&tdev_a.pci, 3, 5), 0x60);
	assert_int_equal(pci_dev_register(pf.pci, &tdev_a.pci, NULL, 1, 0, "tdev"), 0);
	assert_true(cf8_read(0, 1, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* The walk from 0x34 ends on a zero next pointer, dword aligned. */
	for (off = cf8_read(0, 1, 0, PCI_CAPABILITY_LIST, 1); off; n++) {
		assert_true(n < 8 && off >= 0x40 && off % 4 == 0);
		ids[n] = cf8_read(0, 1, 0, off, 1);
		off = cf8_read(0, 1, 0, off + 1, 1);
	}
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], PCI_CAP_ID_VNDR);
	assert_int_equal(ids[1], PCI_CAP_ID_VNDR);
	assert_int_equal(ids[2], PCI_CAP_ID_MSIX);
	/* MSI-X: table size N-1, table at BAR 5 offset 0, PBA after it. */
	assert_int_equal(cf8_read(0, 1, 0, 0x62, 2), 2);
	assert_int_equal(cf8_read(0, 1, 0, 0x64, 4), 5);
	assert_int_equal(cf8_read(0, 1, 0, 0x68, 4), 48 | 5);
	/* The next pointers are read-only. */
	cf8_write(0, 1, 0, 0x41, 0x80, 1);
	assert_int_equal(cf8_read(0, 1, 0, 0x41, 1), 0x50);
	/* A host bridge without capabilities has none in its status. */
	assert_false(cf8_read(0, 0, 0, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	assert_int_equal(cf8_read(0, 0, 0, PCI_CAPABILITY_LIST, 1), 0);
	/* Full: an error, not a capability past 0xff. */
	assert_int_equal(pci_cap_add(&tdev_a.pci, PCI_CAP_ID_VNDR, 200), -ENOSPC);
}

/* --- MSI-X --- */

static uint64_t msix_table(struct tdev *t)
{
	return pci_bar_addr(&t->pci, 5);
}

static void msix_entry(struct tdev *t, unsigned vec, uint64_t addr,
		       uint32_t data, uint32_t ctrl)
{
	uint64_t e = msix_table(t) + 16 * vec;

	mmio_write(e, (uint32_t)addr, 4);
	mmio_write(e + 4, addr >> 32, 4);
	mmio_write(e + 8, data, 4);
	mmio_write(e + 12, ctrl, 4);
}

static uint32_t pba(struct tdev *t)
{
	return mmio_read(msix_table(t) + t->pci.msix.pba_off, 4);
}

static void msix_ctrl(unsigned slot, uint16_t bits)
{
	cf8_write(0, slot, 0, 0x40 + PCI_MSIX_FLAGS, bits, 2);
}

static void t_msix(void **state)
{
	uint64_t e;

	plug(&tdev_a, 2, 4);
	cf8_write(0, 2, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	e = msix_table(&tdev_a);
	assert_int_equal(e, MMIO32 + 0x1000);

	/* Disabled: the device is told to use INTx. */
	assert_false(pci_msix_notify(&tdev_a.pci, 1));
	assert_int_equal(cf8_read(0, 2, 0, 0x42, 2), 3);
	msix_ctrl(2, PCI_MSIX_FLAGS_ENABLE | 0x7ff);
	assert_int_equal(cf8_read(0, 2, 0, 0x42, 2), PCI_MSIX_FLAGS_ENABLE | 3);

	/* Vectors start masked: a fire is held in the PBA. */
	assert_int_equal(mmio_read(e + 16 + 12, 4), 1);
	msix_entry(&tdev_a, 1, 0xfee01000, 0x4041, 1);
	assert_true(pci_msix_notify(&tdev_a.pci, 1));
	assert_int_equal(nmsi, 0);
	assert_int_equal(pba(&tdev_a), 1u << 1);
	/* The PBA is read-only. */
	mmio_write(e + tdev_a.pci.msix.pba_off, 0, 4);
	assert_int_equal(pba(&tdev_a), 1u << 1);
	/* Unmasking delivers what was pending, with the current message. */
	mmio_write(e + 16 + 12, 0, 4);
	assert_int_equal(nmsi, 1);
	assert_true(msi[0].addr == 0xfee01000 && msi[0].data == 0x4041);
	assert_int_equal(pba(&tdev_a), 0);
	/* Unmasked: straight through. */
	pci_msix_notify(&tdev_a.pci, 1);
	assert_int_equal(nmsi, 2);

	/* The function mask holds every vector. */
	msix_ctrl(2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
	pci_msix_notify(&tdev_a.pci, 1);
	assert_int_equal(nmsi, 2);
	assert_int_equal(pba(&tdev_a), 1u << 1);
	msix_ctrl(2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(nmsi, 3);
	assert_int_equal(pba(&tdev_a), 0);

	/* A qword write of address, then data and control. */
	{
		uint64_t q = 0x00000001fee02000ULL;

		bus_write(&pf.mmio, e + 32, &q, 8);
		q = 0x0000000000004042ULL;	/* data, control 0 */
		bus_write(&pf.mmio, e + 40, &q, 8);
		bus_read(&pf.mmio, e + 32, &q, 8);
		assert_true(q == 0x00000001fee02000ULL);
	}
	pci_msix_notify(&tdev_a.pci, 2);
	assert_int_equal(nmsi, 4);
	assert_true(msi[3].addr == 0x1fee02000ULL && msi[3].data == 0x4042);

	/* Reserved control bits read 0; odd widths and offsets are dropped. */
	mmio_write(e + 12, 0xfffffffe, 4);
	assert_int_equal(mmio_read(e + 12, 4), 0);
	mmio_write(e + 8, 0x77, 2);
	mmio_write(e + 9, 0x77, 4);
	assert_int_equal(mmio_read(e + 8, 4), 0);
	/* Out-of-range vectors are ignored. */
	pci_msix_notify(&tdev_a.pci, 4);
	pci_msix_notify(&tdev_a.pci, 100000);
	assert_int_equal(nmsi, 4);

	/* Disabling MSI-X keeps the table but stops delivery. */
	msix_ctrl(2, 0);
	assert_false(pci_msix_notify(&tdev_a.pci, 2));
	assert_int_equal(mmio_read(e + 40, 4), 0x4042);
}

/*
 * A snapshot's round trip (devices/pci_snap.c): after a reset, the load
 * brings back the BARs' decoding, the MSI-X table and its enable; the
 * host's CONFIG_ADDRESS too. Another function's bytes are refused.
 */
static void t_snapshot(void **state)
{
	struct snapw w;
	struct snap s;
	uint64_t e;
	uint8_t *p;

	plug(&tdev_a, 2, 4);
	cf8_write(0, 2, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	e = msix_table(&tdev_a);
	msix_ctrl(2, PCI_MSIX_FLAGS_ENABLE);
	msix_entry(&tdev_a, 1, 0xfee01000, 0x4041, 0);
	snapw_init(&w, "pci", 0);
	snapw_begin(&w, "tdev");
	pci_dev_save(&tdev_a.pci, &w);
	snapw_end(&w);
	pci_host_save(pf.pci, &w);
	assert_int_equal(snapw_finish(&w), 0);

	pci_host_reset(pf.pci);
	assert_int_equal(mmio_read(e + 16, 4), 0xffffffff);	/* nothing decodes */
	assert_false(pci_msix_notify(&tdev_a.pci, 1));

	assert_int_equal(snap_parse(&s, w.p, w.len), 0);
	assert_int_equal(s.sect[0].len, pci_dev_snap_size(&tdev_a.pci));
	assert_int_equal(pci_dev_load(&tdev_a.pci, s.sect[0].data, s.sect[0].len), 0);
	assert_int_equal(pci_host_load(pf.pci, s.sect[1].data, s.sect[1].len), 0);
	assert_int_equal(mmio_read(e + 16, 4), 0xfee01000);
	assert_true(pci_msix_notify(&tdev_a.pci, 1));
	assert_int_equal(nmsi, 1);
	assert_true(msi[0].addr == 0xfee01000 && msi[0].data == 0x4041);

	p = (uint8_t *)s.sect[0].data;
	p[PCI_DEVICE_ID] ^= 1;
	assert_int_equal(pci_dev_load(&tdev_a.pci, p, s.sect[0].len), -EINVAL);
	assert_non_null(strstr(log_last(), "PCI config space differs at 0x2"));
	assert_int_equal(pci_dev_load(&tdev_a.pci, p, 10), -EINVAL);
	snap_free(&s);
	snapw_free(&w);
}

static bool wait_for(unsigned *counter, unsigned want)
{
	for (int i = 0; i < 1000; i++) {
		if (__atomic_load_n(counter, __ATOMIC_SEQ_CST) >= want)
			return true;
		usleep(1000);
	}
	return false;
}

static void t_msix_kvm(void **state)
{
	struct route *r;
	pthread_t th;
	uint64_t n;

	fake_kvm();
	plug(&tdev_a, 2, 4);
	plug(&tdev_b, 3, ROUTES - 4 + 2);	/* two vectors without a route */
	cf8_write(0, 2, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	msix_ctrl(2, PCI_MSIX_FLAGS_ENABLE);
	/* Nothing is bound while masked. */
	r = &route[1];
	assert_true(r->used && !r->bound);

	/* Unmasked: the route carries the message, the irqfd is bound. */
	msix_entry(&tdev_a, 1, 0xfee00000, 0x31, 0);
	assert_true(r->bound && r->addr == 0xfee00000 && r->data == 0x31);
	assert_int_equal(r->fd, tdev_a.pci.msix.v[1].fd);
	/* A fire is a write to the eventfd, which KVM would consume. */
	pci_msix_notify(&tdev_a.pci, 1);
	assert_int_equal(read(r->fd, &n, 8), 8);
	assert_true(n == 1);
	/* Rewriting an unmasked entry updates the route; same values do not. */
	route_sets = 0;
	mmio_write(msix_table(&tdev_a) + 16 + 8, 0x32, 4);
	assert_int_equal(r->data, 0x32);
	mmio_write(msix_table(&tdev_a) + 16 + 8, 0x32, 4);
	assert_int_equal(route_sets, 1);
	/* A route KVM refuses leaves the vector to the loop. */
	mmio_write(msix_table(&tdev_a) + 16, 0xbad, 4);
	assert_false(r->bound);
	mmio_write(msix_table(&tdev_a) + 16, 0xfee00000, 4);
	assert_true(r->bound);
	/* Masked again: unbound; a fire wakes the loop, which marks it pending. */
	mmio_write(msix_table(&tdev_a) + 16 + 12, 1, 4);
	assert_false(r->bound);
	pci_msix_notify(&tdev_a.pci, 1);
	assert_int_equal(pthread_create(&th, NULL, loop_thread, pf.loop), 0);
	for (int i = 0; i < 1000 && !(pba(&tdev_a) & 2); i++)
		usleep(1000);
	assert_int_equal(pba(&tdev_a), 2);
	/* Unmasked with a pending bit: bound again, the pending fire goes to KVM. */
	mmio_write(msix_table(&tdev_a) + 16 + 12, 0, 4);
	assert_true(r->bound);
	assert_int_equal(pba(&tdev_a), 0);
	assert_int_equal(nmsi, 0);

	/* tdev_b's last vectors have no route: the loop sends them itself. */
	assert_int_equal(tdev_b.pci.msix.v[4].gsi, -1);
	cf8_write(0, 3, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	msix_ctrl(3, PCI_MSIX_FLAGS_ENABLE);
	msix_entry(&tdev_b, 5, 0xfee03000, 0x55, 0);
	pci_msix_notify(&tdev_b.pci, 5);
	assert_true(wait_for(&nmsi, 1));
	assert_true(msi[0].addr == 0xfee03000 && msi[0].data == 0x55);
	loop_stop(pf.loop, 0);
	pthread_join(th, NULL);
}

/* --- INTx --- */

static void t_intx(void **state)
{
	plug(&tdev_a, 2, 2);
	plug(&tdev_b, 6, 0);
	/* Slots 2 and 6 share INTA's line: GSI 20 + (2 % 4) = 22. */
	assert_int_equal(cf8_read(0, 2, 0, PCI_INTERRUPT_LINE, 1), 22);
	assert_int_equal(cf8_read(0, 6, 0, PCI_INTERRUPT_LINE, 1), 22);
	pci_intx_set(&tdev_a.pci, true);
	assert_int_equal(irq_level[22], 1);
	assert_true(cf8_read(0, 2, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_intx_set(&tdev_b.pci, true);
	pci_intx_set(&tdev_a.pci, false);
	assert_int_equal(irq_level[22], 1);	/* b still holds it */
	assert_false(cf8_read(0, 2, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_intx_set(&tdev_b.pci, false);
	assert_int_equal(irq_level[22], 0);
	/* Repeated levels are not counted twice. */
	pci_intx_set(&tdev_a.pci, true);
	pci_intx_set(&tdev_a.pci, true);
	pci_intx_set(&tdev_a.pci, false);
	assert_int_equal(irq_level[22], 0);

	/* INTx disable masks the line, the status bit still shows the level. */
	pci_intx_set(&tdev_a.pci, true);
	cf8_write(0, 2, 0, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, 2);
	assert_int_equal(irq_level[22], 0);
	assert_true(cf8_read(0, 2, 0, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	cf8_write(0, 2, 0, PCI_COMMAND, 0, 2);
	assert_int_equal(irq_level[22], 1);
	/* So does enabling MSI-X. */
	msix_ctrl(2, PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(irq_level[22], 0);
	msix_ctrl(2, 0);
	assert_int_equal(irq_level[22], 1);
	/* Unplugged with the line up: it goes down. */
	pci_dev_unregister(&tdev_a.pci);
	assert_int_equal(irq_level[22], 0);
}

/* --- slots --- */

static void t_slots(void **state)
{
	tdev_init(&tdev_a, 0);
	tdev_init(&tdev_b, 0);
	assert_int_equal(pci_dev_register(pf.pci, &tdev_a.pci, "pci.0", 3, 0, "disk0"), 0);
	assert_int_equal(pci_dev_register(pf.pci, &tdev_b.pci, "pci.0", 3, 0, "disk1"), -EEXIST);
	assert_string_equal(log_last(), "disk1: slot 3 of pci.0 is taken by disk0");
	assert_int_equal(pci_dev_register(pf.pci, &tdev_b.pci, "pci.0", 0, 0, "disk1"), -EEXIST);
	assert_string_equal(log_last(), "disk1: slot 0 of pci.0 is taken by the host bridge");
	assert_int_equal(pci_dev_register(pf.pci, &tdev_b.pci, "pci.1", 3, 0, "disk1"), -ENODEV);
	assert_non_null(strstr(log_last(), "'pci.1'"));
	assert_int_equal(pci_dev_register(pf.pci, &tdev_b.pci, NULL, 32, 0, "disk1"), -EINVAL);
	assert_int_equal(pci_dev_register(pf.pci, &tdev_b.pci, NULL, 3, 8, "disk1"), -EINVAL);
	assert_non_null(strstr(log_last(), "disk1: PCI address 3.8"));

	/* A second function makes function 0 multi-function. */
	assert_int_equal(pci_dev_register(pf.pci, &tdev_b.pci, NULL, 3, 1, "disk1"), 0);
	assert_int_equal(cf8_read(0, 3, 0, PCI_HEADER_TYPE, 1), 0x80);
	assert_int_equal(cf8_read(0, 3, 1, PCI_VENDOR_ID, 2), 0x1234);
	/* Its INTA is swizzled by slot like function 0's. */
	assert_int_equal(cf8_read(0, 3, 1, PCI_INTERRUPT_LINE, 1), 23);
	pci_dev_unregister(&tdev_b.pci);
	assert_int_equal(cf8_read(0, 3, 0, PCI_HEADER_TYPE, 1), 0);

	/* Slot -1 takes the first free one (slot 0 is the bridge's). */
	assert_int_equal(pci_dev_register(pf.pci, &tdev_b.pci, NULL, -1, 0, "disk1"), 0);
	assert_int_equal(tdev_b.pci.devfn, 1 << 3);
	pci_dev_unregister(&tdev_b.pci);
	pci_dev_unregister(&tdev_a.pci);
	/* Freed slots can be taken again; BARs the guest moved are placed anew. */
	pci_cfg_set(&tdev_b.pci, PCI_BASE_ADDRESS_0, 0xfedcb000, 4);
	assert_int_equal(pci_dev_register(pf.pci, &tdev_b.pci, NULL, 3, 0, "disk1"), 0);
	assert_int_equal(cf8_read(0, 3, 0, PCI_BASE_ADDRESS_0, 4), MMIO32);
}

static void t_full(void **state)
{
	static struct tdev many[31];
	struct tdev big;

	/* 31 functions fit; the 32nd finds no slot. */
	for (int i = 0; i < 31; i++) {
		pci_dev_init(&many[i].pci, &pf, 0x1234, 1, 0, 0, 0, 0, PCI_CFG_SIZE);
		assert_int_equal(pci_dev_register(pf.pci, &many[i].pci, NULL, -1, 0, "m"), 0);
	}
	tdev_init(&tdev_a, 0);
	assert_int_equal(pci_dev_register(pf.pci, &tdev_a.pci, NULL, -1, 0, "last"), -ENOSPC);
	assert_string_equal(log_last(), "last: no free slot on pci.0");
	for (int i = 0; i < 31; i++)
		pci_dev_unregister(&many[i].pci);

	/* A BAR larger than its window does not fit. */
	pci_dev_init(&big.pci, &pf, 0x1234, 1, 0, 0, 0, 0, PCI_CFG_SIZE);
	assert_int_equal(pci_bar_init(&big.pci, 0, PCI_BAR_MEM32, 1ULL << 30, false,
				      &tbar_ops, NULL), 0);
	assert_int_equal(pci_dev_register(pf.pci, &big.pci, NULL, 5, 0, "big"), -ENOSPC);
	assert_non_null(strstr(log_last(), "big: no room for BAR 0"));
	assert_int_equal(cf8_read(0, 5, 0, 0, 4), 0xffffffff);
}

static void t_host_errors(void **state)
{
	setup(state);
	assert_int_equal(pci_host_create(&pf, ECAM + 4096, MMIO32, MMIO32_SIZE, 0, 0), -EINVAL);
	assert_int_equal(pci_host_create(&pf, ECAM, 0xf0000000, 0x20000000, 0, 0), -EINVAL);
	assert_int_equal(pci_host_create(&pf, ECAM, MMIO32, MMIO32_SIZE, 0x1000, 0x1000), -EINVAL);
	/* A window over the ECAM: the bus says which. */
	assert_int_equal(pci_host_create(&pf, ECAM, ECAM, MMIO32_SIZE, 0, 0), -EEXIST);
	assert_non_null(strstr(log_last(), "pci.0 ECAM"));
	assert_null(pf.pci);
	assert_int_equal(pf.pio.nr + pf.mmio.nr, 0);
	/* No 64-bit window: 64-bit BARs go below 4 GiB. */
	assert_int_equal(pci_host_create(&pf, ECAM, MMIO32, MMIO32_SIZE, 0, 0), 0);
	assert_int_equal(pci_host_create(&pf, ECAM, MMIO32, MMIO32_SIZE, 0, 0), -EEXIST);
	plug(&tdev_a, 1, 0);
	assert_int_equal(cf8_read(0, 1, 0, PCI_BASE_ADDRESS_2, 4), (MMIO32 + 0x4000) | 0xc);
	assert_int_equal(cf8_read(0, 1, 0, PCI_BASE_ADDRESS_3, 4), 0);
}

/* --- a guest writing anything anywhere --- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void t_random(void **state)
{
	static const unsigned widths[] = { 1, 2, 4, 8 };
	uint64_t v;

	fake_kvm();
	plug(&tdev_a, 2, 3);
	plug(&tdev_b, 7, 0);
	for (int i = 0; i < 200000; i++) {
		uint64_t r = next();
		unsigned slot = (r >> 8) % 4 == 0 ? 0 : (r >> 8) % 4 == 1 ? 2 :
				(r >> 8) % 4 == 2 ? 7 : (r >> 10) % 32;
		unsigned len = widths[(r >> 16) % 4], reg = (r >> 24) & 0xfff;
		uint64_t addr;

		v = next();
		switch (r % 8) {
		case 0: case 1:	/* config through the ports, mostly the header */
			reg &= (r >> 40) & 1 ? 0x3f : 0xff;
			if (len > 4 || (reg & 3) + len > 4)
				len = 1;
			cf8_write(0, slot, (r >> 44) % 8 == 0 ? 1 : 0, reg, (uint32_t)v, len);
			break;
		case 2: case 3:	/* ECAM, any width and alignment */
			bus_write(&pf.mmio, ecam_off(slot, 0, reg), &v, len);
			bus_read(&pf.mmio, ecam_off(slot, 0, reg), &v, len);
			break;
		case 4:		/* the address port itself */
			bus_write(&pf.pio, 0xcf8 + (r >> 32) % 8, &v, len > 4 ? 4 : len);
			break;
		case 5: case 6:	/* whatever decodes in the windows now */
			addr = (r >> 40) & 1 ? MMIO32 + (v % 0x40000) :
			       MMIO64 + (v % 0x40000);
			if ((r >> 41) & 1)
				bus_write(&pf.mmio, addr & ~7ULL, &v, len);
			else
				bus_read(&pf.mmio, addr & ~7ULL, &v, len);
			bus_read(&pf.pio, PCI_IOWIN_BASE + (v % 0x100), &v, 1);
			break;
		default:	/* the device's side */
			pci_msix_notify(&tdev_a.pci, (r >> 32) % 4);
			pci_intx_set(&tdev_b.pci, (r >> 33) & 1);
			break;
		}
	}
	/* The bridge is intact, and everything comes apart cleanly. */
	assert_int_equal(cf8_read(0, 0, 0, 0, 4), 0x00081b36);
	assert_int_equal(cf8_read(0, 2, 0, 0, 4), 0x56781234);
	pci_intx_set(&tdev_b.pci, false);
	pci_dev_unregister(&tdev_a.pci);
	pci_dev_unregister(&tdev_b.pci);
	for (unsigned gsi = 20; gsi < 24; gsi++)
		assert_int_equal(irq_level[gsi], 0);
	assert_int_equal(pf.pci->mem.nr + pf.pci->io.nr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_cf8_widths, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_ecam, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_readonly, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_bar_sizing, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_bar_decode, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_bar_move, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_caps, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_msix, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_snapshot, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_msix_kvm, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_intx, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_slots, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_full, setup_host, teardown),
		cmocka_unit_test_setup_teardown(t_host_errors, NULL, teardown),
		cmocka_unit_test_setup_teardown(t_random, setup_host, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
