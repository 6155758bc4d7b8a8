/*
 * Just enough of the PS/2 controller for the guest to reset the machine
 * through it (command 0xfe) and for a probe not to hang; no keyboard.
 * Created by the machine, not by -device.
 */
#ifndef EMBER_I8042_H
#define EMBER_I8042_H

struct platform;

#define I8042_DATA_PORT		0x60
#define I8042_CMD_PORT		0x64

/* Errors: one message, negative errno. */
int i8042_create(struct platform *pf);

#endif
