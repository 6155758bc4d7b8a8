/*
 * The hardware-reduced sleep and reset registers the FADT points to (ACPI
 * 6.0, 4.8.3.6 and 4.8.3.7), one byte each. Only S5 is supported: the DSDT
 * defines no other \_Sx, and a guest that asks for one anyway keeps running.
 *
 * And the power button: a hardware-reduced machine has no fixed PM1
 * PWRBTN status/enable bits nor SCI, so the button is a control-method
 * device (PNP0C0C) that a Generic Event Device (ACPI0013) notifies: the GED
 * raises its interrupt, the guest's evged driver runs _EVT, which reads the
 * pending events (a byte that clears on read) and does Notify(PWRB, 0x80),
 * which Linux's button driver turns into KEY_POWER. Later ACPI events
 * (hotplug) take further bits of the same byte.
 */
#include <errno.h>
#include <string.h>

#include "devices/acpi.h"
#include "devices/aml.h"
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "lib/keyval.h"
#include "lib/log.h"

#define SLP_EN		(1u << 5)
#define SLP_TYP(v)	(((v) >> 2) & 7)

struct acpi_pm {
	struct platform *pf;
	uint8_t events;		/* ACPI_GED_*, pending until _EVT reads them; atomic */
};

/*
 * SLEEP_STS reads 0: WAK_STS would only be set on waking, and S5 does not
 * wake. Linux clears it (writes WAK_STS) before sleeping, then polls it
 * after writing SLEEP_CTL; by then the machine is stopping.
 */
static void pm_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct acpi_pm *pm = opaque;

	memset(data, 0, len);
	if (off <= ACPI_GED_EVT_PORT - ACPI_PM_PORT &&
	    off + len > ACPI_GED_EVT_PORT - ACPI_PM_PORT)
		((uint8_t *)data)[ACPI_GED_EVT_PORT - ACPI_PM_PORT - off] =
			__atomic_exchange_n(&pm->events, 0, __ATOMIC_SEQ_CST);
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

/*
 * Device(PWRB) { Name(_HID, EisaId("PNP0C0C")) }
 * Device(GED0) {
 *   Name(_HID, "ACPI0013")
 *   Name(_CRS, ResourceTemplate() { Interrupt(Consumer, Edge, ActiveHigh) {9} })
 *   OperationRegion(EREG, SystemIO, 0x603, 1)
 *   Field(EREG, ByteAcc, NoLock, Preserve) { EVTS, 8 }
 *   Method(_EVT, 1, Serialized) {
 *     Store(EVTS, Local0)
 *     If (And(Local0, 1, Zero)) { Notify(PWRB, 0x80) }
 *   }
 * }
 */
static void acpi_pm_aml(struct device *dev, struct aml *a)
{
	size_t dev_h, res, m, h;

	dev_h = aml_device(a, "PWRB");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C0C");
	aml_end(a, dev_h);

	dev_h = aml_device(a, "GED0");
	aml_name(a, "_HID");
	aml_string(a, "ACPI0013");
	aml_name(a, "_CRS");
	res = aml_res_begin(a);
	aml_res_interrupt(a, AML_IRQ_CONSUMER | AML_IRQ_EDGE, ACPI_GED_GSI);
	aml_res_end(a, res);
	/* OperationRegion: ExtOp 0x80, name, space (1: SystemIO), offset, length */
	aml_byte(a, 0x5b);
	aml_byte(a, 0x80);
	aml_namestring(a, "EREG");
	aml_byte(a, 1);
	aml_int(a, ACPI_GED_EVT_PORT);
	aml_int(a, 1);
	/* Field: ExtOp 0x81, PkgLength, region, flags (ByteAcc), "EVTS" of 8 bits */
	aml_byte(a, 0x5b);
	aml_byte(a, 0x81);
	aml_pkglen(a, 11);
	aml_namestring(a, "EREG");
	aml_byte(a, 0x01);
	aml_bytes(a, "EVTS", 4);
	aml_byte(a, 8);
	m = aml_method(a, "_EVT", 1, true);
	aml_op(a, AML_STORE);
	aml_namestring(a, "EVTS");
	aml_local(a, 0);
	h = aml_if(a);
	aml_op(a, AML_AND);
	aml_local(a, 0);
	aml_int(a, ACPI_GED_PWR_BUTTON);
	aml_byte(a, 0);		/* NullName: no target */
	aml_byte(a, 0x86);	/* Notify(PWRB, 0x80) */
	aml_namestring(a, "PWRB");
	aml_int(a, 0x80);
	aml_end(a, h);
	aml_end(a, m);
	aml_end(a, dev_h);
}

static int acpi_pm_realize(struct device *dev, struct platform *pf)
{
	struct acpi_pm *pm = dev->state;

	pm->pf = pf;
	return bus_register(&pf->pio, ACPI_PM_PORT, ACPI_PM_LEN, &acpi_pm_ops,
			    pm, "acpi-pm");
}

/* Machine reset: a button press the old kernel did not read is gone. */
static void acpi_pm_reset(struct device *dev, struct platform *pf)
{
	struct acpi_pm *pm = dev->state;

	__atomic_store_n(&pm->events, 0, __ATOMIC_SEQ_CST);
}

static void acpi_pm_unrealize(struct device *dev, struct platform *pf)
{
	bus_unregister(&pf->pio, ACPI_PM_PORT);
}

static const struct prop acpi_pm_props[] = { { .name = NULL } };

static const struct device_type acpi_pm_type = {
	.name = "acpi-pm",
	.bus = "system",
	.desc = "ACPI sleep and reset registers (power off, reboot), power button",
	.state_size = sizeof(struct acpi_pm),
	.props = acpi_pm_props,
	.realize = acpi_pm_realize,
	.unrealize = acpi_pm_unrealize,
	.reset = acpi_pm_reset,
	.snap_off = offsetof(struct acpi_pm, events),
	.snap_size = sizeof(uint8_t),
	.aml = acpi_pm_aml,
	.internal = 1,
};
DEVICE_TYPE(acpi_pm_type)

int acpi_pm_create(struct platform *pf)
{
	return device_create_internal(pf, acpi_pm_type.name);
}

int acpi_pm_power_button(struct platform *pf)
{
	for (struct device *d = pf->devices; d; d = d->next) {
		struct acpi_pm *pm = d->state;

		if (d->type != &acpi_pm_type)
			continue;
		__atomic_or_fetch(&pm->events, ACPI_GED_PWR_BUTTON, __ATOMIC_SEQ_CST);
		irq_pin_set(&(struct irq_pin){ pf, ACPI_GED_GSI }, 1);
		irq_pin_set(&(struct irq_pin){ pf, ACPI_GED_GSI }, 0);
		return 0;
	}
	return -ENODEV;
}
