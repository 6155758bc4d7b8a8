/*
 * Chardev core: creating one (its type comes from the object table),
 * output from any thread and input with back-pressure on the loop thread;
 * see chardev.h.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "backends/chardev_internal.h"
#include "backends/chardev_mux.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/props.h"
#include "lib/util.h"

/* ---- input ---- */

static void on_input(void *opaque, uint32_t events);
static void arm_out_timer(struct chardev *c, bool on);
static void on_out_timer(void *opaque, uint32_t events);

static void set_polling(struct chardev *c, bool on)
{
	int ret;

	if (on == c->in_polled || !c->loop)
		return;
	/*
	 * Add/remove rather than EPOLL_CTL_MOD to 0: EPOLLHUP is reported even
	 * with an empty mask and would spin the loop while input is paused.
	 */
	if (!on) {
		loop_del(c->loop, c->in_fd);
		c->in_polled = false;
		return;
	}
	ret = loop_add(c->loop, c->in_fd, EPOLLIN, on_input, c);
	if (ret) {
		/* stdin on /dev/null or a regular file: nothing to wait for. */
		debug_msg("chardev '%s': input ignored: %s", c->obj.id, strerror(-ret));
		c->in_fd = -1;
		return;
	}
	c->in_polled = true;
}

static void deliver(struct chardev *c)
{
	while (c->len && c->fn) {
		size_t k = c->fn(c->opaque, c->buf + c->head, c->len);

		if (!k)
			break;
		k = MIN(k, c->len);
		c->head += k;
		c->len -= k;
	}
}

/* Hands buffered input over; reads more only once all of it is taken. */
static void pump(struct chardev *c)
{
	deliver(c);
	if (c->len) {
		/*
		 * Ask for a wakeup, then try once more: room the front end made
		 * before it could see the request is not missed.
		 */
		__atomic_store_n(&c->waiting, 1, __ATOMIC_SEQ_CST);
		deliver(c);
	}
	set_polling(c, c->in_fd >= 0 && !c->len && c->fn);
}

static void on_input(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;
	ssize_t n;

	if (c->len) {
		pump(c);
		return;
	}
	n = read(c->in_fd, c->buf, sizeof(c->buf));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (c->be->eof)
			c->be->eof(c);
		else
			chr_stop_input(c);
		return;
	}
	c->head = 0;
	c->len = n;
	pump(c);
}

static void on_wake(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;
	uint64_t v;

	if (read(c->wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: a spurious wakeup; pumping is harmless. */
	}
	if (__atomic_load_n(&c->out_timed, __ATOMIC_RELAXED) && c->out_timer >= 0)
		arm_out_timer(c, true);
	pump(c);
}

void chr_set_input(struct chardev *c, int fd)
{
	chr_stop_input(c);
	c->in_fd = fd;
	pump(c);
}

void chr_stop_input(struct chardev *c)
{
	set_polling(c, false);
	c->in_fd = -1;
}

int chardev_attach(struct chardev *c, chr_input_fn fn, void *opaque)
{
	if (c->mux)
		return chr_mux_attach(c->mux, fn, opaque);
	/* The front end says which device could not have it. */
	if (c->fn)
		return -EBUSY;
	c->fn = fn;
	c->opaque = opaque;
	/* Start reading on the loop thread. */
	__atomic_store_n(&c->waiting, 1, __ATOMIC_SEQ_CST);
	chardev_accept_input(c);
	return 0;
}

void chardev_detach(struct chardev *c)
{
	if (c->mux) {
		chr_mux_detach(c->mux);
		return;
	}
	c->fn = NULL;
	c->peer_fn = NULL;
	c->opaque = NULL;
}

void chardev_accept_input(struct chardev *c)
{
	uint64_t v = 1;

	/* Front ends call this on every guest read: no syscall unless asked. */
	if (c->wake_fd < 0 || !__atomic_exchange_n(&c->waiting, 0, __ATOMIC_SEQ_CST))
		return;
	if (write(c->wake_fd, &v, sizeof(v)) < 0) {
		/* Counter full: a wakeup is pending anyway. */
	}
}

/* ---- output ---- */

void chr_set_output(struct chardev *c, int fd, enum chr_out mode)
{
	bool was;

	/* Allocated here, on the loop thread or at start, never by a vCPU. */
	if (fd >= 0 && mode != CHR_OUT_BLOCK && !c->out_buf)
		c->out_buf = malloc(CHR_OUT_MAX);
	pthread_mutex_lock(&c->lock);
	was = c->out_fd >= 0;
	c->out_fd = fd;
	c->out_mode = mode;
	/* What waited was for the reader that left. */
	c->out_off = c->out_len = 0;
	c->stalled = false;
	pthread_mutex_unlock(&c->lock);
	/* A socket's client came or went. */
	if (c->peer_fn && was != (fd >= 0))
		c->peer_fn(c->opaque, fd >= 0);
}

void chardev_watch_peer(struct chardev *c, chr_event_fn fn)
{
	if (c->mux) {
		chr_mux_watch_peer(c->mux, fn);
		return;
	}
	c->peer_fn = fn;
	if (fn && c->out_fd >= 0)
		fn(c->opaque, 1);
}

int chardev_watch_focus(struct chardev *c, chr_event_fn fn)
{
	if (!c->mux)
		return 0;
	chr_mux_watch_focus(c->mux, fn);
	return 1;
}

static ssize_t write_all(int fd, const uint8_t *p, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n > 0)
			off += n;
		else if (n == 0)
			return -EIO;
		else if (errno == EAGAIN)	/* someone set O_NONBLOCK */
			poll(&pfd, 1, -1);
		else if (errno != EINTR)
			return -errno;
	}
	return len;
}

/* What the reader took now, without waiting; -1: nobody there (EPIPE, EIO). */
static ssize_t try_write(struct chardev *c, const uint8_t *p, size_t len)
{
	for (;;) {
		ssize_t n = c->out_mode == CHR_OUT_SOCKET ?
			send(c->out_fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT) :
			write(c->out_fd, p, len);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return errno == EAGAIN ? 0 : -1;
	}
}

/* Hands what waits to the reader; true once nothing waits. Under the lock. */
static bool flush_out(struct chardev *c)
{
	while (c->out_len) {
		ssize_t n = try_write(c, c->out_buf + c->out_off, c->out_len);

		if (n <= 0) {
			if (n < 0)	/* nobody there: as on an unplugged line */
				c->out_len = 0;
			break;
		}
		c->out_off += (size_t)n;
		c->out_len -= (size_t)n;
	}
	if (!c->out_len) {
		c->out_off = 0;
		c->stalled = false;
	}
	return !c->out_len;
}

/* Waits up to CHR_OUT_STALL_MS for the reader to make room. Under the lock. */
static bool wait_room(struct chardev *c, size_t need)
{
	struct pollfd pfd = { .fd = c->out_fd, .events = POLLOUT };
	struct timespec t0, t;
	long left = CHR_OUT_STALL_MS;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (left > 0) {
		if (poll(&pfd, 1, (int)left) == 1 && (flush_out(c) || CHR_OUT_MAX - c->out_len >= need))
			return true;
		if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = CHR_OUT_STALL_MS - (t.tv_sec - t0.tv_sec) * 1000 -
		       (t.tv_nsec - t0.tv_nsec) / 1000000;
	}
	return false;
}

/* Without blocking beyond one stall; true when the loop should start draining. */
static bool queue_out(struct chardev *c, const uint8_t *p, size_t len)
{
	size_t k;

	if (flush_out(c)) {
		ssize_t n = try_write(c, p, len);

		if (n < 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	if (!len)
		return false;
	if (!c->out_buf) {
		c->dropped += len;
		return false;
	}
	if (CHR_OUT_MAX - c->out_len < len && !c->stalled && !wait_room(c, len)) {
		c->stalled = true;
		warn_msg("chardev '%s': the reader stalled; output beyond %d KiB is dropped "
			 "until it reads again", c->obj.id, CHR_OUT_MAX / 1024);
	}
	if (c->out_off + c->out_len + len > CHR_OUT_MAX) {
		memmove(c->out_buf, c->out_buf + c->out_off, c->out_len);
		c->out_off = 0;
	}
	k = MIN(len, CHR_OUT_MAX - c->out_len);
	memcpy(c->out_buf + c->out_off + c->out_len, p, k);
	c->out_len += k;
	c->dropped += len - k;
	if (!c->out_len || c->out_timed || c->wake_fd < 0)
		return false;
	c->out_timed = true;
	return true;
}

ssize_t chardev_write(struct chardev *c, const void *buf, size_t len)
{
	ssize_t ret = len;
	bool kick = false;

	pthread_mutex_lock(&c->lock);
	if (c->out_fd >= 0 && c->out_mode == CHR_OUT_BLOCK)
		ret = write_all(c->out_fd, buf, len);
	else if (c->out_fd >= 0)
		kick = queue_out(c, buf, len);
	if (ret < 0 && !c->write_warned) {
		c->write_warned = true;
		warn_msg("chardev '%s': write failed: %s", c->obj.id, strerror(-ret));
	}
	pthread_mutex_unlock(&c->lock);
	if (kick) {
		uint64_t v = 1;

		/* The loop arms out_timer (on_wake). */
		if (write(c->wake_fd, &v, sizeof(v)) < 0) {
			/* Counter full: a wakeup is pending anyway. */
		}
	}
	return ret;
}

uint64_t chardev_dropped(struct chardev *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->lock);
	n = c->dropped;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static void arm_out_timer(struct chardev *c, bool on)
{
	struct itimerspec its = { 0 };

	if (on) {
		its.it_value.tv_nsec = CHR_OUT_RETRY_MS * 1000000L;
		its.it_interval = its.it_value;
	}
	timerfd_settime(c->out_timer, 0, &its, NULL);
}

/* Loop thread: drains what waits while the guest writes nothing more. */
static void on_out_timer(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;
	uint64_t v;
	bool done;

	if (read(c->out_timer, &v, sizeof(v)) < 0) {
		/* EAGAIN: drained below anyway */
	}
	pthread_mutex_lock(&c->lock);
	done = c->out_fd < 0 || flush_out(c);
	if (done)
		c->out_timed = false;
	pthread_mutex_unlock(&c->lock);
	if (done)
		arm_out_timer(c, false);
}

/* ---- creation ---- */

static void chr_free(struct chardev *c)
{
	chr_stop_input(c);
	if (c->wake_fd >= 0) {
		if (c->loop)
			loop_del(c->loop, c->wake_fd);
		close(c->wake_fd);
	}
	if (c->out_timer >= 0) {
		loop_del(c->loop, c->out_timer);
		close(c->out_timer);
	}
	free(c->out_buf);
	if (c->mux)
		chr_mux_free(c->mux);
	props_free(c->obj.type->props, c->state);
	pthread_mutex_destroy(&c->lock);
	free(c->state);
	object_del(&c->obj);
	free(c);
}

/* mux=on|off, which every type takes. */
static int parse_mux(struct keyval *kv, const char *owner, int *on)
{
	const char *v = keyval_get(kv, "mux");

	if (v && parse_bool(v, on)) {
		err_msg("%s: mux=%s: expected on or off", owner, v);
		return -EINVAL;
	}
	return 0;
}

/* The mux takes the front end's place; it reads once chardev_mux_start() says so. */
static int mux_on(struct chardev *c, const char *owner)
{
	c->mux = chr_mux_new(c, c->out_fd >= 0);
	if (!c->mux) {
		err_msg("%s: out of memory", owner);
		return -ENOMEM;
	}
	c->fn = chr_mux_input;
	c->peer_fn = chr_mux_peer;
	c->opaque = c->mux;
	__atomic_store_n(&c->waiting, 1, __ATOMIC_SEQ_CST);
	return 0;
}

void chr_help(FILE *f)
{
	fprintf(f, "  mux=<bool> - several front ends share it, Ctrl-a c switches the input "
		"(default: off)\n");
}

static int chr_new(const struct object_type *t, const char *id,
		   struct keyval *kv, struct loop *loop, const char *owner,
		   struct chardev **out)
{
	const struct chardev_backend *be = t->ops;
	struct chardev *c = calloc(1, sizeof(*c));
	int ret = -ENOMEM, mux = 0;

	if (!c)
		goto nomem;
	c->obj.type = t;	/* chr_free's props, before object_add */
	c->be = be;
	c->loop = loop;
	c->in_fd = c->out_fd = c->wake_fd = c->out_timer = -1;
	pthread_mutex_init(&c->lock, NULL);
	c->state = calloc(1, be->state_size ? be->state_size : 1);
	if (!c->state)
		goto nomem;
	/* Added first: back ends name it in their messages while opening. */
	ret = object_add(&c->obj, t, id, owner);
	if (!ret)
		ret = parse_mux(kv, owner, &mux);
	if (!ret)
		ret = props_set_defaults(t->props, c->state, owner);
	if (!ret)
		ret = props_apply(t->props, c->state, kv, owner);
	if (ret)
		goto fail;
	if (loop) {
		c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		ret = c->wake_fd < 0 ? -errno : loop_add(loop, c->wake_fd, EPOLLIN, on_wake, c);
		if (!ret) {
			c->out_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
			ret = c->out_timer < 0 ? -errno :
			      loop_add(loop, c->out_timer, EPOLLIN, on_out_timer, c);
		}
		if (ret) {
			err_msg("%s: %s", owner, strerror(-ret));
			goto fail;
		}
	}
	ret = be->open ? be->open(c, owner) : 0;
	if (ret)
		goto fail;
	if (mux && (ret = mux_on(c, owner)))
		goto fail;
	if (out)
		*out = c;
	return 0;
nomem:
	err_msg("%s: out of memory", owner);
fail:
	if (c)
		chr_free(c);
	return ret;
}

int chr_create(const struct object_args *a)
{
	return chr_new(a->type, a->id, a->kv, a->loop, a->owner, NULL);
}

int chardev_create_simple(const char *type, const char *path, struct loop *loop,
			  struct chardev **out)
{
	struct kv_pair pair = { .key = (char *)"path", .val = (char *)path };
	struct keyval kv = { .pairs = &pair, .n = path != NULL };
	const struct object_type *t = object_type_find(OBJ_CHARDEV, type);
	char owner[64], id[32];

	if (!t) {
		err_msg("-serial %s: unknown back-end type (try -chardev help)", type);
		return -EINVAL;
	}
	snprintf(owner, sizeof(owner), "-serial %s", type);
	/* Named like QEMU's, so that messages (pty) have a label. */
	for (unsigned n = 0;; n++) {
		snprintf(id, sizeof(id), "serial%u", n);
		if (!chardev_find(id))
			break;
	}
	return chr_new(t, id, &kv, loop, owner, out);
}

struct chardev *chardev_find(const char *id)
{
	struct object *o = object_find(OBJ_CHARDEV, id);

	return o ? container_of(o, struct chardev, obj) : NULL;
}

const char *chardev_id(const struct chardev *c)
{
	return c->obj.id;
}

/* At exit: restores terminals (stdio raw mode) and closes the back end. */
void chr_destroy(struct object *o)
{
	struct chardev *c = container_of(o, struct chardev, obj);

	chr_stop_input(c);
	if (c->dropped)
		warn_msg("chardev '%s': %llu bytes of output were dropped: the reader did not "
			 "keep up", c->obj.id, (unsigned long long)c->dropped);
	if (c->be->close)
		c->be->close(c);
	chr_free(c);
}

static const struct chardev_backend null_ops = { 0 };

static const struct object_type null_type = {
	CHARDEV_TYPE("null", "discards output, never has input", NULL, &null_ops),
};
OBJECT_TYPE(null_type)

/* A string option of the chardev's type, from its state (socket and file: "path"). */
static const char *str_prop(const struct chardev *c, const char *name, bool *flag)
{
	for (const struct prop *p = c->obj.type->props; p && p->name; p++) {
		const char *field = (const char *)c->state + p->offset;

		if (strcmp(p->name, name))
			continue;
		if (p->type == PROP_BOOL) {
			*flag = *(const bool *)field;
			return "";
		}
		return p->type == PROP_STR ? *(char *const *)field : NULL;
	}
	return NULL;
}

struct chardev *chardev_next_info(const struct chardev *prev, char *buf, size_t size,
				  int *frontend_open)
{
	struct object *o = object_next_of_kind(OBJ_CHARDEV, prev ? &prev->obj : NULL);
	const char *path;
	struct chardev *c;
	bool server = false;

	if (!o)
		return NULL;
	c = container_of(o, struct chardev, obj);
	path = str_prop(c, "path", &server);
	str_prop(c, "server", &server);
	if (c->filename[0])
		snprintf(buf, size, "%s", c->filename);
	else if (!strcmp(o->type->name, "socket"))
		snprintf(buf, size, "unix:%s%s", path ? path : "", server ? ",server=on" : "");
	else if (path)
		snprintf(buf, size, "%s:%s", o->type->name, path);
	else
		snprintf(buf, size, "%s", o->type->name);
	*frontend_open = c->fn != NULL;
	return c;
}
