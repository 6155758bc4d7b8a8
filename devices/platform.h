/*
 * What a device may use of the machine it is plugged into. The machine (vmm/)
 * fills this in; devices never include vmm/ headers, and unit tests build a
 * platform of their own with fake interrupt and stop callbacks.
 */
#ifndef EMBER_PLATFORM_H
#define EMBER_PLATFORM_H

#include <stdint.h>

#include "devices/bus.h"

struct loop;
struct gmem;
struct device;

/* Why the machine stops. */
enum stop_reason {
	STOP_POWEROFF,		/* guest ACPI S5: exit 0 */
	STOP_RESET,		/* guest reboot: exit 0 */
	STOP_SIGNAL,		/* SIGTERM/SIGINT */
	STOP_PANIC,		/* guest kernel panic reported by pvpanic */
	STOP_ERROR,		/* fatal: exit non-zero */
};

struct platform {
	struct bus pio;
	struct bus mmio;
	struct loop *loop;
	struct gmem *mem;
	unsigned ncpus;

	/* Drive interrupt line @gsi of the IOAPIC (level 1/0; edge = 1 then 0). */
	void (*irq_set)(void *opaque, unsigned gsi, int level);
	void *irq_opaque;
	/* Ask the machine to stop; callable from any thread. */
	void (*request_stop)(void *opaque, enum stop_reason why, const char *msg);
	void *stop_opaque;

	struct device *devices;	/* creation order */
};

/* An interrupt line a device raises; gsi is fixed when the device is placed. */
struct irq_pin {
	struct platform *pf;
	unsigned gsi;
};

static inline void irq_pin_set(struct irq_pin *p, int level)
{
	if (p->pf && p->pf->irq_set)
		p->pf->irq_set(p->pf->irq_opaque, p->gsi, level);
}

static inline void platform_stop(struct platform *pf, enum stop_reason why,
				 const char *msg)
{
	if (pf->request_stop)
		pf->request_stop(pf->stop_opaque, why, msg);
}

#endif
