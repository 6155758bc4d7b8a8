/*
 * The PCI bus tree as a hostile guest sees it: pcie-root-ports (hot-plug
 * slots) and a pci-bridge, made with -device as the command line makes
 * them, functions with BARs behind them, and a sequence of config cycles
 * (ECAM of any bus, 0xCF8/0xCFC), accesses to the memory windows, and the
 * host's side of hot-plug (a device arriving, device_del's button, the
 * guest letting go, a machine reset) interleaved. The guest renumbers the
 * buses, moves and closes the windows and the BARs; nothing may crash,
 * leak a BAR mapping or hand out a slot twice. See docs/fuzzing.md.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "devices/device.h"
#include "devices/pci.h"
#include "devices/pci_ports.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/util.h"
#include "fuzz_ops.h"

#define ECAM		0xe0000000ULL
#define MMIO32		0xc0000000ULL
#define MMIO32_SIZE	0x10000000ULL
#define MMIO64		0x800000000ULL
#define MMIO64_SIZE	0x800000000ULL

static struct platform pf;

/* The sandbox is not the fuzzer's business. */
void sandbox_allow_hotplug(void)
{
}

static void fake_irq_set(void *opaque, unsigned gsi, int level)
{
	if (gsi >= 24)
		abort();
}

static unsigned events;

static void fake_event(void *opaque, enum platform_event ev)
{
	events++;
}

/* Functions behind the bridges: a 4 KiB and a 64-bit 16 KiB memory BAR; on br1 256 I/O ports. */
struct fn {
	struct pci_dev pci;
	bool on;
};

static struct fn fns[3];
static const char *const fn_bus[] = { "rp1", "br1", "br2" };

static void fn_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0x5a, len);
}

static void fn_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
}

static const struct bus_ops fn_ops = { .read = fn_read, .write = fn_write };

static void fn_plug(unsigned i, bool hot)
{
	struct fn *f = &fns[i];

	if (f->on)
		return;
	if (hot && pcie_port_check(&pf, fn_bus[i], true, "fuzz"))
		return;
	pci_dev_init(&f->pci, &pf, 0x1234, 0x5678 + i, 0xff0000, 0, 0, 0, PCI_CFG_SIZE);
	if (pci_bar_init(&f->pci, 0, PCI_BAR_MEM32, 4096, false, &fn_ops, f) ||
	    pci_bar_init(&f->pci, 2, PCI_BAR_MEM64, 16384, true, &fn_ops, f) ||
	    (i == 1 && pci_bar_init(&f->pci, 4, PCI_BAR_IO, 256, false, &fn_ops, f)))
		abort();
	if (pci_dev_register(pf.pci, &f->pci, fn_bus[i], i == 1 ? 3 : 0, 0, "fuzz fn"))
		return;
	f->on = true;
	if (hot)
		pcie_port_plugged(&pf, fn_bus[i]);
}

static void fn_unplug(unsigned i)
{
	if (!fns[i].on)
		return;
	pci_dev_unregister(&fns[i].pci);
	pci_dev_destroy(&fns[i].pci);
	fns[i].on = false;
}

static void host_event(uint8_t e)
{
	const char *port;

	switch (e & 7) {
	case 0:
		fn_plug(0, true);
		break;
	case 1:
		pcie_port_unplug_request(&pf, e & 8 ? "rp2" : "rp1", "fuzz");
		break;
	case 2:
		/* What the machine does on PF_EVENT_HOTPLUG. */
		while ((port = pcie_port_released(&pf))) {
			if (!strcmp(port, "rp1"))
				fn_unplug(0);
			pcie_port_removed(&pf, port);
		}
		break;
	case 3:
		pci_host_reset(pf.pci);
		break;
	default:
		fn_plug((e >> 3) % 3, false);
		break;
	}
}

/*
 * One operation: a kind byte (bits 0-1 where, bit 2 write, bits 4-5 log2 of
 * the size), the operands of that place, then for a write the value.
 */
static bool step(struct in *in)
{
	uint8_t kind, b8;
	uint32_t b32;
	uint64_t addr, val = 0;
	struct bus *bus = &pf.mmio;
	unsigned len;

	if (!take(in, &kind, 1))
		return false;
	len = 1u << ((kind >> 4) & 3);
	switch (kind & 3) {
	case 0:		/* ECAM: bus, devfn, register */
		if (!take(in, &b32, 4))
			return false;
		addr = ECAM + ((uint64_t)(b32 & 0x1f) << 20 | (b32 >> 8 & 0xff) << 12 |
			       (b32 >> 16 & 0xfff));
		break;
	case 1:		/* 0xCF8-0xCFF */
		if (!take(in, &b8, 1))
			return false;
		bus = &pf.pio;
		addr = 0xcf8 + (b8 & 7);
		len = MIN(len, 4u);
		break;
	case 2:		/* the 32-bit window, where the bridges' windows are */
		if (!take(in, &b32, 4))
			return false;
		addr = MMIO32 + b32 % MMIO32_SIZE;
		if (kind & 0x40) {
			bus = &pf.pio;
			addr = 0xc000 + (b32 & 0x3fff);
			len = MIN(len, 4u);
		}
		break;
	default:
		if (!take(in, &b8, 1))
			return false;
		host_event(b8);
		return true;
	}
	if (kind & 4) {
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
	static const char *const tree[] = {
		"pcie-root-port,id=rp1,chassis=1,slot=1,addr=2",
		"pcie-root-port,id=rp2,chassis=1,slot=2,addr=3,io-reserve=4K",
		"pci-bridge,id=br1,addr=5,io-reserve=4K",
		"pci-bridge,id=br2,bus=br1,addr=1,mem-reserve=2M",
	};
	struct in in = { data, size };
	unsigned steps = 0;

	log_set_quiet(1);
	memset(&pf, 0, sizeof(pf));
	memset(fns, 0, sizeof(fns));
	events = 0;
	if (bus_init(&pf.pio, "pio") || bus_init(&pf.mmio, "mmio"))
		abort();
	pf.irq_set = fake_irq_set;
	pf.event = fake_event;
	if (pci_host_create(&pf, ECAM, MMIO32, MMIO32_SIZE, MMIO64, MMIO64_SIZE))
		abort();
	for (unsigned i = 0; i < ARRAY_SIZE(tree); i++)
		if (device_create(&pf, tree[i]))
			abort();
	fn_plug(1, false);

	while (steps++ < 4096 && step(&in))
		;
	if (getenv("FUZZ_TRACE"))
		fprintf(stderr, "%u hot-plug events\n", events);

	for (unsigned i = 0; i < ARRAY_SIZE(fns); i++)
		fn_unplug(i);
	device_destroy_all(&pf);
	pci_host_destroy(&pf);
	/* Every window, BAR and port is gone again. */
	if (pf.mmio.nr || pf.pio.nr)
		abort();
	bus_destroy(&pf.pio);
	bus_destroy(&pf.mmio);
	return 0;
}
