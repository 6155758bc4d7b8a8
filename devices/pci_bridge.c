/*
 * A PCI-to-PCI bridge's type-1 header (PCI-to-PCI Bridge Architecture 1.2,
 * chapter 3): bus numbers and the windows it forwards, as the guest
 * programs them. pci_host.c routes config cycles and BAR decode by them.
 */
#include <string.h>

#include "devices/pci.h"
#include "lib/util.h"

/* What a bridge driver may set in the bridge control register. */
#define BRIDGE_CTL_WMASK (PCI_BRIDGE_CTL_PARITY | PCI_BRIDGE_CTL_SERR | \
			  PCI_BRIDGE_CTL_ISA | PCI_BRIDGE_CTL_VGA | \
			  PCI_BRIDGE_CTL_MASTER_ABORT | PCI_BRIDGE_CTL_BUS_RESET)

static bool overlaps(unsigned off, unsigned len, unsigned reg, unsigned rlen)
{
	return off < reg + rlen && reg < off + len;
}

static bool in_range(uint64_t base, uint64_t limit, uint64_t addr, uint64_t size)
{
	return base <= limit && addr >= base && size && addr + (size - 1) >= addr &&
	       addr + (size - 1) <= limit;
}

bool pci_bridge_forwards(const struct pci_dev *d, bool io, uint64_t addr,
			 uint64_t size)
{
	uint16_t cmd = pci_cfg_get(d, PCI_COMMAND, 2);
	uint64_t base, limit;

	if (io) {
		if (!(cmd & PCI_COMMAND_IO))
			return false;
		base = (uint64_t)(d->cfg[PCI_IO_BASE] & PCI_IO_RANGE_MASK) << 8;
		limit = (uint64_t)(d->cfg[PCI_IO_LIMIT] & PCI_IO_RANGE_MASK) << 8 | 0xfff;
		return in_range(base, limit, addr, size);
	}
	if (!(cmd & PCI_COMMAND_MEMORY))
		return false;
	base = (uint64_t)(pci_cfg_get(d, PCI_MEMORY_BASE, 2) & PCI_MEMORY_RANGE_MASK) << 16;
	limit = (uint64_t)(pci_cfg_get(d, PCI_MEMORY_LIMIT, 2) & PCI_MEMORY_RANGE_MASK) << 16 |
		0xfffff;
	if (in_range(base, limit, addr, size))
		return true;
	base = (uint64_t)(pci_cfg_get(d, PCI_PREF_MEMORY_BASE, 2) & PCI_PREF_RANGE_MASK) << 16 |
	       (uint64_t)pci_cfg_get(d, PCI_PREF_BASE_UPPER32, 4) << 32;
	limit = (uint64_t)(pci_cfg_get(d, PCI_PREF_MEMORY_LIMIT, 2) & PCI_PREF_RANGE_MASK) << 16 |
		(uint64_t)pci_cfg_get(d, PCI_PREF_LIMIT_UPPER32, 4) << 32 | 0xfffff;
	return in_range(base, limit, addr, size);
}

/* Base above limit: the window is closed. */
static void close_windows(struct pci_dev *d)
{
	d->cfg[PCI_IO_BASE] = 0xf0;
	d->cfg[PCI_IO_LIMIT] = 0;
	pci_cfg_set(d, PCI_MEMORY_BASE, 0xfff0, 2);
	pci_cfg_set(d, PCI_MEMORY_LIMIT, 0, 2);
	pci_cfg_set(d, PCI_PREF_MEMORY_BASE, 0xfff0 | PCI_PREF_RANGE_TYPE_64, 2);
	pci_cfg_set(d, PCI_PREF_MEMORY_LIMIT, PCI_PREF_RANGE_TYPE_64, 2);
	pci_cfg_set(d, PCI_PREF_BASE_UPPER32, 0, 4);
	pci_cfg_set(d, PCI_PREF_LIMIT_UPPER32, 0, 4);
}

void pci_bridge_set_home(struct pci_dev *d)
{
	const struct pci_bus *b = d->sec;

	if (!b)
		return;
	d->cfg[PCI_PRIMARY_BUS] = d->bus ? d->bus->nr : 0;
	d->cfg[PCI_SECONDARY_BUS] = b->nr;
	d->cfg[PCI_SUBORDINATE_BUS] = b->sub;
	close_windows(d);
	if (b->io_size) {
		d->cfg[PCI_IO_BASE] = (b->io_base >> 8) & PCI_IO_RANGE_MASK;
		d->cfg[PCI_IO_LIMIT] = ((b->io_base + b->io_size - 1) >> 8) & PCI_IO_RANGE_MASK;
	}
	if (b->mem_size) {
		pci_cfg_set(d, PCI_MEMORY_BASE, (b->mem_base >> 16) & PCI_MEMORY_RANGE_MASK, 2);
		pci_cfg_set(d, PCI_MEMORY_LIMIT,
			    ((b->mem_base + b->mem_size - 1) >> 16) & PCI_MEMORY_RANGE_MASK, 2);
	}
}

void pci_bridge_cfg_write(struct pci_dev *d, unsigned off, const void *data,
			     unsigned len)
{
	/* Bus numbers route config cycles as they are read; windows and enables need BARs moved. */
	if (d->sec && (overlaps(off, len, PCI_COMMAND, 2) ||
		       overlaps(off, len, PCI_IO_BASE, 2) ||
		       overlaps(off, len, PCI_MEMORY_BASE, PCI_IO_BASE_UPPER16 - PCI_MEMORY_BASE)))
		pci_bus_update_bars(d->sec);
}

void pci_bridge_init(struct pci_dev *d, struct platform *pf, uint16_t vendor,
		     uint16_t device, unsigned cfg_size)
{
	/* 0x2c-0x2f are the prefetchable window's upper halves here: no subsystem ids. */
	pci_dev_init(d, pf, vendor, device, 0x060400, 0, 0, 0, cfg_size);
	d->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_BRIDGE;
	pci_cfg_set(d, PCI_INTERRUPT_PIN, 0, 1);
	pci_cfg_wmask(d, PCI_PRIMARY_BUS, 0xffffff, 3);
	pci_cfg_wmask(d, PCI_SEC_LATENCY_TIMER, 0xff, 1);
	pci_cfg_wmask(d, PCI_IO_BASE, PCI_IO_RANGE_MASK & 0xff, 1);
	pci_cfg_wmask(d, PCI_IO_LIMIT, PCI_IO_RANGE_MASK & 0xff, 1);
	pci_cfg_wmask(d, PCI_MEMORY_BASE, PCI_MEMORY_RANGE_MASK & 0xffff, 2);
	pci_cfg_wmask(d, PCI_MEMORY_LIMIT, PCI_MEMORY_RANGE_MASK & 0xffff, 2);
	pci_cfg_wmask(d, PCI_PREF_MEMORY_BASE, PCI_PREF_RANGE_MASK & 0xffff, 2);
	pci_cfg_wmask(d, PCI_PREF_MEMORY_LIMIT, PCI_PREF_RANGE_MASK & 0xffff, 2);
	pci_cfg_wmask(d, PCI_PREF_BASE_UPPER32, 0xffffffff, 4);
	pci_cfg_wmask(d, PCI_PREF_LIMIT_UPPER32, 0xffffffff, 4);
	pci_cfg_wmask(d, PCI_BRIDGE_CONTROL, BRIDGE_CTL_WMASK, 2);
	close_windows(d);
	d->cfg_write = pci_bridge_cfg_write;
	d->reset = pci_bridge_set_home;
}
