/* Shared by the chardev core and its back ends; not for front ends. */
#ifndef EMBER_CHARDEV_INTERNAL_H
#define EMBER_CHARDEV_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "backends/chardev.h"
#include "backends/object.h"
#include "lib/props.h"

enum chr_out {
	CHR_OUT_BLOCK,		/* a regular file: the disk is slow only briefly */
	CHR_OUT_DROP,		/* pty, pipe, tty: non-blocking fd, CHR_OUT_MAX buffered */
	CHR_OUT_SOCKET,		/* as DROP, through send(MSG_DONTWAIT | MSG_NOSIGNAL) */
};

/*
 * Output a slow reader has not taken waits in a buffer of CHR_OUT_MAX
 * bytes, drained from the loop every CHR_OUT_RETRY_MS. When it is full the
 * writer (a vCPU) waits at most CHR_OUT_STALL_MS for room, once per stall:
 * after that, output is dropped and counted until the buffer is empty again.
 */
#define CHR_OUT_MAX		(64 * 1024)
#define CHR_OUT_RETRY_MS	10
#define CHR_OUT_STALL_MS	100

/* What a chardev type's ops (object_type.ops) are. */
struct chardev_backend {
	size_t state_size;	/* options at the props' offsets, then runtime state */
	int (*open)(struct chardev *c, const char *owner);
	/* Input hit EOF or an error (loop thread). Default: stop reading. */
	void (*eof)(struct chardev *c);
	void (*close)(struct chardev *c);
};

struct chardev {
	struct object obj;	/* obj.id: -chardev id= or "serialN" */
	const struct chardev_backend *be;	/* obj.type->ops */
	void *state;		/* be->state_size bytes */
	struct loop *loop;

	/* Output from any thread; out_fd changes only under the lock. */
	pthread_mutex_t lock;
	int out_fd;
	enum chr_out out_mode;
	bool write_warned;
	uint8_t *out_buf;	/* CHR_OUT_MAX bytes; out_len from out_off wait */
	size_t out_off, out_len;
	bool stalled;		/* the reader stalled: drop until the buffer is empty */
	bool out_timed;		/* the loop drains the buffer on out_timer */
	int out_timer;		/* timerfd on the loop */
	uint64_t dropped;	/* bytes of output dropped because the reader stalled */

	/* Input, on the loop thread; `waiting` is shared with front ends. */
	int in_fd;		/* owned by the back end; -1: no input */
	bool in_polled;
	int wake_fd;		/* eventfd: chardev_accept_input() */
	int waiting;		/* front end should wake us when it has room */
	chr_input_fn fn;
	chr_event_fn peer_fn;	/* chardev_watch_peer */
	struct chr_mux *mux;	/* mux=on: fn, opaque and peer_fn are the mux's */
	char filename[96];	/* set by a back end whose name is only known once open (pty) */
	void *opaque;
	size_t head, len;	/* bytes read but not yet accepted */
	uint8_t buf[4096];
};

/* For back ends: where output goes, where input comes from (-1: nowhere). */
void chr_set_output(struct chardev *c, int fd, enum chr_out mode);
void chr_set_input(struct chardev *c, int fd);
void chr_stop_input(struct chardev *c);

/* A chardev type of the object table: NAME as in -chardev NAME, OPS its chardev_backend. */
#define CHARDEV_TYPE(n, d, p, o)						\
	.name = n, .kind = OBJ_CHARDEV, .noun = "chardev", .desc = d, .props = p,	\
	.ops = o, .create = chr_create, .destroy = chr_destroy, .help = chr_help
int chr_create(const struct object_args *a);
void chr_destroy(struct object *o);
/* The options every type has (mux=). */
void chr_help(FILE *f);

#endif
