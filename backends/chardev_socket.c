/*
 * -chardev socket: a unix stream socket. A server serves one client at a
 * time and takes the next after a disconnect; a client connects once, or
 * with reconnect=N again after the peer left (for vhost-user, whose device
 * asks for it: chardev_socket_connect).
 * When accept fails for want of file descriptors, the listener rests
 * ACCEPT_BACKOFF_MS (or until the client leaves) rather than spin.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "backends/chardev_internal.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/props.h"

#define ACCEPT_BACKOFF_MS	100

struct socket_chr {
	char *path, *fd_str;
	bool server, wait;
	uint32_t reconnect;	/* seconds between attempts; 0: never */
	int listen_fd, client_fd;
	bool listening;		/* listen_fd is on the loop */
	int timer_fd;		/* ends a rest after accept failed */
	bool resting, accept_warned;
};

static const struct prop socket_props[] = {
	{ "path", PROP_STR, offsetof(struct socket_chr, path), NULL,
	  "unix socket path (or fd=)" },
	{ "fd", PROP_STR, offsetof(struct socket_chr, fd_str), NULL,
	  "a socket a manager opened: listening with server=on, else connected" },
	{ "server", PROP_BOOL, offsetof(struct socket_chr, server), "off",
	  "listen on path instead of connecting to it" },
	{ "wait", PROP_BOOL, offsetof(struct socket_chr, wait), "on",
	  "server: wait for a client before starting the guest" },
	{ "reconnect", PROP_U32, offsetof(struct socket_chr, reconnect), "0",
	  "client: seconds between attempts to connect again after the server left "
	  "(vhost-user-blk); 0: never", .max = 3600 },
	{ NULL }
};

static void sock_accept(void *opaque, uint32_t events);

static void set_listening(struct chardev *c, bool on)
{
	struct socket_chr *s = c->state;

	if (s->resting || s->client_fd >= 0)
		on = false;
	if (on == s->listening || !c->loop)
		return;
	if (on && loop_add(c->loop, s->listen_fd, EPOLLIN, sock_accept, c))
		return;
	if (!on)
		loop_del(c->loop, s->listen_fd);
	s->listening = on;
}

static void take_client(struct chardev *c, int fd)
{
	struct socket_chr *s = c->state;

	s->client_fd = fd;
	/* Others queue in the backlog until this one leaves. */
	set_listening(c, false);
	chr_set_output(c, fd, CHR_OUT_SOCKET);
	chr_set_input(c, fd);
}

static void sock_rested(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;
	struct socket_chr *s = c->state;
	uint64_t v;

	if (read(s->timer_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: already handled */
	}
	s->resting = false;
	set_listening(c, true);
}

static void sock_accept(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;
	struct socket_chr *s = c->state;
	struct itimerspec its = { .it_value.tv_nsec = ACCEPT_BACKOFF_MS * 1000000L };
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd >= 0) {
		take_client(c, fd);
		return;
	}
	if (errno != EMFILE && errno != ENFILE && errno != ENOBUFS && errno != ENOMEM)
		return;		/* the client gave up (ECONNABORTED), EINTR, EAGAIN */
	/* The connection stays pending and the socket readable: rest, do not spin. */
	if (!s->accept_warned)
		warn_msg("chardev '%s': cannot accept a connection: %s; retrying every %d ms "
			 "(raise the file descriptor limit, ulimit -n)", c->obj.id,
			 strerror(errno), ACCEPT_BACKOFF_MS);
	s->accept_warned = true;
	if (s->timer_fd < 0 || timerfd_settime(s->timer_fd, 0, &its, NULL))
		return;
	s->resting = true;
	set_listening(c, false);
}

/* A server's listener and its back-off timer go on the loop. */
static int start_listening(struct chardev *c, const char *owner)
{
	struct socket_chr *s = c->state;

	if (!c->loop)
		return 0;
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->timer_fd < 0 || loop_add(c->loop, s->timer_fd, EPOLLIN, sock_rested, c)) {
		err_msg("%s: cannot create a timer: %s", owner, strerror(errno));
		if (s->timer_fd >= 0)
			close(s->timer_fd);
		s->timer_fd = -1;
		return -EIO;
	}
	set_listening(c, true);
	return 0;
}

static void sock_eof(struct chardev *c)
{
	struct socket_chr *s = c->state;

	chr_stop_input(c);
	/* Under the chardev lock: a vCPU may be writing to this fd. */
	chr_set_output(c, -1, CHR_OUT_SOCKET);
	close(s->client_fd);
	s->client_fd = -1;
	/* A descriptor is free again: no need to wait out a rest. */
	s->resting = false;
	if (s->server)
		set_listening(c, true);
}

static int sock_fail(const char *owner, const char *what, const char *path, int fd)
{
	int ret = -errno;

	err_msg("%s: cannot %s '%s': %s", owner, what, path, strerror(-ret));
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The client of a server waited for (wait=on), before the guest starts. */
static int wait_client(struct chardev *c, const char *owner, const char *what)
{
	struct socket_chr *s = c->state;
	int fd;

	info_msg("waiting for a connection on %s", what);
	do
		fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return sock_fail(owner, "accept a connection on", what, -1);
	take_client(c, fd);
	return 0;
}

/*
 * fd=N: a unix stream socket a manager (libvirt) opened and passed: a
 * listening one for server=on, else a connected one. ember owns it then.
 */
static int sock_adopt(struct chardev *c, const char *owner)
{
	struct socket_chr *s = c->state;
	int fd, type = 0, listening = 0, fl, ret;
	socklen_t len = sizeof(int);
	uint64_t v;

	if (s->path) {
		err_msg("%s: give either path= or fd=, not both", owner);
		return -EINVAL;
	}
	if (parse_u64(s->fd_str, &v) || v < 3 || v > INT32_MAX) {
		err_msg("%s: fd=%s is not a file descriptor number (3 or more)", owner, s->fd_str);
		return -EINVAL;
	}
	fd = (int)v;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) || type != SOCK_STREAM ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len)) {
		err_msg("%s: fd=%d is not an open stream socket", owner, fd);
		return -EINVAL;
	}
	if (!!listening != s->server) {
		err_msg("%s: fd=%d is %s socket but server=%s", owner, fd,
			listening ? "a listening" : "a connected", s->server ? "on" : "off");
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	/* A listening fd blocks (wait=on accepts on it); a client's never does */
	if (fl < 0 || fcntl(fd, F_SETFL, s->server ? fl & ~O_NONBLOCK : fl | O_NONBLOCK) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		err_msg("%s: fd=%d: %s", owner, fd, strerror(errno));
		return -EINVAL;
	}
	if (!s->server) {
		take_client(c, fd);
		return 0;
	}
	s->listen_fd = fd;
	if (s->wait && (ret = wait_client(c, owner, s->fd_str)))
		return ret;
	return start_listening(c, owner);
}

static int sock_open(struct chardev *c, const char *owner)
{
	struct socket_chr *s = c->state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	s->listen_fd = s->client_fd = s->timer_fd = -1;
	if (s->reconnect && (s->server || s->fd_str)) {
		err_msg("%s: reconnect= is for a client that connects to path= itself "
			"(not with server=on or fd=)", owner);
		return -EINVAL;
	}
	if (s->fd_str)
		return sock_adopt(c, owner);
	if (!s->path) {
		err_msg("%s: path= or fd= is required", owner);
		return -EINVAL;
	}
	if (strlen(s->path) >= sizeof(sa.sun_path)) {
		err_msg("%s: path '%s' is too long (at most %zu bytes)", owner,
			s->path, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, s->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sock_fail(owner, "create a socket for", s->path, -1);
	if (!s->server) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    fcntl(fd, F_SETFL, O_NONBLOCK))
			return sock_fail(owner, "connect to", s->path, fd);
		take_client(c, fd);
		return 0;
	}
	/* A socket left by an earlier run; never remove anything else. */
	if (!lstat(s->path, &st) && S_ISSOCK(st.st_mode))
		unlink(s->path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 16))
		return sock_fail(owner, "listen on", s->path, fd);
	s->listen_fd = fd;
	ret = s->wait ? wait_client(c, owner, s->path) : 0;
	if (!ret)
		ret = start_listening(c, owner);
	if (ret) {
		close(s->listen_fd);
		s->listen_fd = -1;
		unlink(s->path);
	}
	return ret;
}

static void sock_close(struct chardev *c)
{
	struct socket_chr *s = c->state;

	if (s->client_fd >= 0)
		close(s->client_fd);
	if (s->timer_fd >= 0) {
		if (c->loop)
			loop_del(c->loop, s->timer_fd);
		close(s->timer_fd);
	}
	if (s->listen_fd >= 0) {
		set_listening(c, false);
		close(s->listen_fd);
		if (s->path)	/* never a path a manager's fd= was bound to */
			unlink(s->path);
	}
}

static const struct chardev_backend socket_ops = {
	.state_size = sizeof(struct socket_chr),
	.open = sock_open,
	.close = sock_close,
	.eof = sock_eof,
};

static const struct object_type socket_type = {
	CHARDEV_TYPE("socket", "a unix stream socket, as server or client", socket_props, &socket_ops),
};
OBJECT_TYPE(socket_type)

int chardev_socket_take(struct chardev *c)
{
	struct socket_chr *s = c->state;
	int fd;

	if (c->be != &socket_ops)
		return -ENOTSOCK;
	if (s->client_fd < 0)
		return -ENOTCONN;
	chr_stop_input(c);
	chr_set_output(c, -1, CHR_OUT_SOCKET);
	fd = s->client_fd;
	s->client_fd = -1;
	return fd;
}

unsigned chardev_socket_reconnect(struct chardev *c)
{
	return c->be == &socket_ops ? ((struct socket_chr *)c->state)->reconnect : 0;
}

int chardev_socket_connect(struct chardev *c)
{
	struct socket_chr *s = c->state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (c->be != &socket_ops || s->server || !s->path)
		return -ENOTSOCK;
	strcpy(sa.sun_path, s->path);	/* its length was checked at open */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || fcntl(fd, F_SETFL, O_NONBLOCK)) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}
