/*
 * The hardware-reduced sleep and reset registers the FADT points to (ACPI
 * 6.0, 4.8.3.6 and 4.8.3.7), one byte each. Only S5 is supported: the DSDT
 * defines no other \_Sx, and a guest that asks for one anyway keeps running.
 */
#include <string.h>

#include "devices/acpi.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "lib/keyval.h"
#include "lib/log.h"

#define SLP_EN		(1u << 5)
#define SLP_TYP(v)	(((v) >> 2) & 7)

struct acpi_pm {
	struct platform *pf;
};

/*
 * SLEEP_STS reads 0: WAK_STS would only be set on waking, and S5 does not
 * wake. Linux clears it (writes WAK_STS) before sleeping, then polls it
 * after writing SLEEP_CTL; by then the machine is stopping.
 */
static void pm_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	memset(data, 0, len);
}

static void pm_write_reg(struct acpi_pm *pm, uint64_t port, uint8_t v)
{
	switch (port) {
	case ACPI_SLEEP_CTL_PORT:
		if (!(v & SLP_EN))
			break;
		if (SLP_TYP(v) == ACPI_S5_TYPE)
			platform_stop(pm->pf, STOP_POWEROFF,
				      "guest powered off (ACPI S5)");
		else
			warn_once("guest asked for ACPI sleep type %u; only S5 (power off) is supported",
				  SLP_TYP(v));
		break;
	case ACPI_RESET_PORT:
		if (v == ACPI_RESET_VALUE)
			platform_stop(pm->pf, STOP_RESET,
				      "guest reset (ACPI reset register)");
		break;
	}
}

static void pm_write(void *opaque, uint64_t off, const void *data,
		     unsigned len)
{
	const uint8_t *v = data;

	/* A wider access writes each byte register it covers. */
	for (unsigned i = 0; i < len && off + i < ACPI_PM_LEN; i++)
		pm_write_reg(opaque, ACPI_PM_PORT + off + i, v[i]);
}

static const struct bus_ops acpi_pm_ops = {
	.read = pm_read,
	.write = pm_write,
};

static int acpi_pm_realize(struct device *dev, struct platform *pf)
{
	struct acpi_pm *pm = dev->state;

	pm->pf = pf;
	return bus_register(&pf->pio, ACPI_PM_PORT, ACPI_PM_LEN, &acpi_pm_ops,
			    pm, "acpi-pm");
}

static void acpi_pm_unrealize(struct device *dev, struct platform *pf)
{
	bus_unregister(&pf->pio, ACPI_PM_PORT);
}

static const struct prop acpi_pm_props[] = { { .name = NULL } };

static const struct device_type acpi_pm_type = {
	.name = "acpi-pm",
	.bus = "system",
	.desc = "ACPI sleep and reset registers (power off, reboot)",
	.state_size = sizeof(struct acpi_pm),
	.props = acpi_pm_props,
	.realize = acpi_pm_realize,
	.unrealize = acpi_pm_unrealize,
	.internal = 1,
};
DEVICE_TYPE(acpi_pm_type)

int acpi_pm_create(struct platform *pf)
{
	return device_create_internal(pf, acpi_pm_type.name);
}
