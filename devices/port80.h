/*
 * Port 0x80, the POST-code port boot code writes for I/O delays: a sink
 * the machine creates itself (not by -device).
 */
#ifndef EMBER_PORT80_H
#define EMBER_PORT80_H

struct platform;

#define POST_PORT	0x80

/* Errors: one message, negative errno. */
int port80_create(struct platform *pf);

#endif
