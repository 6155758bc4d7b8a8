#ifndef EMBER_PVPANIC_H
#define EMBER_PVPANIC_H

#include <stdint.h>

#include "devices/aml.h"

struct platform;

#define PVPANIC_PORT 0x505

/*
 * QEMU's pvpanic ISA device ("QEMU0001" in the DSDT): the guest kernel's
 * pvpanic driver writes here from its panic notifier, so a panic that then
 * reboots (panic=N) is still reported as a crash, not a clean reboot.
 */
int pvpanic_create(struct platform *pf);

/* Its DSDT node: Linux's pvpanic driver matches QEMU0001, takes @port from _CRS. */
static inline void acpi_dsdt_add_pvpanic(struct aml *a, uint16_t port)
{
	aml_isa_device(a, "PEVT", "QEMU0001", -1, port, 1, -1);
}

#endif
