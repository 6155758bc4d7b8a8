/*
 * The x86 machines and their own devices: COM ports, CMOS RTC, i8042,
 * port 0x80, ACPI power management, pvpanic, and the PCI host bridge or,
 * without one, an empty 0xcf8/0xcfc. See arch/arch.h.
 */
#include <string.h>

#include "arch/arch.h"
#include "devices/acpi.h"
#include "devices/i8042.h"
#include "devices/pci.h"
#include "devices/platform.h"
#include "devices/port80.h"
#include "devices/pvpanic.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "lib/util.h"

const struct machine_type arch_machine_types[] = {
	{ "microvm", "minimal x86 machine: ACPI, 16550A, CMOS RTC, virtio-mmio (default)",
	  .is_default = 1, .virtio_mmio_slots = VIRTIO_MMIO_SLOTS },
	{ "pci", "microvm plus a PCIe host bridge pci.0 (virtio-pci, MSI-X); virtio-mmio too",
	  .has_pci = 1, .virtio_mmio_slots = 4 },
};
const unsigned arch_nr_machine_types = ARRAY_SIZE(arch_machine_types);

static const struct { uint16_t iobase; unsigned irq; } com_ports[MAX_SERIALS] = {
	{ 0x3f8, 4 }, { 0x2f8, 3 }, { 0x3e8, 4 }, { 0x2e8, 3 },
};

unsigned arch_ram_ranges(uint64_t ram_size, struct arch_ram_range r[ARCH_RAM_RANGES_MAX])
{
	uint64_t low = MIN(ram_size, LOW_RAM_MAX);
	unsigned n = 0;

	r[n++] = (struct arch_ram_range){ .gpa = 0, .size = low, .offset = 0 };
	if (ram_size > low)
		r[n++] = (struct arch_ram_range){
			.gpa = HIGH_RAM_GPA, .size = ram_size - low, .offset = low };
	return n;
}

/*
 * microvm has no PCI host bridge, but every kernel probes the 0xcf8/0xcfc
 * configuration ports: answer as an empty bus would (all-ones) without
 * the unclaimed-port warning on every boot.
 */
static void no_pci_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0xff, len);
}

static void no_pci_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
}

static const struct bus_ops no_pci_ops = { .read = no_pci_read, .write = no_pci_write };

/* The 64-bit BAR window: above RAM (and 4 GiB), 1 GiB aligned. */
static uint64_t mmio64_base(uint64_t ram_size)
{
	struct arch_ram_range r[ARCH_RAM_RANGES_MAX];
	unsigned n = arch_ram_ranges(ram_size, r);

	return ALIGN_UP(MAX(HIGH_RAM_GPA, r[n - 1].gpa + r[n - 1].size), GiB);
}

static int add_serials(struct platform *pf, const struct arch_platform_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_serial; i++) {
		struct device *dev;
		int ret;

		if (!cfg->serial[i])
			continue;
		ret = serial_create(pf, cfg->serial[i], com_ports[i].iobase,
				    com_ports[i].irq, &dev);
		if (ret)
			return ret;
	}
	return 0;
}

int arch_platform_create(struct platform *pf, const struct arch_platform_config *cfg)
{
	int ret;

	/* Like QEMU's microvm: 512-byte virtio-mmio slots with their own GSIs. */
	pf->virtio_mmio_base = VIRTIO_MMIO_BASE;
	pf->virtio_mmio_size = VIRTIO_MMIO_SLOT_SIZE;
	pf->virtio_mmio_gsi_base = VIRTIO_MMIO_GSI_BASE;
	pf->virtio_mmio_slots = cfg->type->virtio_mmio_slots;

	ret = add_serials(pf, cfg);
	if (!ret && cfg->type->has_pci)
		ret = pci_host_create(pf, PCI_ECAM_BASE, PCI_MMIO32_BASE, PCI_MMIO32_SIZE,
				      mmio64_base(cfg->ram_size), PCI_MMIO64_SIZE);
	else if (!ret)
		ret = bus_register(&pf->pio, 0xcf8, 8, &no_pci_ops, NULL, "no-pci");
	if (!ret)
		ret = rtc_create(pf);
	if (!ret)
		ret = i8042_create(pf);
	if (!ret)
		ret = port80_create(pf);
	if (!ret)
		ret = acpi_pm_create(pf);
	if (!ret)
		ret = pvpanic_create(pf);
	return ret;
}

void arch_platform_destroy(struct platform *pf)
{
	if (pf->pci)
		pci_host_destroy(pf);
}
