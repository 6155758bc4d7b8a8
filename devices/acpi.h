/*
 * ACPI tables generated at start-up from the machine's actual devices:
 * RSDP, XSDT, FADT (hardware-reduced), MADT, DSDT. Power-off and reset go
 * through the FADT's sleep-control and reset registers, served by acpi_pm.c.
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
#define ACPI_PM_LEN		4
#define ACPI_S5_TYPE		5	/* SLP_TYP value of \_S5 */

struct acpi_config {
	unsigned ncpus;
	const char *oem_id;	/* 6 chars, default "EMBER " */
	uint32_t lapic_addr, ioapic_addr;	/* guest-physical, for the MADT */
};

/*
 * Builds all tables into @buf (guest memory at @gpa, @size bytes), RSDP first
 * at @gpa. The DSDT gets the fixed objects (\_S5) plus what each device's
 * type->aml adds. Returns bytes used, or -ENOSPC, -EINVAL (bad config or
 * DSDT content), -ENOMEM, after one message.
 */
long acpi_build(struct platform *pf, const struct acpi_config *cfg,
		void *buf, size_t size, uint64_t gpa);

/* Creates the power-management register device on @pf (internal device). */
int acpi_pm_create(struct platform *pf);

#endif
