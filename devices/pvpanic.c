/*
 * pvpanic (QEMU0001) at port 0x505: the guest kernel reports its panic
 * here, which stops the machine with STOP_PANIC, so a panic is told apart
 * from a reboot.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/aml.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "devices/pvpanic.h"
#include "lib/log.h"

#define PVPANIC_PANICKED	(1u << 0)
#define PVPANIC_CRASH_LOADED	(1u << 1)

struct pvpanic {
	struct platform *pf;
	uint8_t events;		/* guest-visible: what the guest reported */
};

static void pvpanic_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len);
	*(uint8_t *)data = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
}

static void pvpanic_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct pvpanic *p = opaque;
	uint8_t v = *(const uint8_t *)data;

	p->events |= v;
	if (v & PVPANIC_PANICKED)
		platform_stop(p->pf, STOP_PANIC, "guest kernel panicked (pvpanic)");
	else if (v & PVPANIC_CRASH_LOADED)
		info_msg("guest loaded its crash kernel (pvpanic)");
}

static const struct bus_ops pvpanic_ops = {
	.read = pvpanic_read,
	.write = pvpanic_write,
};

static int pvpanic_realize(struct device *dev, struct platform *pf)
{
	struct pvpanic *p = dev->state;

	p->pf = pf;
	return bus_register(&pf->pio, PVPANIC_PORT, 1, &pvpanic_ops, p, "pvpanic");
}

static void pvpanic_unrealize(struct device *dev, struct platform *pf)
{
	bus_unregister(&pf->pio, PVPANIC_PORT);
}

static void pvpanic_aml(struct device *dev, struct aml *a)
{
	acpi_dsdt_add_pvpanic(a, PVPANIC_PORT);
}

static const struct prop pvpanic_props[] = { { NULL } };

static const struct device_type pvpanic_type = {
	.name = "pvpanic",
	.bus = "isa",
	.desc = "guest panic notification (QEMU0001, port 0x505)",
	.state_size = sizeof(struct pvpanic),
	.props = pvpanic_props,
	.realize = pvpanic_realize,
	.unrealize = pvpanic_unrealize,
	.snap_off = offsetof(struct pvpanic, events),
	.snap_size = sizeof(uint8_t),
	.aml = pvpanic_aml,
	.internal = 1,
};
DEVICE_TYPE(pvpanic_type)

int pvpanic_create(struct platform *pf)
{
	return device_create_internal(pf, "pvpanic");
}
