/*
 * -qmp unix:PATH,server=on[,wait=off]: the QMP socket, served on the
 * event loop. One client at a time, like QEMU's default: the next waits in
 * the listen backlog until the current one leaves. A client that sends a
 * command longer than QMP_MAX_COMMAND, or leaves more than
 * QMP_MAX_PENDING bytes of replies unread, is disconnected.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "backends/object.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/props.h"
#include "virtio/balloon.h"
#include "vmm/qmp.h"

struct qmp_server {
	char *path;
	int listen_fd, client_fd;
	bool listening;
	struct loop *loop;
	struct platform *pf;
	struct qmp_session *sess;
	char *out;			/* replies not yet written */
	size_t out_len, out_cap;
	bool want_out, drop;
};

static struct qmp_server *server;

/* ---- what the commands act on ---- */

/* The balloon is found among the machine's devices on every command. */
static struct platform *pf_of(void *o)
{
	return ((struct qmp_server *)o)->pf;
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
	struct qmp_server *s = o;

	platform_stop(s->pf, STOP_SIGNAL, "terminating on QMP command 'quit'");
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
};

/* ---- the connection ---- */

static void on_listen(void *opaque, uint32_t events);
static void on_client(void *opaque, uint32_t events);

static void set_listening(struct qmp_server *s, bool on)
{
	if (on == s->listening)
		return;
	if (on && loop_add(s->loop, s->listen_fd, EPOLLIN, on_listen, s))
		return;
	if (!on)
		loop_del(s->loop, s->listen_fd);
	s->listening = on;
}

static void drop_client(struct qmp_server *s)
{
	if (s->client_fd < 0)
		return;
	loop_del(s->loop, s->client_fd);
	close(s->client_fd);
	s->client_fd = -1;
	qmp_session_free(s->sess);
	s->sess = NULL;
	s->out_len = 0;
	s->want_out = s->drop = false;
	set_listening(s, true);
}

static void flush(struct qmp_server *s)
{
	size_t done = 0;
	bool want;

	while (done < s->out_len) {
		ssize_t n = write(s->client_fd, s->out + done, s->out_len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			s->drop = true;		/* the client went away */
			break;
		}
		done += (size_t)n;
	}
	memmove(s->out, s->out + done, s->out_len - done);
	s->out_len -= done;
	want = s->out_len > 0;
	if (!s->drop && want != s->want_out &&
	    !loop_mod(s->loop, s->client_fd, EPOLLIN | (want ? EPOLLOUT : 0)))
		s->want_out = want;
}

/* Replies end in CR LF, as QEMU's do. */
static void send_text(void *opaque, const char *json, size_t len)
{
	struct qmp_server *s = opaque;
	size_t need = s->out_len + len + 2;

	if (s->drop)
		return;
	if (need > QMP_MAX_PENDING) {
		warn_msg("-qmp: a client leaves its replies unread; disconnecting it");
		s->drop = true;
		return;
	}
	if (need > s->out_cap) {
		size_t cap = need < 4096 ? 4096 : need * 2;
		char *p = realloc(s->out, cap);

		if (!p) {
			s->drop = true;
			return;
		}
		s->out = p;
		s->out_cap = cap;
	}
	memcpy(s->out + s->out_len, json, len);
	memcpy(s->out + s->out_len + len, "\r\n", 2);
	s->out_len = need;
	flush(s);
}

static void on_client(void *opaque, uint32_t events)
{
	struct qmp_server *s = opaque;
	char buf[4096];

	if (events & EPOLLOUT)
		flush(s);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t n = read(s->client_fd, buf, sizeof(buf));

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0 || qmp_session_input(s->sess, buf, (size_t)n) < 0)
			s->drop = true;
	}
	if (s->drop)
		drop_client(s);
}

static void take_client(struct qmp_server *s, int fd)
{
	s->client_fd = fd;
	if (loop_add(s->loop, fd, EPOLLIN, on_client, s)) {
		close(fd);
		s->client_fd = -1;
		return;
	}
	/* Others wait in the backlog until this one leaves. */
	set_listening(s, false);
	s->sess = qmp_session_new(&target, send_text, s);
	if (!s->sess)
		s->drop = true;
	if (s->drop)
		drop_client(s);
}

static void on_listen(void *opaque, uint32_t events)
{
	struct qmp_server *s = opaque;
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd >= 0)
		take_client(s, fd);
}

/* ---- set-up ---- */

static const char usage[] = "use -qmp unix:PATH,server=on[,wait=on|off]";

static int parse(const char *opt, struct qmp_server *s, bool *wait)
{
	struct keyval kv;
	const char *v;
	int server_on = 0, wait_on = 1, ret;

	ret = keyval_parse(opt, "path", "-qmp", &kv);
	if (ret)
		return ret;
	if (!kv.implied || strncmp(kv.implied, "unix:", 5) || !kv.implied[5]) {
		err_msg("-qmp %s: only unix sockets are supported: %s", opt, usage);
		ret = -EINVAL;
	}
	v = keyval_get(&kv, "server");
	if (!ret && (!v || parse_bool(v, &server_on) || !server_on)) {
		err_msg("-qmp %s: server=on is required (ember listens; it does not "
			"connect): %s", opt, usage);
		ret = -EINVAL;
	}
	v = keyval_get(&kv, "wait");
	if (!ret && v && parse_bool(v, &wait_on)) {
		err_msg("-qmp %s: wait=%s: expected on or off", opt, v);
		ret = -EINVAL;
	}
	if (!ret)
		ret = keyval_check_unused(&kv, "-qmp");
	if (!ret && !(s->path = strdup(kv.implied + 5)))
		ret = -ENOMEM;
	*wait = wait_on;
	keyval_free(&kv);
	return ret;
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
	if (listen(fd, 1)) {
		unlink(s->path);
		return fail("listen on", s->path, fd);
	}
	s->listen_fd = fd;
	return 0;
}

int qmp_server_create(const char *opt, struct loop *loop, struct platform *pf)
{
	struct qmp_server *s;
	bool wait;
	int ret, fd;

	if (server) {
		err_msg("-qmp %s: only one -qmp is supported", opt);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->listen_fd = s->client_fd = -1;
	s->loop = loop;
	s->pf = pf;
	target.opaque = s;
	qmp_init();
	server = s;
	ret = parse(opt, s, &wait);
	if (!ret)
		ret = open_socket(s);
	if (ret) {
		qmp_server_destroy();
		return ret;
	}
	if (wait) {
		info_msg("-qmp: waiting for a client on %s", s->path);
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			ret = fail("accept a client on", s->path, fd);
			qmp_server_destroy();
			return ret;
		}
		take_client(s, fd);
		if (s->client_fd >= 0)
			return 0;
	}
	set_listening(s, true);
	if (!s->listening) {
		err_msg("-qmp: cannot watch '%s'", s->path);
		qmp_server_destroy();
		return -EIO;
	}
	return 0;
}

void qmp_server_destroy(void)
{
	struct qmp_server *s = server;

	if (!s)
		return;
	drop_client(s);
	set_listening(s, false);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		unlink(s->path);
	}
	free(s->path);
	free(s->out);
	free(s);
	server = NULL;
}
