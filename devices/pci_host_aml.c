/*
 * The PCI host bridge's DSDT node, \_SB.PCI0 (acpi_dsdt_add_pci_host in
 * pci.h). Apart from pci_host.c so that the ACPI tables' unit test links
 * only the emitter and this.
 */
#include <errno.h>
#include <stdio.h>

#include "devices/aml.h"
#include "devices/pci.h"
#include "lib/util.h"

/* _OSC (PCI Firmware 3.3, 4.5.1): grant what the OS asks for among 0x1f. */
#define PCI_OSC_UUID	"33DB4D5B-1FF7-401C-9657-7441C03DD766"
#define PCI_OSC_GRANTED	0x1f	/* PCIe hot-plug, SHPC, PME, AER, PCIe capability */

/* Or(CDW1, @bit, CDW1) */
static void osc_flag(struct aml *a, unsigned bit)
{
	aml_op(a, AML_OR);
	aml_namestring(a, "CDW1");
	aml_int(a, bit);
	aml_namestring(a, "CDW1");
}

static void osc_dword(struct aml *a, unsigned index, const char *name)
{
	aml_op(a, AML_CREATE_DWORD_FIELD);
	aml_arg(a, 3);
	aml_int(a, index);
	aml_namestring(a, name);
}

static void pci_osc(struct aml *a)
{
	size_t m, i, j, e;

	m = aml_method(a, "_OSC", 4, false);
	osc_dword(a, 0, "CDW1");
	i = aml_if(a);
	aml_op(a, AML_LEQUAL);
	aml_arg(a, 0);
	aml_uuid(a, PCI_OSC_UUID);
	osc_dword(a, 8, "CDW3");
	aml_op(a, AML_STORE);		/* Local0 = CDW3 & granted */
	aml_namestring(a, "CDW3");
	aml_local(a, 0);
	aml_op(a, AML_AND);
	aml_local(a, 0);
	aml_int(a, PCI_OSC_GRANTED);
	aml_local(a, 0);
	j = aml_if(a);			/* unknown revision */
	aml_op(a, AML_LNOT);
	aml_op(a, AML_LEQUAL);
	aml_arg(a, 1);
	aml_int(a, 1);
	osc_flag(a, 0x08);
	aml_end(a, j);
	j = aml_if(a);			/* some controls were masked */
	aml_op(a, AML_LNOT);
	aml_op(a, AML_LEQUAL);
	aml_namestring(a, "CDW3");
	aml_local(a, 0);
	osc_flag(a, 0x10);
	aml_end(a, j);
	aml_op(a, AML_STORE);
	aml_local(a, 0);
	aml_namestring(a, "CDW3");
	aml_end(a, i);
	e = aml_else(a);		/* unrecognized UUID */
	osc_flag(a, 0x04);
	aml_end(a, e);
	aml_return(a);
	aml_arg(a, 3);
	aml_end(a, m);
}

/* Link GSI@i: its one GSI, level, active high; _SRS accepts only that. */
static void pci_link(struct aml *a, unsigned i, unsigned gsi)
{
	char name[5];
	size_t dev, m, crs;

	snprintf(name, sizeof(name), "GSI%u", i);
	dev = aml_device(a, name);
	aml_hid(a, "PNP0C0F");
	aml_name(a, "_UID");
	aml_int(a, i);
	for (int n = 0; n < 2; n++) {
		aml_name(a, n ? "_CRS" : "_PRS");
		crs = aml_res_begin(a);
		aml_res_interrupt(a, AML_IRQ_CONSUMER, gsi);
		aml_res_end(a, crs);
	}
	m = aml_method(a, "_SRS", 1, false);
	aml_end(a, m);
	aml_end(a, dev);
}

void acpi_dsdt_add_pci_host(struct aml *a, const struct pci_layout *l)
{
	size_t dev, prt, pkg, crs, res;

	if (!l->mmio32_size || l->mmio32_base + l->mmio32_size > 4 * GiB ||
	    l->ecam_base + l->ecam_size > 4 * GiB || l->bus_last < l->bus_first ||
	    (uint32_t)l->io_base + l->io_size > 0x10000 ||
	    (l->mmio64_size && range_wraps(l->mmio64_base, l->mmio64_size))) {
		aml_fail(a, -EINVAL);
		return;
	}
	dev = aml_device(a, "PCI0");
	aml_hid(a, "PNP0A08");
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_SEG");
	aml_int(a, 0);
	aml_name(a, "_BBN");
	aml_int(a, l->bus_first);
	aml_name(a, "_UID");
	aml_int(a, 0);

	/* Slot s, pin p (INTA = 0) -> link (s + p) % 4, as QEMU swizzles. */
	aml_name(a, "_PRT");
	prt = aml_package(a, PCI_SLOTS * PCI_INTX_PINS);
	for (unsigned s = 0; s < PCI_SLOTS; s++)
		for (unsigned p = 0; p < PCI_INTX_PINS; p++) {
			char link[5];

			snprintf(link, sizeof(link), "GSI%u", (s + p) % PCI_INTX_PINS);
			pkg = aml_package(a, 4);
			aml_int(a, (uint64_t)s << 16 | 0xffff);
			aml_int(a, p);
			aml_namestring(a, link);
			aml_int(a, 0);
			aml_end(a, pkg);
		}
	aml_end(a, prt);
	for (unsigned i = 0; i < PCI_INTX_PINS; i++)
		pci_link(a, i, l->intx_gsi[i]);

	aml_name(a, "_CRS");
	crs = aml_res_begin(a);
	aml_res_word_bus(a, l->bus_first, l->bus_last);
	aml_res_io(a, 0xcf8, 0xcf8, 1, 8);
	if (l->io_size)
		aml_res_word_io(a, l->io_base, l->io_base + l->io_size - 1);
	aml_res_dword_mem(a, false, l->mmio32_base, l->mmio32_base + l->mmio32_size - 1);
	if (l->mmio64_size)
		aml_res_qword_mem(a, false, l->mmio64_base,
				  l->mmio64_base + l->mmio64_size - 1);
	aml_res_end(a, crs);
	pci_osc(a);

	res = aml_device(a, "RES0");
	aml_hid(a, "PNP0C02");
	aml_name(a, "_CRS");
	crs = aml_res_begin(a);
	aml_res_mem32_fixed(a, true, l->ecam_base, l->ecam_size);
	aml_res_end(a, crs);
	aml_end(a, res);
	aml_end(a, dev);
}
