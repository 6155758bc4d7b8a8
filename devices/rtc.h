/*
 * MC146818 CMOS real-time clock at ports 0x70/0x71, reading the host's
 * clock (UTC). Created by the machine, not by -device.
 */
#ifndef EMBER_RTC_H
#define EMBER_RTC_H

struct platform;

#define RTC_PORT	0x70
#define RTC_IRQ		8	/* fixed: the DSDT node (acpi_dsdt_add_rtc) says so */

/* Errors: one message, negative errno. */
int rtc_create(struct platform *pf);

#endif
