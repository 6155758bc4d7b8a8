/*
 * Character back ends (-chardev): stdio, file, null, socket, pty.
 * A front end (a UART, later virtio-console) attaches to one chardev and
 * receives input through a callback on the event-loop thread; it says how
 * many bytes it took, and calls chardev_accept_input() once it has room for
 * more, so input is never dropped while the guest is slow to read it.
 */
#ifndef EMBER_CHARDEV_H
#define EMBER_CHARDEV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct loop;
struct chardev;

/* Returns how many of the @len bytes the front end accepted (may be 0). */
typedef size_t (*chr_input_fn)(void *opaque, const uint8_t *buf, size_t len);

/*
 * "-chardev TYPE,id=ID,..." is object_create(OBJ_CHARDEV, ...): each back
 * end is a type of the object table. For -serial stdio / -serial
 * file:PATH: a chardev named serialN.
 */
int chardev_create_simple(const char *type, const char *path, struct loop *loop,
			  struct chardev **out);
struct chardev *chardev_find(const char *id);
const char *chardev_id(const struct chardev *c);

/* -EBUSY if another front end is attached already. */
int chardev_attach(struct chardev *c, chr_input_fn fn, void *opaque);
/*
 * For a front end that speaks a protocol (a QMP monitor): @fn(opaque,
 * true) when a peer is there to talk to (at once for stdio, a file, a pty,
 * a connected socket), @fn(opaque, false) when it went away; loop thread.
 * Call after chardev_attach; the same opaque.
 */
typedef void (*chr_event_fn)(void *opaque, int open);
void chardev_watch_peer(struct chardev *c, chr_event_fn fn);

/*
 * For QMP's query-chardev: the chardev after @prev (NULL: the first),
 * oldest first, NULL after the last; its QEMU-style filename ("pty:/dev/pts/3",
 * "unix:PATH,server=on", "stdio", "file:PATH", "null") into @buf, and
 * whether a front end uses it.
 */
struct chardev *chardev_next_info(const struct chardev *prev, char *buf, size_t size,
				  int *frontend_open);
void chardev_detach(struct chardev *c);
/*
 * Writes guest output; callable from any thread. Never blocks on a peer
 * that is not there (socket without a client, pty nobody opened): such
 * output is dropped, like a serial line with nothing plugged in. A slow
 * reader gets up to CHR_OUT_MAX bytes buffered; beyond that the caller
 * waits at most CHR_OUT_STALL_MS once, then output is dropped and counted.
 */
ssize_t chardev_write(struct chardev *c, const void *buf, size_t len);
/*
 * Bytes of output dropped because the reader did not take them in time
 * (docs/architecture.md, "Console output"); output with no reader at all
 * (no client) is not counted.
 */
uint64_t chardev_dropped(struct chardev *c);
/* The front end has room again; thread-safe (wakes the event loop). */
void chardev_accept_input(struct chardev *c);

/*
 * For a front end that speaks its own protocol on the socket (vhost-user):
 * the connected socket of a socket chardev, which the caller owns from now
 * on; the chardev neither reads nor writes it again. -ENOTSOCK for another
 * chardev type, -ENOTCONN without a peer.
 */
int chardev_socket_take(struct chardev *c);
/* reconnect= of a client socket chardev, in seconds (0: none, or not a socket). */
unsigned chardev_socket_reconnect(struct chardev *c);
/*
 * A new connection to a client socket chardev's path=, for the front end
 * that took the last one: a connected non-blocking socket the caller owns,
 * or -errno (-ENOTSOCK: not a client socket chardev with a path).
 */
int chardev_socket_connect(struct chardev *c);

/*
 * mux=on (chardev_mux.c): several front ends attach, the newest has the
 * input focus, Ctrl-a c moves it on. chardev_watch_peer and
 * chardev_watch_focus apply to the front end attached last;
 * chardev_detach detaches them all. Until chardev_mux_start() (once every
 * front end is there) no input is read and no peer is reported, so that a
 * monitor's banner waits for its focus as in QEMU.
 *
 * chardev_watch_focus: @fn(opaque, 1) when the front end gets the focus,
 * (opaque, 0) when it loses it; returns 1 on a mux, 0 on a plain chardev
 * (whose one front end always has the input).
 */
int chardev_watch_focus(struct chardev *c, chr_event_fn fn);
void chardev_mux_start(void);
/* -echr: the escape key (default 1, Ctrl-a); 0..255. */
void chardev_mux_set_escape(int ch);
/* What Ctrl-a x does (ember: quit the machine); none: nothing but the message. */
void chardev_mux_set_quit(void (*fn)(void *opaque), void *opaque);

#endif
