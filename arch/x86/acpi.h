/* x86's own ACPI table: the MADT, which devices/acpi.c places among the rest. */
#ifndef EMBER_ARCH_X86_ACPI_H
#define EMBER_ARCH_X86_ACPI_H

/*
 * The MADT for @ncpus vCPUs into *@out (malloc'd): their local APICs, the
 * I/O APIC and LINT1 as NMI, with only sig, len and rev of the header set.
 * -EINVAL (after a message) when the MADT cannot describe @ncpus, -ENOMEM.
 */
int madt_build(unsigned ncpus, void **out);

#endif
