/*
 * Port 0x80, where firmware posts progress codes and Linux writes for short
 * I/O delays (outb_p). Claiming it keeps those writes out of the unclaimed-
 * port warning; the last value is kept for boot-progress markers later.
 */
#include <stdint.h>
#include <string.h>

#include "devices/bus.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "devices/port80.h"

/* What the guest can see; plain data so a snapshot can copy it. */
struct port80 {
	uint8_t last;		/* a single byte: atomic stores, no lock needed */
};

static void port80_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len);
}

static void port80_write(void *opaque, uint64_t off, const void *data,
			 unsigned len)
{
	struct port80 *s = opaque;

	__atomic_store_n(&s->last, ((const uint8_t *)data)[len - 1],
			 __ATOMIC_RELAXED);
}

static const struct bus_ops port80_ops = {
	.read = port80_read,
	.write = port80_write,
};

static int port80_realize(struct device *dev, struct platform *pf)
{
	return bus_register(&pf->pio, POST_PORT, 1, &port80_ops, dev->state,
			    "port80");
}

static void port80_unrealize(struct device *dev, struct platform *pf)
{
	bus_unregister(&pf->pio, POST_PORT);
}

static const struct prop port80_props[] = { { .name = NULL } };

static const struct device_type port80_type = {
	.name = "port80",
	.bus = "isa",
	.desc = "POST-code port sink",
	.state_size = sizeof(struct port80),
	.props = port80_props,
	.realize = port80_realize,
	.unrealize = port80_unrealize,
	.snap_size = sizeof(struct port80),
	.internal = 1,
};
DEVICE_TYPE(port80_type)

int port80_create(struct platform *pf)
{
	return device_create_internal(pf, port80_type.name);
}
