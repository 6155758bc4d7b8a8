/*
 * MC146818 CMOS real-time clock at ports 0x70/0x71, reading the host's
 * clock (UTC). Created by the machine, not by -device.
 */
#ifndef EMBER_RTC_H
#define EMBER_RTC_H

#include "devices/aml.h"

struct platform;

#define RTC_PORT	0x70
#define RTC_IRQ		8	/* fixed: the DSDT node (acpi_dsdt_add_rtc) says so */

/* Errors: one message, negative errno. */
int rtc_create(struct platform *pf);

/* Its DSDT node: a hardware-reduced guest maps IRQ 8 only through it. */
static inline void acpi_dsdt_add_rtc(struct aml *a)
{
	aml_isa_device(a, "RTC", "PNP0B00", -1, RTC_PORT, 2, RTC_IRQ);
}

#endif
