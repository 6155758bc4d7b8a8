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

#include "vmm/version.h"

struct blk_info;
struct loop;
struct platform;
struct balloon_stats;
struct prop;
struct keyval;

/* Bytes of one command (a JSON text) at most; more closes the connection. */
#define QMP_MAX_COMMAND		(64 * 1024)
/* Replies a client leaves unread, at most; more closes the connection. */
#define QMP_MAX_PENDING		(1024 * 1024)
/* Clients of one socket served at once; more wait in the backlog. */
#define QMP_MAX_CLIENTS		8

/*
 * The QEMU release whose QMP behaviour ember follows: query-version's
 * "qemu" and the greeting's (docs/api.md says why).
 */
#define QMP_QEMU_LEVEL		EMBER_QEMU_LEVEL	/* vmm/version.h: -version says the same */
#if defined(__x86_64__)
#define QMP_TARGET_ARCH		"x86_64"
#else
#define QMP_TARGET_ARCH		"aarch64"
#endif

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
	/* quit and system_reset: the reply is sent first */
	void (*quit)(void *o);
	void (*system_reset)(void *o);
	/* The run state's QEMU name; @running: whether vCPUs run. */
	const char *(*run_state)(void *o, bool *running);
	int (*stop)(void *o);		/* -EIO: a vCPU would not leave the guest */
	int (*cont)(void *o);		/* -EBUSY: shutdown or guest-panicked */
	int (*powerdown)(void *o);	/* -ENODEV: no power button */
	const char *(*name)(void *o);	/* -name, -uuid; NULL: none */
	const char *(*uuid)(void *o);
	/* vCPU @i's thread id; -ENOENT past the last. */
	int (*cpu)(void *o, unsigned i, int *tid);
	/* The @i-th device (HMP's info qtree): type, id or NULL, bus; -ENOENT after. */
	int (*device)(void *o, unsigned i, const char **type, const char **id,
		      const char **bus);
	/*
	 * query-chardev: the @i-th chardev's id, QEMU-style filename (into
	 * @fn, @size bytes) and whether a front end uses it; -ENOENT after.
	 */
	int (*chardev)(void *o, unsigned i, const char **label, char *fn, size_t size,
		       bool *frontend_open);
	/*
	 * query-block, query-named-block-nodes: the @i-th block node, and the
	 * device that uses it (into @qdev, "" if none); -ENOENT after.
	 */
	int (*block)(void *o, unsigned i, struct blk_info *info, char *qdev, size_t size);
	/*
	 * migrate and migrate-incoming (vmm/snapshot.h): 0 once done, else
	 * -errno after one message (log_last); migrate-incoming -EBUSY
	 * without -incoming defer, or a second time.
	 */
	int (*migrate)(void *o, const char *uri);
	int (*migrate_incoming)(void *o, const char *uri);
	/*
	 * query-migrate: the last migrate's status ("completed", "failed"),
	 * how long it took and guest RAM's size; NULL status: none yet.
	 */
	const char *(*migrate_info)(void *o, uint64_t *total_ms, uint64_t *ram_bytes);
	/* device_add (@kv: its other arguments) and device_del; one message on error. */
	int (*device_add)(void *o, const char *driver, struct keyval *kv);
	int (*device_del)(void *o, const char *id);
	/*
	 * blockdev-add: the back end of object kind @kind made from @opts as
	 * its command-line option takes them; blockdev-del.
	 */
	int (*object_add)(void *o, int kind, const char *opts);
	int (*object_del)(void *o, int kind, const char *id);
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

/*
 * Events, to every session that finished negotiation, in QEMU's format
 * ({"timestamp": {"seconds", "microseconds"}, "event", "data"}). Loop
 * thread only (the machine brings vCPU-thread events there first).
 * qmp_event takes @data (a json-c object, or NULL): the way for events
 * to come (DEVICE_DELETED).
 */
struct json_object;
void qmp_event(const char *name, struct json_object *data);
void qmp_event_simple(const char *name);		/* POWERDOWN, STOP, RESUME */
void qmp_event_shutdown(bool guest, const char *reason);
void qmp_event_reset(bool guest, const char *reason);	/* RESET, as SHUTDOWN's data */
void qmp_event_panicked(const char *action);	/* GUEST_PANICKED */
void qmp_event_balloon(uint64_t actual);		/* BALLOON_CHANGE */
void qmp_event_migration(const char *status);		/* MIGRATION */

/* ---- the server (loop thread) ---- */

struct machine;
/*
 * -qmp unix:PATH,server=on[,wait=on|off]: binds and listens now; with
 * wait=on (QEMU's default) waits for the first client. Each call adds a
 * monitor; one message on error.
 */
int qmp_server_create(const char *opt, struct loop *loop, struct machine *m);
/* -mon chardev=ID,mode=control[,pretty=off]; readline goes to vmm/hmp_mon.c. */
int qmp_mon_create(const char *opt, struct loop *loop, struct machine *m);
/* What QMP commands act on, for sessions made elsewhere (HMP, vmm/hmp_mon.c). */
const struct qmp_target *qmp_machine_target(struct machine *m);
/* Closes every monitor's sockets and removes their paths. */
void qmp_server_destroy(void);

#endif
