/*
 * The PCI bus tree: pcie-root-port and pci-bridge made with -device, test
 * functions placed behind them, and what a guest then sees through the
 * ECAM: firmware's bus numbers and windows, config cycles and BAR decode
 * following what the guest programs into the bridges, INTx swizzled up to
 * pci.0, and each impossible tree refused with one message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devices/device.h"
#include "devices/pci.h"
#include "devices/pci_ports.h"
#include "lib/log.h"
#include "pci_guest.h"

static int irq_level[24];
static unsigned hotplug_events;

static void irq_set(void *opaque, unsigned gsi, int level)
{
	assert_true(gsi < 24);
	irq_level[gsi] = level;
}

static void pf_event(void *opaque, enum platform_event ev)
{
	if (ev == PF_EVENT_HOTPLUG)
		hotplug_events++;
}

static uint32_t cfg_read(unsigned bus, unsigned slot, unsigned fn, unsigned reg, unsigned len)
{
	return mmio_read(ECAM + ((uint64_t)bus << 20 | slot << 15 | fn << 12 | reg), len);
}

static void cfg_write(unsigned bus, unsigned slot, unsigned fn, unsigned reg, uint32_t v,
		      unsigned len)
{
	mmio_write(ECAM + ((uint64_t)bus << 20 | slot << 15 | fn << 12 | reg), v, len);
}

/* A function with one 4 KiB memory BAR that answers 0xb0b0b0b0. */
struct tdev {
	struct pci_dev pci;
	unsigned reads;
};

static void t_bar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct tdev *t = opaque;

	t->reads++;
	memset(data, 0xb0, len);
}

static void t_bar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
}

static const struct bus_ops t_ops = { .read = t_bar_read, .write = t_bar_write };

static struct tdev ta, tb;

static int tdev_add(struct tdev *t, const char *bus, int slot, const char *owner)
{
	pci_dev_init(&t->pci, &pf, 0x1234, 0x5678, 0xff0000, 0, 0, 0, PCI_CFG_SIZE);
	assert_int_equal(pci_bar_init(&t->pci, 0, PCI_BAR_MEM32, 4096, false, &t_ops, t), 0);
	return pci_dev_register(pf.pci, &t->pci, bus, slot, 0, owner);
}

static int setup(void **state)
{
	memset(&pf, 0, sizeof(pf));
	log_set_quiet(1);
	bus_init(&pf.pio, "pio");
	bus_init(&pf.mmio, "mmio");
	pf.irq_set = irq_set;
	pf.event = pf_event;
	pf.msi_send = fake_msi_send;
	memset(irq_level, 0, sizeof(irq_level));
	hotplug_events = 0;
	assert_int_equal(pci_host_create(&pf, ECAM, MMIO32, MMIO32_SIZE, MMIO64, MMIO64_SIZE), 0);
	return 0;
}

static int teardown(void **state)
{
	struct tdev *all[] = { &ta, &tb };

	for (unsigned i = 0; i < 2; i++) {
		pci_dev_unregister(&all[i]->pci);
		memset(all[i], 0, sizeof(*all[i]));
	}
	device_destroy_all(&pf);
	pci_host_destroy(&pf);
	assert_int_equal(pf.mmio.nr, 0);
	assert_int_equal(pf.pio.nr, 0);
	bus_destroy(&pf.pio);
	bus_destroy(&pf.mmio);
	return 0;
}

/* rp1 at 00:02, rp2 at 00:03, br1 at 00:05, br2 at br1's slot 1. */
static void tree(void)
{
	assert_int_equal(device_create(&pf, "pcie-root-port,id=rp1,chassis=1,slot=1,addr=2"), 0);
	assert_int_equal(device_create(&pf, "pcie-root-port,id=rp2,chassis=1,slot=2,addr=3"), 0);
	assert_int_equal(device_create(&pf, "pci-bridge,id=br1,chassis_nr=2,addr=5"), 0);
	assert_int_equal(device_create(&pf, "pci-bridge,id=br2,bus=br1,addr=1"), 0);
}

static uint64_t mem_window(unsigned bus, unsigned slot, uint64_t *limit)
{
	*limit = (uint64_t)(cfg_read(bus, slot, 0, PCI_MEMORY_LIMIT, 2) & 0xfff0) << 16 | 0xfffff;
	return (uint64_t)(cfg_read(bus, slot, 0, PCI_MEMORY_BASE, 2) & 0xfff0) << 16;
}

static void t_numbers_and_ids(void **state)
{
	tree();
	assert_int_equal(cfg_read(0, 2, 0, PCI_VENDOR_ID, 4), 0x000c1b36);
	assert_int_equal(cfg_read(0, 5, 0, PCI_VENDOR_ID, 4), 0x00011b36);
	assert_int_equal(cfg_read(0, 2, 0, PCI_CLASS_DEVICE, 2), 0x0604);
	assert_int_equal(cfg_read(0, 2, 0, PCI_HEADER_TYPE, 1), 1);
	/* Depth first, in slot order: rp1 1, rp2 2, br1 3 with br2 4 below it. */
	assert_int_equal(cfg_read(0, 2, 0, PCI_PRIMARY_BUS, 4) & 0xffffff, 0x010100);
	assert_int_equal(cfg_read(0, 3, 0, PCI_PRIMARY_BUS, 4) & 0xffffff, 0x020200);
	assert_int_equal(cfg_read(0, 5, 0, PCI_PRIMARY_BUS, 4) & 0xffffff, 0x040300);
	assert_int_equal(cfg_read(3, 1, 0, PCI_PRIMARY_BUS, 4) & 0xffffff, 0x040403);
	/* A root port: PCIe capability, type root port, slot implemented, slot number. */
	{
		unsigned cap = cfg_read(0, 2, 0, PCI_CAPABILITY_LIST, 1);

		assert_int_equal(cfg_read(0, 2, 0, cap, 1), PCI_CAP_ID_EXP);
		assert_int_equal(cfg_read(0, 2, 0, cap + PCI_EXP_FLAGS, 2) & 0x1f0,
				 PCI_EXP_TYPE_ROOT_PORT << 4 | PCI_EXP_FLAGS_SLOT);
		assert_int_equal(cfg_read(0, 2, 0, cap + PCI_EXP_SLTCAP, 4) >> 19, 1);
	}
	assert_int_equal(cfg_read(1, 0, 0, PCI_VENDOR_ID, 2), 0xffff);
	assert_int_equal(cfg_read(5, 0, 0, PCI_VENDOR_ID, 2), 0xffff);
}

static void t_placement(void **state)
{
	uint64_t base, limit, bar;

	tree();
	assert_int_equal(tdev_add(&ta, "rp1", -1, "ta"), 0);
	assert_int_equal(tdev_add(&tb, "br2", 4, "tb"), 0);
	assert_int_equal(cfg_read(1, 0, 0, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(cfg_read(1, 1, 0, PCI_VENDOR_ID, 2), 0xffff);	/* one slot */
	assert_int_equal(cfg_read(4, 4, 0, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(cfg_read(3, 4, 0, PCI_VENDOR_ID, 2), 0xffff);
	/* BARs inside their bridges' windows; br2's window inside br1's. */
	base = mem_window(0, 2, &limit);
	bar = cfg_read(1, 0, 0, PCI_BASE_ADDRESS_0, 4) & ~0xfu;
	assert_true(base >= MMIO32 && bar >= base && bar + 4095 <= limit);
	{
		uint64_t b1lim, b1 = mem_window(0, 5, &b1lim);

		base = mem_window(3, 1, &limit);
		assert_true(base >= b1 && limit <= b1lim);
		bar = cfg_read(4, 4, 0, PCI_BASE_ADDRESS_0, 4) & ~0xfu;
		assert_true(bar >= base && bar + 4095 <= limit);
	}
	/* Two root ports' windows do not meet. */
	{
		uint64_t l2, b2 = mem_window(0, 3, &l2), l1, b1 = mem_window(0, 2, &l1);

		assert_true(l1 < b2 || l2 < b1);
	}
	/* INTA of 04.0 behind br2 (at 01 of br1, at 05 of pci.0): 20 + (5 + 1 + 4) % 4. */
	assert_int_equal(cfg_read(4, 4, 0, PCI_INTERRUPT_LINE, 1), 20 + (5 + 1 + 4) % 4);
	assert_int_equal(cfg_read(1, 0, 0, PCI_INTERRUPT_LINE, 1), 20 + (2 + 0) % 4);
}

static void t_decode_follows_bridge(void **state)
{
	uint64_t bar, base, limit;

	tree();
	assert_int_equal(tdev_add(&ta, "rp1", 0, "ta"), 0);
	bar = cfg_read(1, 0, 0, PCI_BASE_ADDRESS_0, 4) & ~0xfu;
	cfg_write(1, 0, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	/* The root port does not forward memory yet. */
	assert_int_equal(mmio_read(bar, 4), 0xffffffff);
	assert_int_equal(ta.reads, 0);
	cfg_write(0, 2, 0, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(mmio_read(bar, 4), 0xb0b0b0b0);
	/* The guest moves the window away: the BAR stops decoding. */
	base = mem_window(0, 2, &limit);
	cfg_write(0, 2, 0, PCI_MEMORY_BASE, (base >> 16) + 0x10, 2);
	cfg_write(0, 2, 0, PCI_MEMORY_LIMIT, (limit >> 16) + 0x10, 2);
	assert_int_equal(mmio_read(bar, 4), 0xffffffff);
	/* The prefetchable window (64-bit) covers it: decodes again. */
	cfg_write(0, 2, 0, PCI_PREF_MEMORY_BASE, bar >> 16, 2);
	cfg_write(0, 2, 0, PCI_PREF_MEMORY_LIMIT, bar >> 16, 2);
	cfg_write(0, 2, 0, PCI_PREF_BASE_UPPER32, 0, 4);
	cfg_write(0, 2, 0, PCI_PREF_LIMIT_UPPER32, 0, 4);
	assert_int_equal(mmio_read(bar, 4), 0xb0b0b0b0);
	/* Memory decode off at the port: nothing below decodes. */
	cfg_write(0, 2, 0, PCI_COMMAND, 0, 2);
	assert_int_equal(mmio_read(bar, 4), 0xffffffff);
}

static void t_routing_follows_guest(void **state)
{
	tree();
	assert_int_equal(tdev_add(&ta, "rp1", 0, "ta"), 0);
	/* The guest renumbers rp1's bus to 9: bus 1 is silent, 9 answers. */
	cfg_write(0, 2, 0, PCI_PRIMARY_BUS, 0x090900, 4);
	assert_int_equal(cfg_read(1, 0, 0, PCI_VENDOR_ID, 2), 0xffff);
	assert_int_equal(cfg_read(9, 0, 0, PCI_VENDOR_ID, 2), 0x1234);
	/* Through 0xcf8/0xcfc as well. */
	{
		uint32_t a = 0x80000000u | 9 << 16, v = 0;

		bus_write(&pf.pio, 0xcf8, &a, 4);
		bus_read(&pf.pio, 0xcfc, &v, 2);
		assert_int_equal(v, 0x1234);
	}
	/* A reset gives firmware's numbers back. */
	pci_host_reset(pf.pci);
	assert_int_equal(cfg_read(0, 2, 0, PCI_PRIMARY_BUS, 4) & 0xffffff, 0x010100);
	assert_int_equal(cfg_read(1, 0, 0, PCI_VENDOR_ID, 2), 0x1234);
	assert_int_equal(cfg_read(0, 2, 0, PCI_COMMAND, 2), 0);
}

/* @opts refused, with a message holding @what; nothing more is made. */
static void refused(const char *opts, const char *what)
{
	struct device *before = pf.devices;
	unsigned n = 0;

	for (struct device *d = before; d; d = d->next)
		n++;
	assert_int_not_equal(device_create(&pf, opts), 0);
	if (!strstr(log_last(), what))
		fail_msg("-device %s: '%s' does not say '%s'", opts, log_last(), what);
	for (struct device *d = pf.devices; d; d = d->next)
		n--;
	assert_int_equal(n, 0);
}

static void t_impossible_trees(void **state)
{
	tree();
	refused("pci-bridge,id=b9,bus=nope", "no bus 'nope'");
	refused("pci-bridge,id=b9,bus=b9", "a loop");
	refused("pcie-root-port,id=rp9,chassis=3,bus=br1", "bus 'br1' is behind a bridge");
	refused("pcie-root-port,id=rp9,chassis=1,slot=2", "chassis 1 slot 2 is taken by rp2");
	refused("pcie-root-port,chassis=4", "give it an id=");
	refused("pci-bridge,id=b9,addr=2", "slot 2 of pci.0 is taken by pcie-root-port rp1");
	refused("pci-bridge,id=b9,bus=br1,addr=1", "slot 1 of br1 is taken by pci-bridge br2");
	refused("pci-bridge,id=b9,bus=rp1,addr=1", "bus rp1 is a root port's: it has slot 0 only");
	refused("pci-bridge,id=rp1,addr=9", "duplicate id 'rp1'");
	assert_int_equal(tdev_add(&ta, "rp1", -1, "ta"), 0);
	assert_int_equal(tdev_add(&tb, "rp1", -1, "tb"), -ENOSPC);
	assert_non_null(strstr(log_last(), "tb: no free slot on rp1"));
	assert_int_equal(tdev_add(&tb, "scsi0.0", -1, "tb"), -ENODEV);
	assert_non_null(strstr(log_last(), "tb: no bus 'scsi0.0'"));
	/* The root port's one slot was not left half taken. */
	assert_int_equal(cfg_read(1, 0, 0, PCI_VENDOR_ID, 2), 0x1234);
}

static void t_bus_numbers_run_out(void **state)
{
	char o[64];
	int i;

	assert_int_equal(device_create(&pf, "pci-bridge,id=b0,mem-reserve=64M"), 0);
	for (i = 1; i < PCI_BUSES - 1; i++) {
		snprintf(o, sizeof(o), "pci-bridge,id=b%d,bus=b0,addr=%x,mem-reserve=1M",
			 i, i - 1);
		assert_int_equal(device_create(&pf, o), 0);
	}
	refused("pci-bridge,id=last,mem-reserve=1M", "no bus number left");
	/* The last bus is reachable through the ECAM. */
	assert_int_equal(cfg_read(1, 0x1d, 0, PCI_SECONDARY_BUS, 1), 31);
	assert_int_equal(cfg_read(31, 0, 0, PCI_VENDOR_ID, 2), 0xffff);
	assert_int_equal(cfg_read(1, 0x1d, 0, PCI_VENDOR_ID, 2), 0x1b36);
}

/* rp1 (00:02.0, INTA on GSI 22)'s PCIe capability registers. */
static unsigned exp_cap(void)
{
	return cfg_read(0, 2, 0, PCI_CAPABILITY_LIST, 1);
}

static uint16_t slot(unsigned reg)
{
	return cfg_read(0, 2, 0, exp_cap() + reg, 2);
}

static void t_hotplug_registers(void **state)
{
	unsigned cap;
	uint32_t sltcap;

	tree();
	cap = exp_cap();
	sltcap = cfg_read(0, 2, 0, cap + PCI_EXP_SLTCAP, 4);
	assert_int_equal(sltcap & (PCI_EXP_SLTCAP_HPC | PCI_EXP_SLTCAP_ABP | PCI_EXP_SLTCAP_PCP |
				   PCI_EXP_SLTCAP_AIP | PCI_EXP_SLTCAP_PIP),
			 PCI_EXP_SLTCAP_HPC | PCI_EXP_SLTCAP_ABP | PCI_EXP_SLTCAP_PCP |
			 PCI_EXP_SLTCAP_AIP | PCI_EXP_SLTCAP_PIP);
	assert_false(sltcap & PCI_EXP_SLTCAP_HPS);	/* not surprise: the button asks */
	assert_true(cfg_read(0, 2, 0, cap + PCI_EXP_LNKCAP, 4) & PCI_EXP_LNKCAP_DLLLARC);
	assert_int_equal(cfg_read(0, 2, 0, PCI_INTERRUPT_PIN, 1), 1);
	/* Empty: no presence, link down. */
	assert_false(slot(PCI_EXP_SLTSTA) & PCI_EXP_SLTSTA_PDS);
	assert_false(slot(PCI_EXP_LNKSTA) & PCI_EXP_LNKSTA_DLLLA);
	/* pciehp's set-up: events on; a control write completes at once (CC). */
	cfg_write(0, 2, 0, PCI_COMMAND, 0, 2);
	cfg_write(0, 2, 0, cap + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_ABPE | PCI_EXP_SLTCTL_PDCE |
		  PCI_EXP_SLTCTL_CCIE | PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_DLLSCE |
		  PCI_EXP_SLTCTL_PWR_IND_ON | PCI_EXP_SLTCTL_ATTN_IND_OFF, 2);
	assert_true(slot(PCI_EXP_SLTSTA) & PCI_EXP_SLTSTA_CC);
	assert_int_equal(irq_level[22], 1);
	cfg_write(0, 2, 0, cap + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_CC, 2);	/* RW1C */
	assert_false(slot(PCI_EXP_SLTSTA) & PCI_EXP_SLTSTA_CC);
	assert_int_equal(irq_level[22], 0);

	/* A device arrives: presence and link state change, the interrupt. */
	assert_int_equal(pcie_port_check(&pf, "rp1", true, "add"), 0);
	assert_int_equal(tdev_add(&ta, "rp1", 0, "ta"), 0);
	pcie_port_plugged(&pf, "rp1");
	assert_int_equal(slot(PCI_EXP_SLTSTA) & (PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC |
						  PCI_EXP_SLTSTA_PDS),
			 PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC | PCI_EXP_SLTSTA_PDS);
	assert_true(slot(PCI_EXP_LNKSTA) & PCI_EXP_LNKSTA_DLLLA);
	assert_int_equal(irq_level[22], 1);
	/* Writing 0s clears nothing; 1s clear what they hit. */
	cfg_write(0, 2, 0, cap + PCI_EXP_SLTSTA, 0, 2);
	assert_int_equal(irq_level[22], 1);
	cfg_write(0, 2, 0, cap + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_DLLSC, 2);
	assert_int_equal(irq_level[22], 0);
	assert_int_equal(pcie_port_check(&pf, "rp1", true, "add2"), -EEXIST);
	assert_non_null(strstr(log_last(), "add2: the slot of rp1 is taken by ta"));
	assert_int_equal(pcie_port_check(&pf, "rp2", true, "add3"), 0);
	assert_int_equal(pcie_port_check(&pf, "br1", true, "add4"), -ENODEV);
	assert_int_equal(pcie_port_check(&pf, NULL, true, "add5"), -ENODEV);
	assert_non_null(strstr(log_last(), "bus 'pci.0' is not a pcie-root-port"));

	/* device_del: the attention button; a second request waits for the guest. */
	assert_int_equal(pcie_port_unplug_request(&pf, "rp1", "del"), 0);
	assert_true(slot(PCI_EXP_SLTSTA) & PCI_EXP_SLTSTA_ABP);
	assert_int_equal(irq_level[22], 1);
	assert_int_equal(pcie_port_unplug_request(&pf, "rp1", "del2"), -EBUSY);
	assert_non_null(strstr(log_last(), "del2: an unplug is already in progress"));
	cfg_write(0, 2, 0, cap + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_ABP, 2);
	assert_int_equal(irq_level[22], 0);
	/* Power off with the indicator blinking is not letting go yet. */
	cfg_write(0, 2, 0, cap + PCI_EXP_SLTCTL, (slot(PCI_EXP_SLTCTL) & ~PCI_EXP_SLTCTL_PIC) |
		  PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_PWR_IND_BLINK, 2);
	assert_int_equal(hotplug_events, 0);
	assert_null(pcie_port_released(&pf));
	/* Power off, indicator off: released, once. */
	cfg_write(0, 2, 0, cap + PCI_EXP_SLTCTL, (slot(PCI_EXP_SLTCTL) & ~PCI_EXP_SLTCTL_PIC) |
		  PCI_EXP_SLTCTL_PCC | PCI_EXP_SLTCTL_PWR_IND_OFF, 2);
	assert_int_equal(hotplug_events, 1);
	assert_string_equal(pcie_port_released(&pf), "rp1");
	assert_null(pcie_port_released(&pf));
	pci_dev_unregister(&ta.pci);
	cfg_write(0, 2, 0, cap + PCI_EXP_SLTSTA, 0xffff, 2);
	pcie_port_removed(&pf, "rp1");
	assert_int_equal(slot(PCI_EXP_SLTSTA) & (PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_PDS),
			 PCI_EXP_SLTSTA_PDC);
	assert_false(slot(PCI_EXP_LNKSTA) & PCI_EXP_LNKSTA_DLLLA);
	/* A new request after that is a new one; a reset forgets it. */
	assert_int_equal(pcie_port_unplug_request(&pf, "rp1", "del3"), 0);
	pci_host_reset(pf.pci);
	assert_int_equal(pcie_port_unplug_request(&pf, "rp1", "del4"), 0);
	assert_int_equal(slot(PCI_EXP_SLTCTL) & PCI_EXP_SLTCTL_PCC, 0);
}

static void t_hotplug_off(void **state)
{
	assert_int_equal(device_create(&pf, "pcie-root-port,id=rp1,hotplug=off,addr=2"), 0);
	assert_false(cfg_read(0, 2, 0, exp_cap() + PCI_EXP_SLTCAP, 4) & PCI_EXP_SLTCAP_HPC);
	assert_int_equal(pcie_port_check(&pf, "rp1", true, "add"), -ENODEV);
	assert_non_null(strstr(log_last(), "add: bus 'rp1' is not a pcie-root-port with hotplug=on"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_numbers_and_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(t_placement, setup, teardown),
		cmocka_unit_test_setup_teardown(t_decode_follows_bridge, setup, teardown),
		cmocka_unit_test_setup_teardown(t_routing_follows_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(t_impossible_trees, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bus_numbers_run_out, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hotplug_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(t_hotplug_off, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
