/*
 * ACPI tables generated at start-up from the machine's actual devices:
 * RSDP, XSDT, FADT (hardware-reduced), the architecture's own (x86: MADT),
 * DSDT. Power-off and reset go through the FADT's sleep-control and reset
 * registers, served by acpi_pm.c.
 */
#ifndef EMBER_ACPI_H
#define EMBER_ACPI_H

#include <stddef.h>
#include <stdint.h>

/* The DSDT node helpers for aml callbacks (acpi_dsdt_add_*()) live there. */
#include "devices/aml.h"

struct platform;

/* Hardware-reduced power-management registers (port I/O). */
#define ACPI_PM_PORT		0x600
#define ACPI_SLEEP_CTL_PORT	(ACPI_PM_PORT + 0)
#define ACPI_SLEEP_STS_PORT	(ACPI_PM_PORT + 1)
#define ACPI_RESET_PORT		(ACPI_PM_PORT + 2)
#define ACPI_RESET_VALUE	0x42
#define ACPI_GED_EVT_PORT	(ACPI_PM_PORT + 3)	/* pending GED events, read clears */
#define ACPI_PM_LEN		4
/*
 * The Generic Event Device's interrupt (ACPI 6.0, 5.6.9: events of a
 * hardware-reduced machine), edge, active high: ISA IRQ 9, the PC's SCI.
 */
#define ACPI_GED_GSI		9
#define ACPI_GED_PWR_BUTTON	(1u << 0)
#define ACPI_S5_TYPE		5	/* SLP_TYP value of \_S5 */

/* What every table begins with; acpi_build() fills in all but sig, len, rev. */
struct acpi_header {
	char sig[4];
	uint32_t len;
	uint8_t rev, csum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_rev;
	char creator_id[4];
	uint32_t creator_rev;
} __attribute__((packed));

#define ACPI_ARCH_TABLES_MAX	2

struct acpi_config {
	const char *oem_id;	/* 6 chars, default "EMBER " */
	/*
	 * The architecture's own tables (x86: the MADT), in the XSDT after
	 * the FADT; each begins with a header whose sig, len and rev are set.
	 */
	const void *tables[ACPI_ARCH_TABLES_MAX];
	unsigned nr_tables;
};

/*
 * Builds all tables into @buf (guest memory at @gpa, @size bytes), RSDP first
 * at @gpa; @cfg's tables are copied in, their headers completed and
 * checksummed. The DSDT gets the fixed objects (\_S5) plus what each
 * device's type->aml adds. Returns bytes used, or -ENOSPC, -EINVAL (bad
 * config or DSDT content), -ENOMEM, after one message.
 */
long acpi_build(struct platform *pf, const struct acpi_config *cfg,
		void *buf, size_t size, uint64_t gpa);

/* Creates the power-management register device on @pf (internal device). */
int acpi_pm_create(struct platform *pf);
/*
 * Presses the power button (PNP0C0C, signalled through the GED): the
 * guest's button driver sees KEY_POWER. -ENODEV without the device.
 */
int acpi_pm_power_button(struct platform *pf);

#endif
