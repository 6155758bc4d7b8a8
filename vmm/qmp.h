/*
 * QMP, QEMU's machine protocol, as ember's run-time API (docs/api.md): a
 * JSON object stream over a unix socket. The protocol (qmp_cmd.c) is
 * apart from the socket (qmp.c) so that it is tested and fuzzed alone; what
 * commands act on comes in through struct qmp_target.
 */
#ifndef EMBER_QMP_H
#define EMBER_QMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct platform;
struct balloon_stats;
struct prop;

/* Bytes of one command (a JSON text) at most; more closes the connection. */
#define QMP_MAX_COMMAND		(64 * 1024)
/* Replies a client leaves unread, at most; more closes the connection. */
#define QMP_MAX_PENDING		(1024 * 1024)

/* What a qom-* path leads to: a device with an id= or an -object. */
struct qom_node {
	const char *type;		/* "virtio-balloon-pci", "rng-random" */
	const struct prop *props;	/* its type's options, read from @state */
	const void *state;
	bool balloon;			/* also has guest-stats and their polling interval */
};

/* What the commands act on. Returns are 0 or -errno. */
struct qmp_target {
	/*
	 * qom-*: the device with id @id (QEMU's /machine/peripheral/ID) or the
	 * -object with id @id (/objects/ID); -ENOENT: none.
	 */
	int (*find_device)(void *o, const char *id, struct qom_node *out);
	int (*find_object)(void *o, const char *id, struct qom_node *out);
	/* balloon: -ENODEV without a balloon, -ERANGE for a bad size */
	int (*balloon_set)(void *o, uint64_t bytes);
	int (*balloon_get)(void *o, uint64_t *actual);
	uint64_t (*ram_size)(void *o);
	/* The balloon's -device id= (NULL: none), for a hint when a path is not found. */
	const char *(*balloon_id)(void *o);
	int (*balloon_stats)(void *o, struct balloon_stats *st, int64_t *when,
			     uint32_t *interval);
	int (*balloon_set_interval)(void *o, uint32_t seconds);
	/* quit: the reply is sent first */
	void (*quit)(void *o);
	void *opaque;
};

struct qmp_session;
/* Sends one JSON text (without the line end) to the client. */
typedef void (*qmp_send_fn)(void *opaque, const char *json, size_t len);

/* Once, before the sandbox: json-c's one-time set-up. */
void qmp_init(void);
/* A connection; sends the greeting. NULL when out of memory. */
struct qmp_session *qmp_session_new(const struct qmp_target *t, qmp_send_fn send,
				    void *send_opaque);
void qmp_session_free(struct qmp_session *s);
/*
 * Bytes from the client, in any pieces: every complete JSON text is
 * answered. Returns 0, or -E2BIG when a command exceeds QMP_MAX_COMMAND
 * (an error was sent; the caller closes the connection).
 */
int qmp_session_input(struct qmp_session *s, const char *buf, size_t len);

/* ---- the server (loop thread) ---- */

/*
 * -qmp unix:PATH,server=on[,wait=on|off]: binds and listens now; with
 * wait=on (QEMU's default) waits for the first client. One message on error.
 */
int qmp_server_create(const char *opt, struct loop *loop, struct platform *pf);
/* Closes the socket and removes its path. */
void qmp_server_destroy(void);

#endif
