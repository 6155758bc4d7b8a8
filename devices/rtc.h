/*
 * MC146818 CMOS real-time clock at ports 0x70/0x71, reading the host's
 * clock (UTC). Created by the machine, not by -device.
 */
#ifndef EMBER_RTC_H
#define EMBER_RTC_H

#include <stdint.h>
#include <time.h>

#include "devices/aml.h"

struct platform;

#define RTC_PORT	0x70
#define RTC_IRQ		8	/* fixed: the DSDT node (acpi_dsdt_add_rtc) says so */

/* Errors: one message, negative errno. */
int rtc_create(struct platform *pf);

/*
 * QEMU's -rtc base=: "utc" (the default), "localtime" (the registers show
 * the host's local time: UTC plus its offset from UTC at start, as with
 * TZ) or a start date "YYYY-MM-DD[THH:MM:SS]" (the registers show it at
 * start, then tick with the host). The offset in seconds the registers
 * have from the host's UTC at @now into *@offset; -EINVAL (no message)
 * for anything else.
 */
int rtc_base_offset(const char *base, time_t now, int64_t *offset);
/*
 * The base of the RTCs created from now on (NULL: utc); kept, not copied.
 * -EINVAL (no message) when rtc_base_offset would refuse it.
 */
int rtc_set_base(const char *base);

/* Its DSDT node: a hardware-reduced guest maps IRQ 8 only through it. */
static inline void acpi_dsdt_add_rtc(struct aml *a)
{
	aml_isa_device(a, "RTC", "PNP0B00", -1, RTC_PORT, 2, RTC_IRQ);
}

#endif
