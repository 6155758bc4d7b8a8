/*
 * -netdev user: QEMU's user-mode network (a NAT with DHCP and DNS, no
 * privileges) through libslirp, the library QEMU uses, run on the loop.
 *
 * libslirp is opened with dlopen() when the first user netdev is created:
 * ember links statically, and libslirp (with GLib) would cost more than a
 * megabyte of resident memory in every VM that does not use it.
 *
 * The loop and slirp: after every call into slirp, slirp_pollfds_fill()
 * says which sockets it wants watched for what, and how long it may wait;
 * the sockets are put on the loop (added, changed or removed to match) and
 * one timerfd is armed for the earliest of that timeout and slirp's own
 * timers. When any of them fires, a poll() that does not wait collects
 * every socket's events for slirp_pollfds_poll().
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include <slirp/libslirp.h>

#include "backends/net.h"
#include "backends/net_user_frag.h"
#include "backends/object.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/props.h"
#include "lib/util.h"

struct frame {
	size_t len;
	uint8_t data[];
};

struct utimer {
	struct utimer *next;
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms;	/* -1: not armed */
};

struct netdev_user {
	struct object obj;	/* first: netdev_find() hands out its address */
	/* Properties. */
	char *net, *host, *dhcpstart, *dns, *hostname, *domainname, *hostfwd;
	bool restricted, ipv4, ipv6;

	char owner[80];		/* "-netdev user,id=N" */
	struct loop *loop;
	Slirp *slirp;
	int tfd;		/* timerfd: slirp's poll timeout and timers */
	int64_t armed_ms;	/* its deadline (CLOCK_MONOTONIC ms), 0: none */
	struct utimer *timers;

	/* What slirp asked for in the last fill, and what is on the loop. */
	struct pollfd *pfd, *watched;
	unsigned npfd, pfd_cap, nwatched, watched_cap;

	/* Frames for the guest: q[(qhead + i) % NETDEV_USER_QUEUE], i < qcount. */
	struct frame *q[NETDEV_USER_QUEUE];
	unsigned qhead, qcount;
	uint64_t dropped;
	void (*ready)(void *);
	void *ready_opaque;
	bool in_send;
	struct frag_table frag;	/* the guest's IPv4 fragments, whole before slirp sees them */
};

_Static_assert(offsetof(struct netdev_user, obj) == 0, "a netdev starts with its object");

static const struct object_type user_type;

/* ---- libslirp, loaded on first use ---- */

static struct {
	void *handle;
	Slirp *(*new_)(const SlirpConfig *, const SlirpCb *, void *);
	void (*cleanup)(Slirp *);
	void (*fill)(Slirp *, uint32_t *, SlirpAddPollCb, void *);
	void (*poll)(Slirp *, int, SlirpGetREventsCb, void *);
	void (*input)(Slirp *, const uint8_t *, int);
	void (*handle_timer)(Slirp *, SlirpTimerId, void *);
	int (*add_hostfwd)(Slirp *, int, struct in_addr, int, struct in_addr, int);
} sl;

#define SLIRP_LIB "libslirp.so.0"

static int load_slirp(const char *owner)
{
	static const struct { const char *name; size_t off; } syms[] = {
		{ "slirp_new", offsetof(__typeof__(sl), new_) },
		{ "slirp_cleanup", offsetof(__typeof__(sl), cleanup) },
		{ "slirp_pollfds_fill", offsetof(__typeof__(sl), fill) },
		{ "slirp_pollfds_poll", offsetof(__typeof__(sl), poll) },
		{ "slirp_input", offsetof(__typeof__(sl), input) },
		{ "slirp_handle_timer", offsetof(__typeof__(sl), handle_timer) },
		{ "slirp_add_hostfwd", offsetof(__typeof__(sl), add_hostfwd) },
	};
	void *h;

	if (sl.handle)
		return 0;
	h = dlopen(SLIRP_LIB, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		err_msg("%s: cannot load %s (Debian: libslirp0): %s", owner, SLIRP_LIB, dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		void *f = dlsym(h, syms[i].name);

		if (!f) {
			err_msg("%s: %s has no %s: libslirp 4.7 or newer is needed", owner,
				SLIRP_LIB, syms[i].name);
			dlclose(h);
			return -ENOENT;
		}
		memcpy((char *)&sl + syms[i].off, &f, sizeof(f));
	}
	sl.handle = h;
	return 0;
}

/* ---- option parsing (no slirp needed: unit tests and the fuzzer) ---- */

static int bad(const char **why, const char *what)
{
	*why = what;
	return -EINVAL;
}

static bool parse_port(const char *s, size_t len, unsigned min, uint16_t *out)
{
	unsigned v = 0;

	if (!len || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v < min || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

/* An IPv4 address of @len bytes at @s; empty is INADDR_ANY. */
static bool parse_addr(const char *s, size_t len, struct in_addr *out)
{
	char buf[INET_ADDRSTRLEN];

	out->s_addr = INADDR_ANY;
	if (!len)
		return true;
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	return inet_pton(AF_INET, buf, out) == 1;
}

int netdev_user_parse_fwd(const char *s, struct netdev_user_fwd *f, const char **why)
{
	const char *colon, *dash, *gcolon;

	memset(f, 0, sizeof(*f));
	colon = strchr(s, ':');
	if (!colon)
		return bad(why, "use tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT");
	/* QEMU takes an empty protocol as tcp. */
	if (colon - s == 3 && !strncmp(s, "udp", 3))
		f->udp = true;
	else if (colon != s && (colon - s != 3 || strncmp(s, "tcp", 3)))
		return bad(why, "the protocol is tcp or udp");
	s = colon + 1;
	dash = strchr(s, '-');
	colon = dash ? memchr(s, ':', dash - s) : NULL;
	if (!dash || !colon)
		return bad(why, "use tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT");
	if (!parse_addr(s, colon - s, &f->haddr))
		return bad(why, "the host address is not an IPv4 address");
	if (!parse_port(colon + 1, dash - colon - 1, 0, &f->hport))
		return bad(why, "the host port is not a number 0..65535");
	s = dash + 1;
	gcolon = strchr(s, ':');
	if (!gcolon)
		return bad(why, "the guest part is [GUESTADDR]:GUESTPORT");
	if (!parse_addr(s, gcolon - s, &f->gaddr))
		return bad(why, "the guest address is not an IPv4 address");
	if (!parse_port(gcolon + 1, strlen(gcolon + 1), 1, &f->gport))
		return bad(why, "the guest port is not a number 1..65535");
	return 0;
}

/* QEMU's classful default when net= has no prefix. */
static bool classful_mask(uint32_t a, uint32_t *mask)
{
	if (!(a & 0x80000000))
		*mask = 0xff000000;
	else if ((a & 0xfff00000) == 0xac100000)
		*mask = 0xfff00000;
	else if ((a & 0xffff0000) == 0xc0a80000)
		*mask = 0xffff0000;
	else
		return false;
	return true;
}

static int parse_prefix(const char *s, uint32_t *mask)
{
	struct in_addr m;
	uint16_t bits;

	if (strchr(s, '.')) {
		uint32_t v;

		if (!parse_addr(s, strlen(s), &m) || !*s)
			return -EINVAL;
		v = ntohl(m.s_addr);
		if (v & (~v >> 1))	/* ones then zeros only */
			return -EINVAL;
		*mask = v;
		return 0;
	}
	if (!parse_port(s, strlen(s), 0, &bits) || bits > 32)
		return -EINVAL;
	*mask = bits ? ~0u << (32 - bits) : 0;
	return 0;
}

/* @s (may be NULL) inside the network: an address that is not its first or last. */
static int in_net(const char *s, uint32_t def, const struct netdev_user_net *n,
		  struct in_addr *out, const char **why, const char *what)
{
	uint32_t net = ntohl(n->net.s_addr), mask = ntohl(n->mask.s_addr), a;

	if (!s)
		out->s_addr = htonl(net | def);
	else if (!*s || !parse_addr(s, strlen(s), out))
		return bad(why, what);
	a = ntohl(out->s_addr);
	if ((a & mask) != net || a == net || (a & ~mask) == ~mask)
		return bad(why, s ? what : "net= is too small for the default addresses "
			   "(.2, .3, .15): give host=, dns= and dhcpstart=");
	return 0;
}

int netdev_user_parse_net(const char *net, const char *host, const char *dhcp,
			  const char *dns, struct netdev_user_net *n, const char **why)
{
	const char *slash;
	uint32_t a, mask;

	memset(n, 0, sizeof(*n));
	if (!net)
		net = "10.0.2.0/24";
	slash = strchr(net, '/');
	if (!parse_addr(net, slash ? (size_t)(slash - net) : strlen(net), &n->net) ||
	    n->net.s_addr == INADDR_ANY)
		return bad(why, "net= is A.B.C.D/PREFIX or A.B.C.D/MASK");
	a = ntohl(n->net.s_addr);
	if (slash ? parse_prefix(slash + 1, &mask) : !classful_mask(a, &mask) ? -1 : 0)
		return bad(why, "net= has no valid prefix length or netmask");
	if (mask > 0xfffffff8 || !mask)
		return bad(why, "net= must leave room for the host, DNS and DHCP (at most /29)");
	if (a & ~mask)
		return bad(why, "net= has bits set outside its prefix");
	n->mask.s_addr = htonl(mask);
	if (in_net(host, 2, n, &n->host, why, "host= is not an address inside net=") ||
	    in_net(dhcp, 15, n, &n->dhcp, why, "dhcpstart= is not an address inside net=") ||
	    in_net(dns, 3, n, &n->dns, why, "dns= is not an address inside net="))
		return -EINVAL;
	if (n->host.s_addr == n->dns.s_addr)
		return bad(why, "host= and dns= must differ");
	return 0;
}

/* ---- frames for the guest ---- */

static ssize_t on_send_packet(const void *buf, size_t len, void *opaque)
{
	struct netdev_user *u = opaque;
	struct frame *f;

	/* Like QEMU's net queue: held while the guest has no room, dropped past the bound. */
	if (u->qcount == NETDEV_USER_QUEUE || !(f = malloc(sizeof(*f) + len))) {
		u->dropped++;
		warn_once("%s: the guest takes no frames; dropping them (%u held)", u->owner,
			  u->qcount);
		return (ssize_t)len;
	}
	f->len = len;
	memcpy(f->data, buf, len);
	u->q[(u->qhead + u->qcount++) % NETDEV_USER_QUEUE] = f;
	if (!u->in_send && u->ready)
		u->ready(u->ready_opaque);
	return (ssize_t)len;
}

const void *netdev_user_peek(struct netdev_user *u, size_t *len)
{
	struct frame *f;

	if (!u->qcount)
		return NULL;
	f = u->q[u->qhead];
	*len = f->len;
	return f->data;
}

void netdev_user_pop(struct netdev_user *u)
{
	if (!u->qcount)
		return;
	free(u->q[u->qhead]);
	u->qhead = (u->qhead + 1) % NETDEV_USER_QUEUE;
	u->qcount--;
}

void netdev_user_attach(struct netdev_user *u, void (*ready)(void *), void *opaque)
{
	u->ready = ready;
	u->ready_opaque = opaque;
}

/* ---- slirp's sockets and timers on the loop ---- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int grow(struct pollfd **a, unsigned *cap, unsigned n)
{
	struct pollfd *p;
	unsigned c = *cap ? *cap * 2 : 16;

	if (n < *cap)
		return 0;
	p = realloc(*a, c * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*a = p;
	*cap = c;
	return 0;
}

static int add_poll(int fd, int events, void *opaque)
{
	struct netdev_user *u = opaque;
	short ev = 0;

	if (grow(&u->pfd, &u->pfd_cap, u->npfd)) {
		warn_once("%s: out of memory: a socket is not watched", u->owner);
		return -1;
	}
	ev |= events & SLIRP_POLL_IN ? POLLIN : 0;
	ev |= events & SLIRP_POLL_OUT ? POLLOUT : 0;
	ev |= events & SLIRP_POLL_PRI ? POLLPRI : 0;
	u->pfd[u->npfd] = (struct pollfd){ .fd = fd, .events = ev };
	return (int)u->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct netdev_user *u = opaque;
	short r;

	if (idx < 0 || (unsigned)idx >= u->npfd)
		return 0;
	r = u->pfd[idx].revents;
	return (r & POLLIN ? SLIRP_POLL_IN : 0) | (r & POLLOUT ? SLIRP_POLL_OUT : 0) |
	       (r & POLLPRI ? SLIRP_POLL_PRI : 0) | (r & POLLERR ? SLIRP_POLL_ERR : 0) |
	       (r & POLLHUP ? SLIRP_POLL_HUP : 0);
}

static void cycle(struct netdev_user *u, bool poll_now);

static void on_fd(void *opaque, uint32_t events)
{
	cycle(opaque, true);
}

static uint32_t epoll_events(short ev)
{
	return (ev & POLLIN ? EPOLLIN : 0) | (ev & POLLOUT ? EPOLLOUT : 0) |
	       (ev & POLLPRI ? EPOLLPRI : 0);
}

/* The loop watches exactly what the last fill asked for. */
static void sync_fds(struct netdev_user *u)
{
	unsigned k = 0;

	for (unsigned i = 0; i < u->nwatched; i++)
		u->watched[i].revents = 0;	/* "still wanted" mark */
	for (unsigned i = 0; i < u->npfd; i++) {
		struct pollfd *p = &u->pfd[i];
		unsigned j;

		for (j = 0; j < u->nwatched && u->watched[j].fd != p->fd; j++)
			;
		if (j < u->nwatched) {
			u->watched[j].revents = 1;
			if (u->watched[j].events == p->events)
				continue;
			/* A socket slirp closed and opened again under the same number: add it. */
			if (loop_mod(u->loop, p->fd, epoll_events(p->events)) &&
			    loop_add(u->loop, p->fd, epoll_events(p->events), on_fd, u))
				warn_once("%s: cannot watch a socket: %s", u->owner, strerror(errno));
			u->watched[j].events = p->events;
			continue;
		}
		if (grow(&u->watched, &u->watched_cap, u->nwatched) ||
		    loop_add(u->loop, p->fd, epoll_events(p->events), on_fd, u)) {
			warn_once("%s: cannot watch a socket", u->owner);
			continue;
		}
		u->watched[u->nwatched++] = (struct pollfd){ .fd = p->fd, .events = p->events,
							      .revents = 1 };
	}
	for (unsigned i = 0; i < u->nwatched; i++) {
		if (u->watched[i].revents)
			u->watched[k++] = u->watched[i];
		else
			loop_del(u->loop, u->watched[i].fd);
	}
	u->nwatched = k;
}

static void arm(struct netdev_user *u, uint32_t timeout_ms)
{
	int64_t at = now_ns() / 1000000 + timeout_ms;
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	for (struct utimer *t = u->timers; t; t = t->next)
		if (t->expire_ms >= 0 && t->expire_ms < at)
			at = t->expire_ms;
	if (at < 1)
		at = 1;
	/* Most calls into slirp (a frame each) leave the deadline where it was. */
	if (at == u->armed_ms)
		return;
	u->armed_ms = at;
	its.it_value.tv_sec = at / 1000;
	its.it_value.tv_nsec = at % 1000 * 1000000;
	timerfd_settime(u->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* After every entry into slirp: its sockets' events (@poll_now), then what to watch. */
static void cycle(struct netdev_user *u, bool poll_now)
{
	uint32_t timeout = UINT32_MAX;

	if (poll_now) {
		int n;

		u->npfd = 0;
		sl.fill(u->slirp, &timeout, add_poll, u);
		n = poll(u->pfd, u->npfd, 0);
		sl.poll(u->slirp, n < 0, get_revents, u);
		timeout = UINT32_MAX;
	}
	u->npfd = 0;
	sl.fill(u->slirp, &timeout, add_poll, u);
	sync_fds(u);
	arm(u, MIN(timeout, 1000u));
}

static void on_timer(void *opaque, uint32_t events)
{
	struct netdev_user *u = opaque;
	int64_t now = now_ns() / 1000000;
	uint64_t n;

	if (read(u->tfd, &n, sizeof(n)) < 0) {
		/* EAGAIN: rearmed before we read it; the cycle below rearms again. */
	}
	u->armed_ms = 0;
	for (struct utimer *t = u->timers; t; t = t->next)
		if (t->expire_ms >= 0 && t->expire_ms <= now) {
			t->expire_ms = -1;
			sl.handle_timer(u->slirp, t->id, t->cb_opaque);
		}
	cycle(u, true);
}

void netdev_user_send(struct netdev_user *u, const void *frame, size_t len)
{
	const uint8_t *whole;
	size_t whole_len;

	if (len > INT32_MAX)
		return;
	switch (frag_input(&u->frag, frame, len, now_ns(), &whole, &whole_len)) {
	case FRAG_PASS:
		break;
	case FRAG_WHOLE:
		frame = whole;
		len = whole_len;
		break;
	case FRAG_DROP:
		warn_once("%s: dropping malformed or overlapping IPv4 fragments from the guest",
			  u->owner);
		return;
	case FRAG_HELD:
		return;
	}
	u->in_send = true;
	sl.input(u->slirp, frame, (int)len);
	u->in_send = false;
	cycle(u, false);
}

/* ---- SlirpCb ---- */

static void on_guest_error(const char *msg, void *opaque)
{
	struct netdev_user *u = opaque;

	warn_once("%s: the guest sent what slirp refuses: %s", u->owner, msg);
}

static int64_t on_clock(void *opaque)
{
	return now_ns();
}

static void *on_timer_new(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct netdev_user *u = opaque;
	struct utimer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	*t = (struct utimer){ .next = u->timers, .id = id, .cb_opaque = cb_opaque,
			      .expire_ms = -1 };
	u->timers = t;
	return t;
}

static void on_timer_free(void *timer, void *opaque)
{
	struct netdev_user *u = opaque;

	for (struct utimer **pp = &u->timers; *pp; pp = &(*pp)->next)
		if (*pp == timer) {
			*pp = (*pp)->next;
			free(timer);
			return;
		}
}

/* The timerfd is rearmed at the end of the slirp call this came from. */
static void on_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	if (timer)
		((struct utimer *)timer)->expire_ms = expire_ms;
}

/* Sockets are found by the fill after each call; nothing to do here. */
static void on_poll_fd(int fd, void *opaque)
{
}

static void on_notify(void *opaque)
{
}

static const SlirpCb user_cb = {
	.send_packet = on_send_packet,
	.guest_error = on_guest_error,
	.clock_get_ns = on_clock,
	.timer_free = on_timer_free,
	.timer_mod = on_timer_mod,
	.register_poll_fd = on_poll_fd,
	.unregister_poll_fd = on_poll_fd,
	.notify = on_notify,
	.timer_new_opaque = on_timer_new,
};

/* ---- the object ---- */

static const struct prop user_props[] = {
	{ "net", PROP_STR, offsetof(struct netdev_user, net), NULL,
	  "guest network A.B.C.D/PREFIX (default 10.0.2.0/24)" },
	{ "host", PROP_STR, offsetof(struct netdev_user, host), NULL,
	  "the gateway, which is also the host's 127.0.0.1 (default .2)" },
	{ "dhcpstart", PROP_STR, offsetof(struct netdev_user, dhcpstart), NULL,
	  "first address DHCP hands out (default .15)" },
	{ "dns", PROP_STR, offsetof(struct netdev_user, dns), NULL,
	  "the DNS forwarder's address (default .3)" },
	{ "hostfwd", PROP_STR, offsetof(struct netdev_user, hostfwd), NULL,
	  "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (repeatable)" },
	{ "restrict", PROP_BOOL, offsetof(struct netdev_user, restricted), "off",
	  "on: the guest reaches only the host forwards, nothing outside" },
	{ "ipv4", PROP_BOOL, offsetof(struct netdev_user, ipv4), "on", "IPv4 (must stay on)" },
	{ "ipv6", PROP_BOOL, offsetof(struct netdev_user, ipv6), "on",
	  "IPv6 (fec0::/64, router advertisements)" },
	{ "hostname", PROP_STR, offsetof(struct netdev_user, hostname), NULL,
	  "host name DHCP gives the guest" },
	{ "domainname", PROP_STR, offsetof(struct netdev_user, domainname), NULL,
	  "domain name DHCP gives the guest" },
	{ NULL }
};

static void user_free(struct netdev_user *u)
{
	for (unsigned i = 0; i < u->nwatched; i++)
		loop_del(u->loop, u->watched[i].fd);
	if (u->slirp)
		sl.cleanup(u->slirp);
	while (u->timers)
		on_timer_free(u->timers, u);
	if (u->tfd >= 0) {
		loop_del(u->loop, u->tfd);
		close(u->tfd);
	}
	while (u->qcount)
		netdev_user_pop(u);
	frag_free(&u->frag);
	free(u->pfd);
	free(u->watched);
	object_del(&u->obj);
	props_free(user_props, u);
	free(u);
}

/* Every hostfwd= key, in order (QEMU takes several). */
static int add_forwards(struct netdev_user *u, struct keyval *kv)
{
	for (unsigned i = 0; i < kv->n; i++) {
		struct kv_pair *p = &kv->pairs[i];
		struct netdev_user_fwd f;
		const char *why;

		if (strcmp(p->key, "hostfwd"))
			continue;
		if (netdev_user_parse_fwd(p->val, &f, &why)) {
			err_msg("%s: hostfwd=%s: %s", u->owner, p->val, why);
			return -EINVAL;
		}
		errno = 0;
		if (sl.add_hostfwd(u->slirp, f.udp, f.haddr, f.hport, f.gaddr, f.gport) < 0) {
			int e = errno ? errno : EADDRINUSE;
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &f.haddr, a, sizeof(a));
			err_msg("%s: hostfwd=%s: cannot listen on %s %s:%u: %s", u->owner, p->val,
				f.udp ? "udp" : "tcp", a, f.hport, strerror(e));
			return -e;
		}
	}
	return 0;
}

static int user_start(struct netdev_user *u, struct keyval *kv)
{
	struct netdev_user_net n;
	SlirpConfig cfg = { .version = 4 };
	const char *why;
	int ret;

	if (!u->ipv4) {
		err_msg("%s: ipv4=off: ember's user network needs IPv4", u->owner);
		return -EINVAL;
	}
	if (netdev_user_parse_net(u->net, u->host, u->dhcpstart, u->dns, &n, &why)) {
		err_msg("%s: %s", u->owner, why);
		return -EINVAL;
	}
	/* Every hostfwd= is checked before libslirp is loaded or a socket opened. */
	for (unsigned i = 0; i < kv->n; i++) {
		struct netdev_user_fwd f;

		if (!strcmp(kv->pairs[i].key, "hostfwd") &&
		    netdev_user_parse_fwd(kv->pairs[i].val, &f, &why)) {
			err_msg("%s: hostfwd=%s: %s", u->owner, kv->pairs[i].val, why);
			return -EINVAL;
		}
	}
	ret = load_slirp(u->owner);
	if (ret)
		return ret;
	u->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (u->tfd < 0 || (ret = loop_add(u->loop, u->tfd, EPOLLIN, on_timer, u))) {
		ret = u->tfd < 0 ? -errno : ret;
		err_msg("%s: cannot create its timer: %s", u->owner, strerror(-ret));
		return ret;
	}
	cfg.restricted = u->restricted;
	cfg.in_enabled = true;
	cfg.vnetwork = n.net;
	cfg.vnetmask = n.mask;
	cfg.vhost = n.host;
	cfg.vdhcp_start = n.dhcp;
	cfg.vnameserver = n.dns;
	cfg.in6_enabled = u->ipv6;
	/* QEMU's IPv6 defaults: fec0::/64, the host ::2, DNS ::3. */
	inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
	cfg.vprefix_len = 64;
	inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
	inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
	cfg.vhostname = u->hostname;
	cfg.vdomainname = u->domainname;
	u->slirp = sl.new_(&cfg, &user_cb, u);
	if (!u->slirp) {
		err_msg("%s: libslirp refused the configuration", u->owner);
		return -EINVAL;
	}
	ret = add_forwards(u, kv);
	if (!ret)
		cycle(u, false);
	return ret;
}

static int user_create(const struct object_args *a)
{
	struct netdev_user *u = calloc(1, sizeof(*u));
	int ret;

	if (!u) {
		err_msg("%s: out of memory", a->owner);
		return -ENOMEM;
	}
	u->tfd = -1;
	u->loop = a->loop;
	snprintf(u->owner, sizeof(u->owner), "%s,id=%s", a->owner, a->id);
	/* props_apply() takes the first hostfwd=; add_forwards() reads them all. */
	for (unsigned i = 0; i < a->kv->n; i++)
		if (!strcmp(a->kv->pairs[i].key, "hostfwd"))
			a->kv->pairs[i].used = true;
	ret = props_set_defaults(user_props, u, u->owner);
	if (!ret)
		ret = props_apply(user_props, u, a->kv, u->owner);
	if (!ret && !u->loop) {
		err_msg("%s: needs the event loop", u->owner);
		ret = -EINVAL;
	}
	if (!ret)
		ret = user_start(u, a->kv);
	if (!ret)
		ret = object_add(&u->obj, &user_type, a->id, u->owner);
	if (ret)
		user_free(u);
	return ret;
}

static void user_destroy(struct object *o)
{
	user_free(container_of(o, struct netdev_user, obj));
}

struct netdev_user *netdev_user(struct netdev *nd)
{
	struct object *o = (struct object *)(void *)nd;

	return o && o->type == &user_type ? (struct netdev_user *)(void *)o : NULL;
}

bool netdev_user_exists(void)
{
	return object_next(&user_type, NULL) != NULL;
}

static const struct object_type user_type = {
	.name = "user",
	.kind = OBJ_NETDEV,
	.noun = "netdev",
	.desc = "user-mode network through libslirp: NAT, DHCP, DNS, host forwards; "
		"no privileges",
	.props = user_props,
	.create = user_create,
	.destroy = user_destroy,
};
OBJECT_TYPE(user_type)
