/*
 * The host bridge "pci.0": its root bus and the buses bridges add below it,
 * config space through the 0xcf8/0xcfc ports (Linux on x86 uses them for
 * the first 256 bytes) and the ECAM window (for the rest), and the windows
 * BARs decode in. Behind a bridge, config cycles and BARs reach a function
 * only through the bridge's bus numbers, windows and command register, as
 * the guest programmed them; ember first programs them as firmware would.
 *
 * BARs are not registered on pf->mmio/pf->pio one by one: a config write
 * reaches us holding those buses' read locks, so moving a BAR there would
 * deadlock. The windows are registered there once instead, and forward to
 * the host's own buses, where BARs come and go under the host's lock. A
 * root complex only forwards its windows anyway.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/util.h"

#define CF8_ENABLE	0x80000000u

enum { WIN_MEM32, WIN_MEM64, WIN_IO };

static const char *const win_name[] = { "32-bit", "64-bit", "I/O" };

/* --- config space --- */

/* The bridge on @b whose bus range holds bus @nr, as the guest numbered it. */
static struct pci_dev *bridge_to(const struct pci_bus *b, unsigned nr)
{
	for (unsigned i = 0; i < ARRAY_SIZE(b->dev); i++) {
		struct pci_dev *d = b->dev[i];
		unsigned sec, sub;

		if (!d || !d->sec)
			continue;
		sec = d->cfg[PCI_SECONDARY_BUS];
		sub = d->cfg[PCI_SUBORDINATE_BUS];
		if (sec && sec <= nr && nr <= sub)
			return d;
	}
	return NULL;
}

/* Type 1 routing: down the bridges whose ranges hold @nr, from bus 0. */
static struct pci_dev *cfg_target(struct pci_host *h, unsigned nr, unsigned devfn)
{
	struct pci_bus *b = &h->root;
	struct pci_dev *br;

	while (nr) {
		br = bridge_to(b, nr);
		if (!br)
			return NULL;
		b = br->sec;
		if (br->cfg[PCI_SECONDARY_BUS] == nr)
			return b->one_slot && devfn >> 3 ? NULL : b->dev[devfn];
	}
	return b->dev[devfn];
}

static void cfg_access(struct pci_host *h, unsigned bus, unsigned devfn,
		       unsigned reg, void *data, unsigned len, bool write)
{
	struct pci_dev *d = cfg_target(h, bus & 0xff, devfn & 0xff);

	if (!d) {
		if (!write)
			memset(data, 0xff, len);	/* no function answers */
		return;
	}
	if (write)
		pci_cfg_write(d, reg, data, len);
	else
		pci_cfg_read(d, reg, data, len);
}

/*
 * 0xcf8: CONFIG_ADDRESS, written as a dword only (byte writes there are
 * other mechanisms' probes); 0xcfc-0xcff: CONFIG_DATA, any width. Bits
 * 27:24 are register bits 11:8, as AMD's extended config access has them
 * (Linux uses it on AMD CPUs until it trusts the ECAM); elsewhere they are
 * reserved and 0.
 */
static void cfg_port(struct pci_host *h, uint64_t off, void *data, unsigned len,
		     bool write)
{
	uint32_t a;

	pthread_mutex_lock(&h->lock);
	a = h->cf8;
	if (off < 4) {
		if (write && off == 0 && len == 4)
			memcpy(&h->cf8, data, 4);
		else if (!write && off + len <= 4)
			memcpy(data, (uint8_t *)&a + off, len);
		else if (!write)
			memset(data, 0xff, len);
	} else if (a & CF8_ENABLE) {
		cfg_access(h, (a >> 16) & 0xff, (a >> 8) & 0xff,
			   ((a >> 16) & 0xf00) | ((a & 0xfc) + (off - 4)), data, len, write);
	} else if (!write) {
		memset(data, 0xff, len);
	}
	pthread_mutex_unlock(&h->lock);
}

static void cfg_port_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	cfg_port(opaque, off, data, len, false);
}

static void cfg_port_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	cfg_port(opaque, off, (void *)data, len, true);
}

static const struct bus_ops cfg_port_ops = {
	.read = cfg_port_read, .write = cfg_port_write,
};

/* ECAM: bus << 20 | device << 15 | function << 12 | register; aligned, <= 4 bytes. */
static void ecam(struct pci_host *h, uint64_t off, void *data, unsigned len,
		 bool write)
{
	unsigned reg = off & 0xfff;

	if (len > 4 || (reg & (len - 1))) {
		if (!write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&h->lock);
	cfg_access(h, off >> 20, (off >> 12) & 0xff, reg, data, len, write);
	pthread_mutex_unlock(&h->lock);
}

static void ecam_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	ecam(opaque, off, data, len, false);
}

static void ecam_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	ecam(opaque, off, (void *)data, len, true);
}

static const struct bus_ops ecam_ops = { .read = ecam_read, .write = ecam_write };

/* --- windows --- */

static void win_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct pci_window *w = opaque;

	bus_read(w->bus, w->base + off, data, len);
}

static void win_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct pci_window *w = opaque;

	bus_write(w->bus, w->base + off, data, len);
}

static const struct bus_ops win_ops = { .read = win_read, .write = win_write };

static bool in_window(const struct pci_window *w, uint64_t addr, uint64_t size)
{
	return w->size && addr >= w->base && size <= w->size &&
	       addr - w->base <= w->size - size;
}

static bool bar_in_windows(struct pci_host *h, const struct pci_bar *b,
			   uint64_t addr)
{
	if (b->type == PCI_BAR_IO)
		return in_window(&h->win[WIN_IO], addr, b->size);
	return in_window(&h->win[WIN_MEM32], addr, b->size) ||
	       in_window(&h->win[WIN_MEM64], addr, b->size);
}

/* --- BAR placement --- */

static bool ranges_meet(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static bool same_space(const struct pci_bar *a, const struct pci_bar *b)
{
	return (a->type == PCI_BAR_IO) == (b->type == PCI_BAR_IO);
}

/* A BAR other than @d's @bar decoding at [addr, +size), on any bus. */
static struct pci_dev *bar_conflict(struct pci_host *h, struct pci_dev *d,
				    int bar, uint64_t addr, int *other)
{
	const struct pci_bar *b = &d->bar[bar];

	for (unsigned n = 0; n < h->nbuses; n++) {
		for (unsigned i = 0; i < ARRAY_SIZE(h->buses[n]->dev); i++) {
			struct pci_dev *o = h->buses[n]->dev[i];

			for (int j = 0; o && j < PCI_NUM_BARS; j++) {
				const struct pci_bar *ob = &o->bar[j];

				if (!ob->size || (o == d && j == bar) || !same_space(b, ob) ||
				    !ob->mapped)
					continue;
				if (ranges_meet(addr, b->size, ob->addr, ob->size)) {
					*other = j;
					return o;
				}
			}
		}
	}
	return NULL;
}

/*
 * The end of what @b holds at [addr, +size) in I/O (@io) or memory space,
 * as assigned: a BAR other than @d's @bar, or a bridge's window other than
 * @d's own (@bar -1). 0: nothing there. @d counts as on @b already.
 */
static uint64_t taken_end(const struct pci_bus *b, bool io, uint64_t addr,
			  uint64_t size, const struct pci_dev *d, int bar)
{
	for (unsigned i = 0; i < ARRAY_SIZE(b->dev); i++) {
		const struct pci_dev *o = b->dev[i] ? b->dev[i] :
					  (d->bus == b && i == d->devfn ? d : NULL);
		uint64_t base, len;

		for (int j = 0; o && j < PCI_NUM_BARS; j++) {
			const struct pci_bar *ob = &o->bar[j];

			if (!ob->size || (o == d && j == bar) || (ob->type == PCI_BAR_IO) != io)
				continue;
			base = pci_bar_addr(o, j);
			if (base && ranges_meet(addr, size, base, ob->size))
				return base + ob->size;
		}
		if (!o || !o->sec || (o == d && bar < 0))
			continue;
		base = io ? o->sec->io_base : o->sec->mem_base;
		len = io ? o->sec->io_size : o->sec->mem_size;
		if (len && ranges_meet(addr, size, base, len))
			return base + len;
	}
	return 0;
}

/* Window @w of the host (on pci.0) or of the bridge above @b. */
static void span_of(const struct pci_host *h, const struct pci_bus *b, int w,
		    uint64_t *base, uint64_t *size)
{
	if (!b->self) {
		*base = h->win[w].base;
		*size = h->win[w].size;
	} else if (w == WIN_IO) {
		*base = b->io_base;
		*size = b->io_size;
	} else {
		*base = b->mem_base;
		*size = b->mem_size;
	}
}

/* First fit of @size bytes aligned to @align in window @w of @b, for @d's @bar. */
static int alloc_span(const struct pci_host *h, const struct pci_bus *b, int w,
		      uint64_t size, uint64_t align, const struct pci_dev *d,
		      int bar, uint64_t *out)
{
	uint64_t base, wsize, addr, end;

	span_of(h, b, w, &base, &wsize);
	addr = ALIGN_UP(base, align);
	while (wsize && addr >= base && size <= wsize && addr - base <= wsize - size) {
		end = taken_end(b, w == WIN_IO, addr, size, d, bar);
		if (!end) {
			*out = addr;
			return 0;
		}
		addr = ALIGN_UP(end, align);
		if (!addr)
			break;
	}
	return -ENOSPC;
}

static void bar_warn(struct pci_dev *d, int bar, uint64_t addr, const char *why)
{
	/* The guest chose this: say it once per function. */
	if (d->warned)
		return;
	d->warned = true;
	warn_msg("%s: BAR %d at %#" PRIx64 " %s; left unmapped", d->owner, bar,
		 addr, why);
}

int pci_host_bar_map(struct pci_dev *d, int bar, uint64_t addr)
{
	struct pci_host *h = d->host;
	struct pci_bar *b = &d->bar[bar];
	struct pci_dev *o;
	char why[128];
	int other, ret;

	if (!bar_in_windows(h, b, addr)) {
		bar_warn(d, bar, addr, "is outside the windows of pci.0");
		return -ERANGE;
	}
	o = bar_conflict(h, d, bar, addr, &other);
	if (o) {
		snprintf(why, sizeof(why), "overlaps BAR %d of %s", other, o->owner);
		bar_warn(d, bar, addr, why);
		return -EEXIST;
	}
	ret = bus_register(b->type == PCI_BAR_IO ? &h->io : &h->mem, addr,
			   b->size, b->ops, b->opaque, b->name);
	if (ret)
		return ret;
	b->mapped = true;
	b->addr = addr;
	if (d->bar_map)
		d->bar_map(d, bar, true, addr);
	return 0;
}

void pci_host_bar_unmap(struct pci_dev *d, int bar)
{
	struct pci_host *h = d->host;
	struct pci_bar *b = &d->bar[bar];

	/* Once this returns no vCPU is inside the BAR's handler. */
	bus_unregister(b->type == PCI_BAR_IO ? &h->io : &h->mem, b->addr);
	b->mapped = false;
	if (d->bar_map)
		d->bar_map(d, bar, false, b->addr);
}

bool pci_host_bar_routed(const struct pci_dev *d, int bar, uint64_t addr)
{
	bool io = d->bar[bar].type == PCI_BAR_IO;

	for (const struct pci_bus *b = d->bus; b && b->self; b = b->parent)
		if (!pci_bridge_forwards(b->self, io, addr, d->bar[bar].size))
			return false;
	return true;
}

void pci_bus_update_bars(struct pci_bus *b)
{
	for (unsigned i = 0; i < ARRAY_SIZE(b->dev); i++) {
		if (!b->dev[i])
			continue;
		pci_update_bars(b->dev[i]);
		if (b->dev[i]->sec)
			pci_bus_update_bars(b->dev[i]->sec);
	}
}

/*
 * As firmware would: each BAR naturally aligned at the lowest free place
 * of its window; 64-bit BARs above 4 GiB when there is a 64-bit window on
 * pci.0; behind a bridge, every memory BAR in its (32-bit) memory window.
 */
static int assign_bar(struct pci_host *h, struct pci_dev *d, int bar)
{
	struct pci_bar *b = &d->bar[bar];
	unsigned reg = PCI_BASE_ADDRESS_0 + 4 * bar;
	int w = b->type == PCI_BAR_IO ? WIN_IO :
		b->type == PCI_BAR_MEM64 && !d->bus->self && h->win[WIN_MEM64].size ?
		WIN_MEM64 : WIN_MEM32;
	uint32_t flags = pci_cfg_get(d, reg, 4) & (b->type == PCI_BAR_IO ? 0x3 : 0xf);
	uint64_t addr;

	if (alloc_span(h, d->bus, w, b->size, b->size, d, bar, &addr)) {
		err_msg("%s: no room for BAR %d (%#" PRIx64 " bytes) in the %s window of %s",
			d->owner, bar, b->size, d->bus->self && w != WIN_IO ? "memory" :
			win_name[w], d->bus->name);
		return -ENOSPC;
	}
	pci_cfg_set(d, reg, flags | (uint32_t)addr, 4);
	if (b->type == PCI_BAR_MEM64)
		pci_cfg_set(d, reg + 4, addr >> 32, 4);
	b->home = addr;
	return 0;
}

/* --- INTx --- */

void pci_host_intx_update(struct pci_dev *d)
{
	struct pci_host *h = d->host;
	struct platform *pf = h->pf;
	unsigned pin = 0;
	bool want;

	while (pin < PCI_INTX_PINS && h->layout.intx_gsi[pin] != d->intx_gsi)
		pin++;
	if (!pci_cfg_get(d, PCI_INTERRUPT_PIN, 1) || pin == PCI_INTX_PINS)
		return;
	pthread_mutex_lock(&h->irq_lock);
	want = __atomic_load_n(&d->intx_level, __ATOMIC_RELAXED) &&
	       !__atomic_load_n(&d->intx_disabled, __ATOMIC_RELAXED) &&
	       !pci_msix_enabled(d);
	if (want != d->intx_driven) {
		d->intx_driven = want;
		/* The line is shared: it follows the first and last asserter. */
		if (want ? h->intx_count[pin]++ == 0 : --h->intx_count[pin] == 0)
			if (pf->irq_set)
				pf->irq_set(pf->irq_opaque, d->intx_gsi, want);
	}
	pthread_mutex_unlock(&h->irq_lock);
}

/* --- functions --- */

static void set_multifunction(struct pci_bus *bus, unsigned slot)
{
	struct pci_dev *f0 = bus->dev[slot << 3];
	bool others = false;

	for (unsigned f = 1; f < PCI_FUNCS; f++)
		others |= bus->dev[slot << 3 | f] != NULL;
	if (f0) {
		f0->cfg[PCI_HEADER_TYPE] &= ~0x80;
		f0->cfg[PCI_HEADER_TYPE] |= others ? 0x80 : 0;
	}
}

static struct pci_bus *bus_lookup(struct pci_host *h, const char *name)
{
	if (!name || !strcmp(name, "pci.0") || !strcmp(name, "pcie.0"))
		return &h->root;
	for (unsigned i = 1; i < h->nbuses; i++)
		if (!strcmp(h->buses[i]->name, name))
			return h->buses[i];
	return NULL;
}

struct pci_bus *pci_bus_find(struct pci_host *h, const char *name)
{
	struct pci_bus *b;

	pthread_mutex_lock(&h->lock);
	b = bus_lookup(h, name);
	pthread_mutex_unlock(&h->lock);
	return b;
}

/* INTx of @pin at @slot of @bus, swizzled up the bridges to pci.0's _PRT. */
static unsigned intx_gsi(const struct pci_host *h, const struct pci_bus *bus,
			 unsigned slot, unsigned pin)
{
	unsigned p = pin - 1;

	for (; bus->self; bus = bus->parent) {
		p = (p + slot) % PCI_INTX_PINS;
		slot = bus->self->devfn >> 3;
	}
	return h->layout.intx_gsi[(slot + p) % PCI_INTX_PINS];
}

int pci_dev_register(struct pci_host *h, struct pci_dev *d, const char *bus,
		     int slot, int function, const char *owner)
{
	struct pci_bus *b;
	unsigned devfn, pin;
	int ret = 0;

	if (slot < -1 || slot >= PCI_SLOTS || function < 0 || function >= PCI_FUNCS) {
		err_msg("%s: PCI address %d.%d is out of range (slots 0-31, functions 0-7)",
			owner, slot, function);
		return -EINVAL;
	}
	pthread_mutex_lock(&h->lock);
	b = bus_lookup(h, bus);
	if (!b) {
		err_msg("%s: no bus '%s' here (a PCI bus is pci.0, or the id of a "
			"pcie-root-port or pci-bridge given before it)", owner, bus);
		ret = -ENODEV;
		goto out;
	}
	if (b->one_slot && slot > 0) {
		err_msg("%s: bus %s is a root port's: it has slot 0 only, not %d",
			owner, b->name, slot);
		ret = -EINVAL;
		goto out;
	}
	if (slot < 0) {
		unsigned last = b->one_slot ? 1 : PCI_SLOTS;

		for (slot = b->self ? 0 : 1; slot < (int)last && b->dev[slot << 3 | function]; slot++)
			;
		if (slot == (int)last) {
			err_msg("%s: no free slot on %s", owner, b->name);
			ret = -ENOSPC;
			goto out;
		}
	}
	devfn = slot << 3 | function;
	if (b->dev[devfn]) {
		if (function)
			err_msg("%s: address %02x.%x of %s is taken by %s", owner,
				slot, function, b->name, b->dev[devfn]->owner);
		else
			err_msg("%s: slot %d of %s is taken by %s", owner, slot,
				b->name, b->dev[devfn]->owner);
		ret = -EEXIST;
		goto out;
	}
	snprintf(d->owner, sizeof(d->owner), "%s", owner);
	d->devfn = devfn;
	d->bus = b;
	for (int i = 0; i < PCI_NUM_BARS && !ret; i++) {
		if (!d->bar[i].size)
			continue;
		snprintf(d->bar[i].name, sizeof(d->bar[i].name), "%s BAR %d", owner, i);
		ret = assign_bar(h, d, i);
	}
	if (ret) {
		d->bus = NULL;
		goto out;
	}
	pin = pci_cfg_get(d, PCI_INTERRUPT_PIN, 1);
	if (pin >= 1 && pin <= PCI_INTX_PINS) {
		d->intx_gsi = intx_gsi(h, b, slot, pin);
		pci_cfg_set(d, PCI_INTERRUPT_LINE, d->intx_gsi, 1);
	}
	b->dev[devfn] = d;
	__atomic_store_n(&d->host, h, __ATOMIC_RELEASE);
	set_multifunction(b, slot);
	pci_update_bars(d);
	pci_host_intx_update(d);
out:
	pthread_mutex_unlock(&h->lock);
	return ret;
}

void pci_host_reset(struct pci_host *h)
{
	pthread_mutex_lock(&h->lock);
	h->cf8 = 0;
	/* A bridge's bus comes after the bus the bridge is on. */
	for (unsigned n = 0; n < h->nbuses; n++)
		for (unsigned i = 0; i < PCI_SLOTS * PCI_FUNCS; i++)
			if (h->buses[n]->dev[i])
				pci_dev_reset(h->buses[n]->dev[i]);
	pthread_mutex_unlock(&h->lock);
}

/* Hex digits with an optional 0x, as QEMU reads PCI addresses. */
static int parse_hex(const char *s, const char **end, unsigned long *v)
{
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!isxdigit((unsigned char)*s))
		return -EINVAL;
	*v = strtoul(s, (char **)end, 16);
	return 0;
}

/* QEMU's addr=: slot[.function], e.g. 4, 0x4, 04.0. */
int pci_parse_addr(const char *s, int *slot_out, int *fn_out, const char *owner)
{
	unsigned long slot, fn = 0;
	const char *p;

	*slot_out = -1;
	*fn_out = 0;
	if (!s)
		return 0;
	if (parse_hex(s, &p, &slot) || (*p == '.' && parse_hex(p + 1, &p, &fn)) ||
	    *p || slot > 31 || fn > 7) {
		err_msg("%s: addr=%s: use slot[.function], slot 0..1f, function 0..7",
			owner, s);
		return -EINVAL;
	}
	*slot_out = slot;
	*fn_out = fn;
	return 0;
}

void pci_dev_unregister(struct pci_dev *d)
{
	struct pci_host *h = d->host;

	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	for (int i = 0; i < PCI_NUM_BARS; i++)
		if (d->bar[i].mapped)
			pci_host_bar_unmap(d, i);
	d->bus->dev[d->devfn] = NULL;
	set_multifunction(d->bus, d->devfn >> 3);
	d->bus = NULL;
	__atomic_store_n(&d->intx_level, false, __ATOMIC_RELAXED);
	pci_host_intx_update(d);
	__atomic_store_n(&d->host, NULL, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&h->lock);
}

/* --- buses behind bridges --- */

/* Depth first, in slot order, as firmware numbers them. */
static void number_buses(struct pci_bus *b, unsigned *next)
{
	for (unsigned i = 0; i < ARRAY_SIZE(b->dev); i++) {
		struct pci_dev *d = b->dev[i];

		if (!d || !d->sec)
			continue;
		d->sec->nr = ++*next;
		number_buses(d->sec, next);
		d->sec->sub = *next;
		pci_bridge_set_home(d);
	}
}

static int open_window(struct pci_host *h, struct pci_dev *d, int w,
		       uint64_t size, uint64_t align, uint64_t *base)
{
	if (!size)
		return 0;
	if (size % align || alloc_span(h, d->bus, w, size, align, d, -1, base)) {
		err_msg("%s: no room for a %#" PRIx64 "-byte %s window in %s", d->owner,
			size, w == WIN_IO ? "I/O" : "memory", d->bus->name);
		return -ENOSPC;
	}
	return 0;
}

int pci_bus_add(struct pci_dev *d, const char *name, bool one_slot,
		uint64_t mem_size, uint32_t io_size)
{
	struct pci_host *h = d->host;
	struct pci_bus *b;
	uint64_t mem = 0, io = 0;
	unsigned next = 0;
	int ret = 0;

	pthread_mutex_lock(&h->lock);
	if (h->nbuses == PCI_BUSES) {
		err_msg("%s: no bus number left (the ECAM holds %d buses)", d->owner,
			PCI_BUSES);
		ret = -ENOSPC;
	} else if (bus_lookup(h, name)) {
		err_msg("%s: there is a bus '%s' already", d->owner, name);
		ret = -EEXIST;
	}
	if (!ret)
		ret = open_window(h, d, WIN_MEM32, mem_size, 1 << 20, &mem);
	if (!ret)
		ret = open_window(h, d, WIN_IO, io_size, 4096, &io);
	b = ret ? NULL : calloc(1, sizeof(*b));
	if (!ret && !b) {
		err_msg("%s: out of memory", d->owner);
		ret = -ENOMEM;
	}
	if (!ret) {
		snprintf(b->name, sizeof(b->name), "%s", name);
		b->self = d;
		b->parent = d->bus;
		b->one_slot = one_slot;
		b->mem_base = mem;
		b->mem_size = mem_size;
		b->io_base = io;
		b->io_size = io_size;
		d->sec = b;
		h->buses[h->nbuses++] = b;
		number_buses(&h->root, &next);
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

void pci_bus_remove(struct pci_dev *d)
{
	struct pci_host *h = d->host;
	struct pci_bus *b = d->sec;
	unsigned i;

	if (!b || !h)
		return;
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nbuses && h->buses[i] != b; i++)
		;
	if (i < h->nbuses) {
		memmove(&h->buses[i], &h->buses[i + 1],
			(h->nbuses - i - 1) * sizeof(h->buses[0]));
		h->nbuses--;
	}
	d->sec = NULL;
	pthread_mutex_unlock(&h->lock);
	free(b);
}

/* --- the bridge --- */

static int add_window(struct pci_host *h, int w, struct bus *parent,
		      struct bus *bus, uint64_t base, uint64_t size)
{
	static const char *const range_name[] = {
		"pci.0 32-bit window", "pci.0 64-bit window", "pci.0 I/O window",
	};
	struct pci_window *win = &h->win[w];
	int ret;

	*win = (struct pci_window){ .parent = parent, .bus = bus, .base = base,
				    .size = size };
	if (!size)
		return 0;
	ret = bus_register(parent, base, size, &win_ops, win, range_name[w]);
	win->registered = !ret;
	return ret;
}

static void host_free(struct platform *pf, struct pci_host *h)
{
	for (int w = 0; w < 3; w++)
		if (h->win[w].registered)
			bus_unregister(h->win[w].parent, h->win[w].base);
	if (h->cfg_ports)
		bus_unregister(&pf->pio, 0xcf8);
	if (h->ecam)
		bus_unregister(&pf->mmio, h->layout.ecam_base);
	bus_destroy(&h->mem);
	bus_destroy(&h->io);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->irq_lock);
	free(h);
}

int pci_host_create(struct platform *pf, uint64_t ecam_base,
		    uint64_t mmio32_base, uint64_t mmio32_size,
		    uint64_t mmio64_base, uint64_t mmio64_size)
{
	struct pci_host *h;
	int ret;

	if (pf->pci) {
		err_msg("pci.0: the machine has a PCI host bridge already");
		return -EEXIST;
	}
	if (!IS_ALIGNED(ecam_base, PCI_ECAM_BUS_SIZE) ||
	    range_wraps(ecam_base, PCI_BUSES * PCI_ECAM_BUS_SIZE) || !mmio32_size ||
	    mmio32_base + mmio32_size > 4 * GiB || mmio32_base + mmio32_size < mmio32_base ||
	    (mmio64_size && (mmio64_base < 4 * GiB || range_wraps(mmio64_base, mmio64_size)))) {
		err_msg("pci.0: bad layout (ECAM %#" PRIx64 ", 32-bit window %#" PRIx64
			"+%#" PRIx64 ", 64-bit window %#" PRIx64 "+%#" PRIx64 ")",
			ecam_base, mmio32_base, mmio32_size, mmio64_base, mmio64_size);
		return -EINVAL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		err_msg("pci.0: out of memory");
		return -ENOMEM;
	}
	h->pf = pf;
	h->layout = (struct pci_layout){
		.ecam_base = ecam_base, .ecam_size = PCI_BUSES * PCI_ECAM_BUS_SIZE,
		.bus_first = 0, .bus_last = PCI_BUSES - 1,
		.mmio32_base = mmio32_base, .mmio32_size = mmio32_size,
		.mmio64_base = mmio64_base, .mmio64_size = mmio64_size,
		.io_base = PCI_IOWIN_BASE, .io_size = PCI_IOWIN_SIZE,
	};
	for (int i = 0; i < PCI_INTX_PINS; i++)
		h->layout.intx_gsi[i] = PCI_INTX_GSI_BASE + i;
	snprintf(h->root.name, sizeof(h->root.name), "pci.0");
	h->buses[h->nbuses++] = &h->root;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->irq_lock, NULL);
	bus_init(&h->mem, "pci.0 memory");
	bus_init(&h->io, "pci.0 I/O");

	ret = bus_register(&pf->pio, 0xcf8, 8, &cfg_port_ops, h, "pci.0 config ports");
	h->cfg_ports = !ret;
	if (!ret) {
		ret = bus_register(&pf->mmio, ecam_base, h->layout.ecam_size, &ecam_ops,
				   h, "pci.0 ECAM");
		h->ecam = !ret;
	}
	if (!ret)
		ret = add_window(h, WIN_MEM32, &pf->mmio, &h->mem, mmio32_base, mmio32_size);
	if (!ret)
		ret = add_window(h, WIN_MEM64, &pf->mmio, &h->mem, mmio64_base, mmio64_size);
	if (!ret)
		ret = add_window(h, WIN_IO, &pf->pio, &h->io, PCI_IOWIN_BASE, PCI_IOWIN_SIZE);
	if (!ret) {
		pci_dev_init(&h->bridge, pf, PCI_HOST_VENDOR, PCI_HOST_DEVICE,
			     0x060000, 0, 0x1af4, 0x1100, PCI_CFG_SIZE);
		pci_cfg_set(&h->bridge, PCI_INTERRUPT_PIN, 0, 1);
		ret = pci_dev_register(h, &h->bridge, NULL, 0, 0, "the host bridge");
	}
	if (ret) {
		host_free(pf, h);
		return ret;
	}
	pf->pci = h;
	return 0;
}

void pci_host_destroy(struct platform *pf)
{
	struct pci_host *h = pf->pci;

	if (!h)
		return;
	pci_dev_unregister(&h->bridge);
	pf->pci = NULL;
	host_free(pf, h);
}
