/*
 * The chardev multiplexer (-chardev ...,mux=on, -serial mon:stdio), QEMU's
 * char-mux: several front ends on one chardev, the input going to the one
 * with the focus, QEMU's escape keys (Ctrl-a x, c, h, Ctrl-a) read on the
 * way. The core (chardev.c) hands the mux its input and peer events as if
 * it were the one front end; the mux uses only chardev.h's API, so that it
 * is unit-tested and fuzzed over a fake chardev.
 */
#ifndef EMBER_CHARDEV_MUX_H
#define EMBER_CHARDEV_MUX_H

#include "backends/chardev.h"

#define CHR_MUX_MAX	4	/* front ends on one mux, as QEMU's MAX_MUX */

struct chr_mux;

/* A mux on @c, whose peer is there (@peer_open) or not. NULL: no memory. */
struct chr_mux *chr_mux_new(struct chardev *c, int peer_open);
void chr_mux_free(struct chr_mux *m);
/* The newest front end takes the focus, as in QEMU. -EBUSY beyond CHR_MUX_MAX. */
int chr_mux_attach(struct chr_mux *m, chr_input_fn fn, void *opaque);
/* For the newest front end (chardev_watch_peer's contract). */
void chr_mux_watch_peer(struct chr_mux *m, chr_event_fn fn);
void chr_mux_watch_focus(struct chr_mux *m, chr_event_fn fn);
/* Every front end goes. */
void chr_mux_detach(struct chr_mux *m);
/* What the core calls: a chr_input_fn and a chr_event_fn on the mux. */
size_t chr_mux_input(void *opaque, const uint8_t *buf, size_t len);
void chr_mux_peer(void *opaque, int open);

#endif
