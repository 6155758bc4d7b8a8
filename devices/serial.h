/*
 * 16550A UART ("isa-serial"). Users add one with
 * -device isa-serial,chardev=ID[,iobase=N][,irq=N]; the machine creates the
 * -serial ones with serial_create(), through the same device type.
 */
#ifndef EMBER_SERIAL_H
#define EMBER_SERIAL_H

#include <errno.h>
#include <stdint.h>

#include "devices/aml.h"

struct platform;
struct chardev;
struct device;

#define SERIAL_COM1_BASE	0x3f8
#define SERIAL_COM1_IRQ		4
#define SERIAL_COM2_BASE	0x2f8
#define SERIAL_COM2_IRQ		3

/*
 * Creates a UART at @iobase on ISA interrupt @irq, connected to @chr (may be
 * NULL: output is dropped, no input). @out may be NULL. Errors: one message,
 * negative errno (-EEXIST for a port clash, -EBUSY if @chr has a front end).
 */
int serial_create(struct platform *pf, struct chardev *chr, uint16_t iobase,
		  unsigned irq, struct device **out);

/*
 * UART @index's DSDT node as QEMU describes it: COM1 (_UID 1) for index 0,
 * up to COM9. A larger index or an @irq above 15 fails @a (-EINVAL).
 */
static inline void acpi_dsdt_add_serial(struct aml *a, int index, uint16_t iobase,
					unsigned irq)
{
	char name[5] = { 'C', 'O', 'M', '1' + index };

	if (index < 0 || index > 8 || irq > 15) {
		aml_fail(a, -EINVAL);
		return;
	}
	aml_isa_device(a, name, "PNP0501", index + 1, iobase, 8, irq);
}

#endif
