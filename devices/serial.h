/*
 * 16550A UART ("isa-serial"). Users add one with
 * -device isa-serial,chardev=ID[,iobase=N][,irq=N]; the machine creates the
 * -serial ones with serial_create(), through the same device type.
 */
#ifndef EMBER_SERIAL_H
#define EMBER_SERIAL_H

#include <stdint.h>

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

#endif
