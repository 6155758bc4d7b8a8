/*
 * The MADT: what gives an x86 guest its CPUs (Debian's kernel ignores MP
 * tables) and its I/O APIC. acpi_build() completes the header, places it
 * after the FADT and lists it in the XSDT. See arch/x86/acpi.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "arch/x86/acpi.h"
#include "devices/acpi.h"
#include "lib/log.h"

struct madt {
	struct acpi_header h;
	uint32_t lapic_addr;
	uint32_t flags;
} __attribute__((packed));

struct madt_lapic {
	uint8_t type, len, uid, apic_id;
	uint32_t flags;
} __attribute__((packed));

struct madt_ioapic {
	uint8_t type, len, id, reserved;
	uint32_t addr, gsi_base;
} __attribute__((packed));

struct madt_lapic_nmi {
	uint8_t type, len, uid;
	uint16_t flags;
	uint8_t lint;
} __attribute__((packed));

enum { MADT_LAPIC = 0, MADT_IOAPIC = 1, MADT_LAPIC_NMI = 4 };

/*
 * No Interrupt Source Overrides: ISA IRQs reach the I/O APIC pins of the
 * same number, edge and active high, which is the default. QEMU's PC adds
 * IRQ 0 -> GSI 2 for the PIT, but a hardware-reduced guest runs no PIT
 * timer (kvm-clock and the local APIC timer), and since SCI_INT is 0, Linux
 * would take an override of IRQ 0 for the SCI's and make that line level
 * triggered, active low. Flags 0: no dual 8259 (PCAT_COMPAT) either.
 */
int madt_build(unsigned ncpus, void **out)
{
	size_t len = sizeof(struct madt) + ncpus * sizeof(struct madt_lapic) +
		     sizeof(struct madt_ioapic) + sizeof(struct madt_lapic_nmi);
	struct madt *m;
	uint8_t *p;

	/* The I/O APIC's id is ncpus, and 0xff means "all processors". */
	if (ncpus < 1 || ncpus > MAX_VCPUS) {
		err_msg("ACPI: %u CPUs; the MADT can describe 1 to %u", ncpus, MAX_VCPUS);
		return -EINVAL;
	}
	m = calloc(1, len);
	if (!m)
		return -ENOMEM;
	memcpy(m->h.sig, "APIC", 4);
	m->h.len = len;
	m->h.rev = 4;
	m->lapic_addr = LAPIC_ADDR;
	p = (uint8_t *)(m + 1);
	for (unsigned i = 0; i < ncpus; i++, p += sizeof(struct madt_lapic))
		*(struct madt_lapic *)p = (struct madt_lapic){
			.type = MADT_LAPIC, .len = sizeof(struct madt_lapic),
			.uid = i, .apic_id = i, .flags = 1 /* enabled */ };
	*(struct madt_ioapic *)p = (struct madt_ioapic){
		.type = MADT_IOAPIC, .len = sizeof(struct madt_ioapic),
		.id = ncpus, .addr = IOAPIC_ADDR, .gsi_base = 0 };
	p += sizeof(struct madt_ioapic);
	/* LINT1 of every CPU is NMI, with the bus's default polarity/trigger. */
	*(struct madt_lapic_nmi *)p = (struct madt_lapic_nmi){
		.type = MADT_LAPIC_NMI, .len = sizeof(struct madt_lapic_nmi),
		.uid = 0xff, .flags = 0, .lint = 1 };
	*out = m;
	return 0;
}
