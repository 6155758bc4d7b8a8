/*
 * -qmp unix:PATH,server=on[,wait=off]: the QMP sockets, served on the
 * event loop. Each serves up to QMP_MAX_CLIENTS clients at once, each with
 * its own session (capability state; events go to all that negotiated);
 * more wait in the listen backlog. A client that sends a command longer
 * than QMP_MAX_COMMAND, leaves more than QMP_MAX_PENDING bytes of replies
 * unread, or has not sent qmp_capabilities qmp_handshake_ms after it
 * connected, is disconnected. When accept fails for want of file
 * descriptors the listener rests QMP_ACCEPT_BACKOFF_MS (or until a client
 * leaves) rather than spin. The commands act on the machine.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "backends/block.h"
#include "backends/memory.h"
#include "backends/chardev.h"
#include "backends/object.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/props.h"
#include "virtio/balloon.h"
#include "vmm/hotplug.h"
#include "vmm/machine.h"
#include "backends/memory.h"
#include "vmm/qmp.h"
#include "vmm/qmp_internal.h"
#include "vmm/qmp_opts.h"
#include "vmm/snapshot.h"

/* After accept4 failed with EMFILE/ENFILE: how long the listener rests. */
#define QMP_ACCEPT_BACKOFF_MS	100
/* The pending connections the kernel keeps while all slots are taken. */
#define QMP_BACKLOG		64

unsigned qmp_handshake_ms = 10000;

struct qmp_server;

/* One connection, with its own session (capability state). */
struct qmp_client {
	struct qmp_server *srv;
	int fd;
	struct qmp_session *sess;
	char *out;			/* replies not yet written */
	size_t out_len, out_cap;
	uint64_t deadline;		/* ms: qmp_capabilities by then */
	bool want_out, drop;
};

/* One -qmp socket. */
struct qmp_server {
	char *path;
	int listen_fd;
	bool listening;
	int timer_fd;			/* handshake deadlines and the accept back-off */
	uint64_t resume_at;		/* ms: listen again (0: not resting) */
	bool accept_warned;
	struct loop *loop;
	struct qmp_client *clients[QMP_MAX_CLIENTS];
	unsigned nr_clients;
	struct qmp_server *next;
};

static struct qmp_server *servers;
static struct machine *machine;

/* -mon chardev=ID,mode=control: QMP over a chardev, one peer at a time. */
struct qmp_chr_mon {
	struct chardev *chr;
	struct qmp_session *sess;	/* while a peer is there */
	struct qmp_chr_mon *next;
};

static struct qmp_chr_mon *chr_mons;

/* ---- what the commands act on ---- */

/* The balloon is found among the machine's devices on every command. */
static struct platform *pf_of(void *o)
{
	return &machine->pf;
}

static int t_find_device(void *o, const char *id, struct qom_node *n)
{
	struct device *d = device_find(pf_of(o), id);

	if (!d)
		return -ENOENT;
	*n = (struct qom_node){ d->type->name, d->type->props, d->state, balloon_is(d) };
	return 0;
}

/* -object types keep their options in the struct that starts with obj. */
static int t_find_object(void *o, const char *id, struct qom_node *n)
{
	struct object *ob = object_find(OBJ_OBJECT, id);

	if (!ob)
		return -ENOENT;
	*n = (struct qom_node){ ob->type->name, ob->type->props, ob, false };
	return 0;
}

static int t_balloon_set(void *o, uint64_t bytes) { return balloon_set_target(pf_of(o), bytes); }
static int t_balloon_get(void *o, uint64_t *actual)
{
	return balloon_get_actual(pf_of(o), actual);
}
static uint64_t t_ram_size(void *o) { return balloon_ram_size(pf_of(o)); }
static const char *t_balloon_id(void *o) { return balloon_id(pf_of(o)); }

static int t_balloon_stats(void *o, struct balloon_stats *st, int64_t *when, uint32_t *iv)
{
	return balloon_get_stats(pf_of(o), st, when, iv);
}

static int t_set_interval(void *o, uint32_t seconds)
{
	return balloon_set_stats_interval(pf_of(o), seconds);
}

static void t_quit(void *o)
{
	machine_quit(machine, "host-qmp-quit", "terminating on QMP command 'quit'");
}

/* In place; under -no-reboot the run ends (machine.h). */
static void t_reset(void *o)
{
	machine_system_reset(machine);
}

static const char *t_run_state(void *o, bool *running)
{
	*running = machine->state == RUN_RUNNING;
	/* QEMU's word for a machine waiting for migrate-incoming. */
	return machine->incoming_wait ? "inmigrate" : run_state_name(machine->state);
}

static int t_stop(void *o) { return machine_pause(machine); }

static struct {
	const char *status;	/* NULL: no migrate yet */
	uint64_t total_ms;
} last_migrate;

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* QEMU's MIGRATION events around the save; the source stays paused. */
static int t_migrate(void *o, const char *uri)
{
	uint64_t t0 = mono_ms();
	int ret;

	qmp_event_migration("setup");
	ret = snapshot_save(machine, uri);
	last_migrate.status = ret ? "failed" : "completed";
	last_migrate.total_ms = mono_ms() - t0;
	qmp_event_migration(last_migrate.status);
	return ret;
}

static const char *t_migrate_info(void *o, uint64_t *total_ms, uint64_t *ram_bytes)
{
	*total_ms = last_migrate.total_ms;
	*ram_bytes = machine->ram ? machine->ram->size : 0;
	return last_migrate.status;
}

/* -incoming defer: the vCPUs have not run; they start unless -S. */
static int t_migrate_incoming(void *o, const char *uri)
{
	int ret;

	if (!machine->incoming_wait)
		return -EBUSY;
	ret = snapshot_load(machine, uri);
	if (ret)
		return ret;
	machine->incoming_wait = false;
	qmp_event_migration("completed");
	if (!machine->cfg.start_paused)
		machine_resume(machine);
	return 0;
}
static int t_cont(void *o) { return machine_resume(machine); }
static int t_powerdown(void *o) { return machine_powerdown(machine); }
static const char *t_name(void *o) { return machine->cfg.name; }
static const char *t_uuid(void *o) { return machine->cfg.uuid; }

static int t_cpu(void *o, unsigned i, int *tid)
{
	if (i >= machine->nr_vcpus)
		return -ENOENT;
	*tid = __atomic_load_n(&machine->vcpus[i].tid, __ATOMIC_RELAXED);
	return 0;
}

static int t_chardev(void *o, unsigned i, const char **label, char *fn, size_t size,
		     bool *frontend_open)
{
	struct chardev *c = NULL;
	int open = 0;

	do
		c = chardev_next_info(c, fn, size, &open);
	while (c && i--);
	if (!c)
		return -ENOENT;
	*label = chardev_id(c);
	*frontend_open = open;
	return 0;
}

/* The device whose drive= names @node: its QOM path, or its type without an id. */
static void block_user(const char *node, char *qdev, size_t size)
{
	qdev[0] = 0;
	for (struct device *d = machine->pf.devices; d && node; d = d->next)
		for (const struct prop *p = d->type->props; p && p->name; p++) {
			const char *v;

			if (p->type != PROP_STR || strcmp(p->name, "drive"))
				continue;
			v = *(char *const *)((const char *)d->state + p->offset);
			if (!v || strcmp(v, node))
				continue;
			if (d->id)
				snprintf(qdev, size, "/machine/peripheral/%s", d->id);
			else
				snprintf(qdev, size, "%s", d->type->name);
			return;
		}
}

static int t_block(void *o, unsigned i, struct blk_info *info, char *qdev, size_t size)
{
	struct blk *b = NULL;

	do
		b = blk_next_info(b, info);
	while (b && i--);
	if (!b)
		return -ENOENT;
	block_user(info->node_name, qdev, size);
	return 0;
}

/* info qtree */
static int t_device(void *o, unsigned i, const char **type, const char **id,
		    const char **bus)
{
	for (struct device *d = machine->pf.devices; d; d = d->next)
		if (!i--) {
			*type = d->type->name;
			*id = d->id;
			*bus = d->type->bus;
			return 0;
		}
	return -ENOENT;
}

static int t_device_add(void *o, const char *driver, struct keyval *kv)
{
	return hotplug_add(&machine->pf, driver, kv);
}

static int t_device_del(void *o, const char *id)
{
	return hotplug_del(&machine->pf, id);
}

static int t_object_add(void *o, int kind, const char *opts)
{
	int ret = object_create(kind, opts, machine->pf.loop);

	return ret > 0 ? -EINVAL : ret;	/* 1: help was printed, nothing made */
}

static int t_object_del(void *o, int kind, const char *id)
{
	return object_remove(kind, id, "blockdev-del");
}

static struct qmp_target target = {
	.find_device = t_find_device,
	.find_object = t_find_object,
	.balloon_set = t_balloon_set,
	.balloon_get = t_balloon_get,
	.ram_size = t_ram_size,
	.balloon_id = t_balloon_id,
	.balloon_stats = t_balloon_stats,
	.balloon_set_interval = t_set_interval,
	.quit = t_quit,
	.system_reset = t_reset,
	.run_state = t_run_state,
	.stop = t_stop,
	.migrate = t_migrate,
	.migrate_incoming = t_migrate_incoming,
	.migrate_info = t_migrate_info,
	.cont = t_cont,
	.powerdown = t_powerdown,
	.name = t_name,
	.uuid = t_uuid,
	.cpu = t_cpu,
	.device = t_device,
	.chardev = t_chardev,
	.block = t_block,
	.device_add = t_device_add,
	.device_del = t_device_del,
	.object_add = t_object_add,
	.object_del = t_object_del,
};

/* ---- the connections ---- */

static void on_listen(void *opaque, uint32_t events);
static void on_client(void *opaque, uint32_t events);

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_listening(struct qmp_server *s, bool on)
{
	/* Resting after EMFILE, or every slot taken: the backlog holds them. */
	if (on && (s->resume_at || s->nr_clients == QMP_MAX_CLIENTS))
		on = false;
	if (on == s->listening)
		return;
	if (on && loop_add(s->loop, s->listen_fd, EPOLLIN, on_listen, s))
		return;
	if (!on)
		loop_del(s->loop, s->listen_fd);
	s->listening = on;
}

/* The timer fires at the earliest handshake deadline or the end of a rest. */
static void arm_timer(struct qmp_server *s)
{
	struct itimerspec its = { 0 };
	uint64_t when = s->resume_at, now = now_ms();

	for (unsigned i = 0; i < s->nr_clients; i++) {
		uint64_t d = s->clients[i]->drop ? now : s->clients[i]->deadline;

		if (d && (!when || d < when))
			when = d;
	}
	if (s->timer_fd < 0)
		return;
	if (when) {
		uint64_t ms = when > now ? when - now : 1;

		its.it_value.tv_sec = (time_t)(ms / 1000);
		its.it_value.tv_nsec = (long)(ms % 1000) * 1000000;
	}
	timerfd_settime(s->timer_fd, 0, &its, NULL);
}

static void drop_client(struct qmp_client *c)
{
	struct qmp_server *s = c->srv;

	loop_del(s->loop, c->fd);
	close(c->fd);
	qmp_session_free(c->sess);
	free(c->out);
	for (unsigned i = 0; i < s->nr_clients; i++)
		if (s->clients[i] == c)
			s->clients[i] = s->clients[--s->nr_clients];
	free(c);
	/* A descriptor is free again: no need to wait out a rest. */
	s->resume_at = 0;
	set_listening(s, true);
	arm_timer(s);
}

/*
 * Marked for dropping, maybe outside its own wake-up (an event to every
 * client, while the sessions are being walked): its replies go now, and
 * the timer drops it at once, since a client that does not read may never
 * wake up on its own.
 */
static void mark_drop(struct qmp_client *c)
{
	c->drop = true;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_cap = 0;
	arm_timer(c->srv);
}

static void flush(struct qmp_client *c)
{
	size_t done = 0;
	bool want;

	while (done < c->out_len) {
		ssize_t n = write(c->fd, c->out + done, c->out_len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			c->drop = true;		/* the client went away */
			break;
		}
		done += (size_t)n;
	}
	if (c->drop)
		return;
	memmove(c->out, c->out + done, c->out_len - done);
	c->out_len -= done;
	want = c->out_len > 0;
	if (want != c->want_out &&
	    !loop_mod(c->srv->loop, c->fd, EPOLLIN | (want ? EPOLLOUT : 0)))
		c->want_out = want;
}

/* Replies and events end in CR LF, as QEMU's do. */
static void send_text(void *opaque, const char *json, size_t len)
{
	struct qmp_client *c = opaque;
	size_t need = c->out_len + len + 2;

	if (c->drop)
		return;
	if (need > QMP_MAX_PENDING) {
		warn_msg("-qmp: a client leaves %zu bytes of replies unread; disconnecting it",
			 c->out_len);
		mark_drop(c);
		return;
	}
	if (need > c->out_cap) {
		size_t cap = need < 4096 ? 4096 : need * 2;
		char *p = realloc(c->out, cap < QMP_MAX_PENDING ? cap : QMP_MAX_PENDING);

		if (!p) {
			mark_drop(c);
			return;
		}
		c->out = p;
		c->out_cap = cap < QMP_MAX_PENDING ? cap : QMP_MAX_PENDING;
	}
	memcpy(c->out + c->out_len, json, len);
	memcpy(c->out + c->out_len + len, "\r\n", 2);
	c->out_len = need;
	flush(c);
}

static void on_client(void *opaque, uint32_t events)
{
	struct qmp_client *c = opaque;
	char buf[4096];

	if (!c->drop && (events & EPOLLOUT))
		flush(c);
	if (!c->drop && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || qmp_session_input(c->sess, buf, (size_t)n) < 0)
			c->drop = true;
		else if (c->deadline && qmp_session_negotiated(c->sess)) {
			c->deadline = 0;
			arm_timer(c->srv);
		}
	}
	if (c->drop)
		drop_client(c);
}

static void take_client(struct qmp_server *s, int fd)
{
	struct qmp_client *c = calloc(1, sizeof(*c));

	if (!c || loop_add(s->loop, fd, EPOLLIN, on_client, c)) {
		free(c);
		close(fd);
		return;
	}
	c->srv = s;
	c->fd = fd;
	c->deadline = now_ms() + qmp_handshake_ms;
	s->clients[s->nr_clients++] = c;
	/* With every slot taken, more wait in the backlog until one leaves. */
	set_listening(s, true);
	c->sess = qmp_session_new(&target, send_text, c);
	if (!c->sess || c->drop)
		drop_client(c);
	else
		arm_timer(s);
}

static void on_listen(void *opaque, uint32_t events)
{
	struct qmp_server *s = opaque;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd >= 0) {
		take_client(s, fd);
		return;
	}
	if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM)
		return;		/* the client gave up (ECONNABORTED), EINTR, EAGAIN */
	/*
	 * The pending connection stays, so the socket stays readable: rest
	 * rather than spin until a descriptor is free.
	 */
	if (!s->accept_warned)
		warn_msg("-qmp: cannot accept a client on %s: %s; retrying every %u ms "
			 "(raise the file descriptor limit, ulimit -n)", s->path, strerror(errno),
			 QMP_ACCEPT_BACKOFF_MS);
	s->accept_warned = true;
	s->resume_at = now_ms() + QMP_ACCEPT_BACKOFF_MS;
	set_listening(s, false);
	arm_timer(s);
}

static void on_timer(void *opaque, uint32_t events)
{
	struct qmp_server *s = opaque;
	uint64_t v, now = now_ms();

	if (read(s->timer_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing due; the deadlines below say. */
	}
	if (s->resume_at && s->resume_at <= now) {
		s->resume_at = 0;
		set_listening(s, true);
	}
	for (unsigned i = 0; i < s->nr_clients; i++) {
		struct qmp_client *c = s->clients[i];

		if (!c->drop && (!c->deadline || c->deadline > now))
			continue;
		if (!c->drop)
			warn_msg("-qmp: a client sent no qmp_capabilities within %u ms; "
				 "disconnecting it", qmp_handshake_ms);
		drop_client(c);
		i--;
	}
	arm_timer(s);
}

/* ---- set-up ---- */

static int parse(const char *opt, struct qmp_server *s, bool *wait)
{
	return qmp_parse_opts(opt, &s->path, wait);
}

static int fail(const char *what, const char *path, int fd)
{
	int ret = -errno;

	err_msg("-qmp: cannot %s '%s': %s", what, path, strerror(-ret));
	if (fd >= 0)
		close(fd);
	return ret;
}

static int open_socket(struct qmp_server *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(s->path) >= sizeof(sa.sun_path)) {
		err_msg("-qmp: path '%s' is too long (at most %zu bytes)", s->path,
			sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, s->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail("create a socket for", s->path, -1);
	/* A socket left by an earlier run; never remove anything else. */
	if (!lstat(s->path, &st) && S_ISSOCK(st.st_mode))
		unlink(s->path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fail("bind", s->path, fd);
	if (listen(fd, QMP_BACKLOG)) {
		unlink(s->path);
		return fail("listen on", s->path, fd);
	}
	s->listen_fd = fd;
	return 0;
}

/* For the human monitor (vmm/hmp_mon.c): its sessions act on the machine too. */
const struct qmp_target *qmp_machine_target(struct machine *m)
{
	machine = m;
	qmp_init();
	return &target;
}

/* ---- -mon chardev=ID,mode=control ---- */

static void chr_send(void *opaque, const char *json, size_t len)
{
	struct qmp_chr_mon *mon = opaque;

	chardev_write(mon->chr, json, len);
	chardev_write(mon->chr, "\r\n", 2);
}

static size_t chr_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct qmp_chr_mon *mon = opaque;

	/* Too long a command: nothing more until the next peer. */
	if (mon->sess && qmp_session_input(mon->sess, (const char *)buf, len) < 0) {
		qmp_session_free(mon->sess);
		mon->sess = NULL;
	}
	return len;
}

/* A new peer gets a new session and the greeting. */
static void chr_peer(void *opaque, int open)
{
	struct qmp_chr_mon *mon = opaque;

	qmp_session_free(mon->sess);
	mon->sess = open ? qmp_session_new(&target, chr_send, mon) : NULL;
}

static int chr_mon_add(const char *owner, const char *id, struct machine *m)
{
	struct chardev *chr = chardev_find(id);
	struct qmp_chr_mon *mon;
	int ret;

	if (!chr) {
		err_msg("%s: no -chardev with id '%s'", owner, id);
		return -ENOENT;
	}
	mon = calloc(1, sizeof(*mon));
	if (!mon)
		return -ENOMEM;
	mon->chr = chr;
	ret = chardev_attach(chr, chr_input, mon);
	if (ret) {
		err_msg("%s: chardev '%s' is already used by another front end", owner, id);
		free(mon);
		return ret;
	}
	machine = m;
	qmp_init();
	mon->next = chr_mons;
	chr_mons = mon;
	chardev_watch_peer(chr, chr_peer);
	return 0;
}

int qmp_mon_create(const char *opt, struct loop *loop, struct machine *m)
{
	struct keyval kv;
	const char *id, *mode, *pretty;
	int ret, on = 0;

	ret = keyval_parse(opt, "chardev", "-mon", &kv);
	if (ret)
		return ret;
	id = kv.implied ? kv.implied : keyval_get(&kv, "chardev");
	mode = keyval_get(&kv, "mode");
	pretty = keyval_get(&kv, "pretty");
	if (!id) {
		err_msg("-mon %s: chardev=ID is required", opt);
		ret = -EINVAL;
	} else if (!mode || strcmp(mode, "control")) {
		/* hmp_mon_create() sends only mode=control here. */
		err_msg("-mon %s: mode=%s: QMP needs mode=control", opt, mode ? mode : "readline");
		ret = -EINVAL;
	} else if (pretty && (parse_bool(pretty, &on) || on)) {
		err_msg("-mon %s: pretty=%s: ember's QMP sends one line a text (pretty=off)",
			opt, pretty);
		ret = -EINVAL;
	}
	if (!ret)
		ret = keyval_check_unused(&kv, "-mon");
	if (!ret) {
		char owner[128];

		snprintf(owner, sizeof(owner), "-mon %s", opt);
		ret = chr_mon_add(owner, id, m);
	}
	keyval_free(&kv);
	return ret;
}

static void server_free(struct qmp_server *s)
{
	while (s->nr_clients) {
		struct qmp_client *c = s->clients[0];

		flush(c);	/* the last events (SHUTDOWN), if the socket takes them */
		drop_client(c);
	}
	s->resume_at = 1;	/* no more listening */
	set_listening(s, false);
	if (s->timer_fd >= 0) {
		loop_del(s->loop, s->timer_fd);
		close(s->timer_fd);
	}
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	free(s->path);
	free(s);
}

int qmp_server_create(const char *opt, struct loop *loop, struct machine *m)
{
	struct qmp_server *s;
	bool wait;
	int ret, fd;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->listen_fd = -1;
	s->loop = loop;
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->timer_fd < 0 || loop_add(loop, s->timer_fd, EPOLLIN, on_timer, s)) {
		err_msg("-qmp: cannot create a timer: %s", strerror(errno));
		if (s->timer_fd >= 0)
			close(s->timer_fd);
		free(s);
		return -EIO;
	}
	machine = m;
	target.opaque = s;
	qmp_init();
	ret = parse(opt, s, &wait);
	if (!ret)
		ret = open_socket(s);
	if (ret) {
		server_free(s);
		return ret;
	}
	s->next = servers;
	servers = s;
	if (wait) {
		info_msg("-qmp: waiting for a client on %s", s->path);
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return fail("accept a client on", s->path, -1);
		take_client(s, fd);
	}
	set_listening(s, true);
	if (!s->listening && s->nr_clients < QMP_MAX_CLIENTS) {
		err_msg("-qmp: cannot watch '%s'", s->path);
		return -EIO;
	}
	return 0;
}

void qmp_server_destroy(void)
{
	while (chr_mons) {
		struct qmp_chr_mon *mon = chr_mons;

		chr_mons = mon->next;
		chardev_detach(mon->chr);
		qmp_session_free(mon->sess);
		free(mon);
	}
	while (servers) {
		struct qmp_server *s = servers;

		servers = s->next;
		server_free(s);
	}
}
