#ifndef EMBER_PVPANIC_H
#define EMBER_PVPANIC_H

struct platform;

#define PVPANIC_PORT 0x505

/*
 * QEMU's pvpanic ISA device ("QEMU0001" in the DSDT): the guest kernel's
 * pvpanic driver writes here from its panic notifier, so a panic that then
 * reboots (panic=N) is still reported as a crash, not a clean reboot.
 */
int pvpanic_create(struct platform *pf);

#endif
