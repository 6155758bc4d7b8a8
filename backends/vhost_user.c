/*
 * vhost-user front end; see vhost_user.h. Messages go out whole with
 * sendmsg (fds as SCM_RIGHTS on the first byte) and replies come in as a
 * 12-byte header, checked before its payload is read, then exactly the
 * payload it announces. Any fd a reply carries is closed, but for the one
 * GET_INFLIGHT_FD's reply must carry.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "backends/vhost_user.h"
#include "lib/log.h"
#include "lib/util.h"

#define MAX_FDS	VHOST_USER_MAX_REGIONS

/* What ember speaks; the rest of what a daemon offers is left off. */
#define PROTOCOL_WANTED	(BIT(VHOST_USER_PROTOCOL_F_MQ) | BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
			 BIT(VHOST_USER_PROTOCOL_F_CONFIG))

const char *vhost_user_req_name(uint32_t req)
{
	static const char *const names[] = {
		[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
		[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
		[VHOST_USER_SET_OWNER] = "SET_OWNER",
		[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
		[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
		[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
		[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
		[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
		[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
		[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
		[VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
		[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
		[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
		[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
		[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
		[VHOST_USER_SET_CONFIG] = "SET_CONFIG",
		[VHOST_USER_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
		[VHOST_USER_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
	};

	return req < ARRAY_SIZE(names) && names[req] ? names[req] : "an unknown request";
}

const char *vhost_user_check_reply(const struct vhost_user_hdr *h, uint32_t req,
				   uint32_t min, uint32_t max)
{
	if ((h->flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		return "a reply of another protocol version";
	if (!(h->flags & VHOST_USER_REPLY))
		return "a message without the reply flag";
	if (h->request != req)
		return "a reply to another request";
	if (h->size < min || h->size > max)
		return "a reply of the wrong size";
	return NULL;
}

/* The one line a connection gets; afterwards it is broken. */
static int __attribute__((format(printf, 3, 4))) fail(struct vhost_user *vu, int err,
						       const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!vu->broken)
		err_msg("%s: vhost-user back end: %s", vu->owner, why);
	vu->broken = true;
	return -err;
}

/* Waits for @events; -ETIMEDOUT, or -EPIPE when the peer hung up. */
static int wait_for(struct vhost_user *vu, short events)
{
	struct pollfd p = { .fd = vu->fd, .events = events };
	int n;

	do
		n = poll(&p, 1, vu->timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (!n)
		return -ETIMEDOUT;
	if (!(p.revents & events))
		return -EPIPE;	/* POLLHUP or POLLERR without data */
	return 0;
}

static int send_msg(struct vhost_user *vu, const struct vhost_user_msg *m, const int *fds,
		    unsigned nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	size_t len = VHOST_USER_HDR_SIZE + m->hdr.size, done = 0;
	const char *what = vhost_user_req_name(m->hdr.request);

	while (done < len) {
		struct iovec iov = { (char *)m + done, len - done };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;
		int ret;

		if (!done && nfds) {
			struct cmsghdr *c;

			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		n = sendmsg(vu->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return fail(vu, errno == EPIPE ? ECONNRESET : errno, "cannot send %s: %s",
				    what, errno == EPIPE ? "the back end closed the connection" :
				    strerror(errno));
		ret = wait_for(vu, POLLOUT);
		if (ret == -ETIMEDOUT)
			return fail(vu, ETIMEDOUT, "%s: the back end reads nothing (%d ms)", what,
				    vu->timeout_ms);
		if (ret < 0)
			return fail(vu, ECONNRESET, "cannot send %s: the back end closed the connection",
				    what);
	}
	return 0;
}

/* Exactly @len bytes; fds that come with them are counted and closed, but
 * the first one when @keep (-1 on entry) asks for it. */
static int recv_exact(struct vhost_user *vu, void *buf, size_t len, uint32_t req,
		      unsigned *nfds, int *keep)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	const char *what = vhost_user_req_name(req);
	size_t done = 0;

	while (done < len) {
		struct iovec iov = { (char *)buf + done, len - done };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
				     .msg_controllen = sizeof(ctl.buf) };
		ssize_t n = recvmsg(vu->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		int ret;

		if (n > 0) {
			for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
				if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
					continue;
				for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
					int fd;

					memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
					if (keep && *keep < 0)
						*keep = fd;
					else
						close(fd);
					(*nfds)++;
				}
			}
			if (mh.msg_flags & MSG_CTRUNC)
				(*nfds)++;
			done += (size_t)n;
			continue;
		}
		if (!n)
			return fail(vu, ECONNRESET, "the back end closed the connection %s the reply to %s",
				    done ? "in the middle of" : "instead of sending", what);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return fail(vu, errno, "cannot read the reply to %s: %s", what,
				    strerror(errno));
		ret = wait_for(vu, POLLIN);
		if (ret == -ETIMEDOUT)
			return fail(vu, ETIMEDOUT, "no reply to %s within %d ms", what,
				    vu->timeout_ms);
		if (ret < 0)
			return fail(vu, ECONNRESET, "the back end closed the connection %s the reply to %s",
				    done ? "in the middle of" : "instead of sending", what);
	}
	return 0;
}

/* A reply to @req of [min, max] payload bytes into @m; with @keep, exactly one fd into it. */
static int recv_reply(struct vhost_user *vu, uint32_t req, struct vhost_user_msg *m,
		      uint32_t min, uint32_t max, int *keep)
{
	struct vhost_user_hdr h;
	const char *bad;
	unsigned nfds = 0;
	int ret;

	memset(m, 0, sizeof(*m));
	ret = recv_exact(vu, m, VHOST_USER_HDR_SIZE, req, &nfds, keep);
	h = m->hdr;
	bad = ret ? NULL : vhost_user_check_reply(&h, req, min, max);
	if (bad)
		ret = fail(vu, EPROTO, "%s sent %s (request %u, flags %#x, %u bytes)",
			   vhost_user_req_name(req), bad, m->hdr.request, m->hdr.flags,
			   m->hdr.size);
	if (!ret)
		ret = recv_exact(vu, (char *)m + VHOST_USER_HDR_SIZE, h.size, req, &nfds, keep);
	if (!ret && nfds != (keep ? 1u : 0u))
		ret = fail(vu, EPROTO, "the reply to %s came with %u file descriptors (expected %u)",
			   vhost_user_req_name(req), nfds, keep ? 1u : 0u);
	if (ret && keep && *keep >= 0) {
		close(*keep);
		*keep = -1;
	}
	return ret;
}

static bool acked(const struct vhost_user *vu)
{
	return vu->protocol & BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK);
}

static void msg_init(struct vhost_user_msg *m, uint32_t req, uint32_t size)
{
	memset(m, 0, VHOST_USER_HDR_SIZE + size);
	m->hdr.request = req;
	m->hdr.flags = VHOST_USER_VERSION;
	m->hdr.size = size;
}

/* A request without a reply of its own: acknowledged when REPLY_ACK is on. */
static int set(struct vhost_user *vu, struct vhost_user_msg *m, const int *fds, unsigned nfds)
{
	uint32_t req = m->hdr.request;
	int ret;

	if (vu->broken || vu->fd < 0)
		return -EPIPE;
	if (acked(vu))
		m->hdr.flags |= VHOST_USER_NEED_REPLY;
	ret = send_msg(vu, m, fds, nfds);
	if (ret || !acked(vu))
		return ret;
	ret = recv_reply(vu, req, m, 8, 8, NULL);
	if (ret)
		return ret;
	if (m->p.u64)
		return fail(vu, EIO, "the back end refused %s (status %llu)",
			    vhost_user_req_name(req), (unsigned long long)m->p.u64);
	return 0;
}

/* A request whose reply carries data, [min, max] bytes of it (and an fd with @keep). */
static int get_fd(struct vhost_user *vu, struct vhost_user_msg *m, uint32_t min, uint32_t max,
		  int *keep)
{
	int ret;

	if (vu->broken || vu->fd < 0)
		return -EPIPE;
	ret = send_msg(vu, m, NULL, 0);
	return ret ? ret : recv_reply(vu, m->hdr.request, m, min, max, keep);
}

static int get(struct vhost_user *vu, struct vhost_user_msg *m, uint32_t min, uint32_t max)
{
	return get_fd(vu, m, min, max, NULL);
}

static int get_u64(struct vhost_user *vu, uint32_t req, uint64_t *v)
{
	struct vhost_user_msg m;
	int ret;

	msg_init(&m, req, 0);
	ret = get(vu, &m, 8, 8);
	if (!ret)
		*v = m.p.u64;
	return ret;
}

static int set_u64(struct vhost_user *vu, uint32_t req, uint64_t v)
{
	struct vhost_user_msg m;

	msg_init(&m, req, 8);
	m.p.u64 = v;
	return set(vu, &m, NULL, 0);
}

int vhost_user_connect(struct vhost_user *vu, int fd, const char *owner, uint64_t need,
		       uint64_t want)
{
	struct vhost_user_msg m;
	uint64_t offered, q;
	int ret;

	memset(vu, 0, sizeof(*vu));
	vu->fd = fd;
	vu->queues = 1;
	vu->timeout_ms = VHOST_USER_TIMEOUT_MS;
	snprintf(vu->owner, sizeof(vu->owner), "%s", owner);
	ret = get_u64(vu, VHOST_USER_GET_FEATURES, &vu->features);
	if (ret)
		return ret;
	if (!(vu->features & BIT(VHOST_USER_F_PROTOCOL_FEATURES)))
		return fail(vu, ENOTSUP, "it offers no protocol features (features %#llx)",
			    (unsigned long long)vu->features);
	ret = get_u64(vu, VHOST_USER_GET_PROTOCOL_FEATURES, &offered);
	if (ret)
		return ret;
	if ((offered & need) != need)
		return fail(vu, ENOTSUP, "it lacks protocol features this device needs "
			    "(offered %#llx, needed %#llx)", (unsigned long long)offered,
			    (unsigned long long)need);
	/* REPLY_ACK counts from the next message on. */
	want = offered & (PROTOCOL_WANTED | (want & BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)));
	ret = set_u64(vu, VHOST_USER_SET_PROTOCOL_FEATURES, want);
	if (ret)
		return ret;
	vu->protocol = want;
	if (vu->protocol & BIT(VHOST_USER_PROTOCOL_F_MQ)) {
		ret = get_u64(vu, VHOST_USER_GET_QUEUE_NUM, &q);
		if (ret)
			return ret;
		if (!q || q > 1024)
			return fail(vu, EPROTO, "GET_QUEUE_NUM answered %llu queues",
				    (unsigned long long)q);
		vu->queues = (uint32_t)q;
	}
	msg_init(&m, VHOST_USER_SET_OWNER, 0);
	return set(vu, &m, NULL, 0);
}

void vhost_user_close(struct vhost_user *vu)
{
	if (vu->fd >= 0)
		close(vu->fd);
	vu->fd = -1;
}

int vhost_user_set_features(struct vhost_user *vu, uint64_t features)
{
	return set_u64(vu, VHOST_USER_SET_FEATURES, features);
}

int vhost_user_set_mem_table(struct vhost_user *vu, const struct vhost_user_region *r,
			     const int *fds, unsigned n)
{
	struct vhost_user_msg m;

	if (!n || n > VHOST_USER_MAX_REGIONS)
		return fail(vu, E2BIG, "%u memory regions (at most %u)", n, VHOST_USER_MAX_REGIONS);
	msg_init(&m, VHOST_USER_SET_MEM_TABLE, 8 + n * sizeof(r[0]));
	m.p.mem.nregions = n;
	memcpy(m.p.mem.r, r, n * sizeof(r[0]));
	return set(vu, &m, fds, n);
}

int vhost_user_set_vring(struct vhost_user *vu, enum vhost_user_req req, unsigned index,
			 unsigned num)
{
	struct vhost_user_msg m;

	msg_init(&m, req, 8);
	m.p.state.index = index;
	m.p.state.num = num;
	return set(vu, &m, NULL, 0);
}

int vhost_user_set_vring_addr(struct vhost_user *vu, unsigned index, uint64_t desc,
			      uint64_t used, uint64_t avail)
{
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_SET_VRING_ADDR, sizeof(m.p.addr));
	m.p.addr.index = index;
	m.p.addr.desc = desc;
	m.p.addr.used = used;
	m.p.addr.avail = avail;
	return set(vu, &m, NULL, 0);
}

int vhost_user_set_vring_fd(struct vhost_user *vu, enum vhost_user_req req, unsigned index,
			    int fd)
{
	struct vhost_user_msg m;

	msg_init(&m, req, 8);
	m.p.u64 = (index & 0xff) | (fd < 0 ? VHOST_USER_VRING_NOFD : 0);
	return set(vu, &m, fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1);
}

int vhost_user_get_vring_base(struct vhost_user *vu, unsigned index, uint32_t *num)
{
	struct vhost_user_msg m;
	int ret;

	msg_init(&m, VHOST_USER_GET_VRING_BASE, 8);
	m.p.state.index = index;
	ret = get(vu, &m, 8, 8);
	if (ret)
		return ret;
	if (m.p.state.index != index || m.p.state.num > 0xffff)
		return fail(vu, EPROTO, "GET_VRING_BASE of ring %u answered ring %u, index %u",
			    index, m.p.state.index, m.p.state.num);
	*num = m.p.state.num;
	return 0;
}

int vhost_user_get_config(struct vhost_user *vu, void *buf, uint32_t len)
{
	struct vhost_user_msg m;
	uint32_t size = VHOST_USER_CONFIG_HDR + len;
	int ret;

	if (len > VHOST_USER_CONFIG_MAX)
		return fail(vu, EINVAL, "a config space of %u bytes (at most %u)", len,
			    VHOST_USER_CONFIG_MAX);
	if (!(vu->protocol & BIT(VHOST_USER_PROTOCOL_F_CONFIG)))
		return fail(vu, ENOTSUP, "it does not offer its config space (protocol feature CONFIG)");
	msg_init(&m, VHOST_USER_GET_CONFIG, size);
	m.p.cfg.size = len;
	/* A daemon that cannot answer sends an empty reply: refused by the size. */
	ret = get(vu, &m, size, size);
	if (ret)
		return ret;
	if (m.p.cfg.offset || m.p.cfg.size != len)
		return fail(vu, EPROTO, "GET_CONFIG answered offset %u, %u bytes (asked 0, %u)",
			    m.p.cfg.offset, m.p.cfg.size, len);
	memcpy(buf, m.p.cfg.data, len);
	return 0;
}

int vhost_user_set_config(struct vhost_user *vu, uint32_t offset, const void *data, uint32_t len)
{
	struct vhost_user_msg m;

	if (!len || len > VHOST_USER_CONFIG_MAX || offset > VHOST_USER_CONFIG_MAX - len)
		return -EINVAL;
	if (!(vu->protocol & BIT(VHOST_USER_PROTOCOL_F_CONFIG)))
		return -ENOTSUP;
	msg_init(&m, VHOST_USER_SET_CONFIG, VHOST_USER_CONFIG_HDR + len);
	m.p.cfg.offset = offset;
	m.p.cfg.size = len;
	m.p.cfg.flags = 0;	/* VHOST_SET_CONFIG_TYPE_FRONTEND: the guest's write */
	memcpy(m.p.cfg.data, data, len);
	return set(vu, &m, NULL, 0);
}

int vhost_user_get_inflight_fd(struct vhost_user *vu, uint16_t num_queues, uint16_t queue_size,
			       struct vhost_user_inflight *inf, int *fd)
{
	struct vhost_user_msg m;
	int ret;

	*fd = -1;
	msg_init(&m, VHOST_USER_GET_INFLIGHT_FD, sizeof(m.p.inflight));
	m.p.inflight.num_queues = num_queues;
	m.p.inflight.queue_size = queue_size;
	ret = get_fd(vu, &m, sizeof(m.p.inflight), sizeof(m.p.inflight), fd);
	if (ret)
		return ret;
	if (!m.p.inflight.mmap_size || m.p.inflight.mmap_size > VHOST_USER_INFLIGHT_MAX ||
	    m.p.inflight.mmap_offset > VHOST_USER_INFLIGHT_MAX) {
		close(*fd);
		*fd = -1;
		return fail(vu, EPROTO, "GET_INFLIGHT_FD answered an area of %llu bytes at %llu",
			    (unsigned long long)m.p.inflight.mmap_size,
			    (unsigned long long)m.p.inflight.mmap_offset);
	}
	*inf = m.p.inflight;
	inf->num_queues = num_queues;
	inf->queue_size = queue_size;
	return 0;
}

int vhost_user_set_inflight_fd(struct vhost_user *vu, const struct vhost_user_inflight *inf,
			       int fd)
{
	struct vhost_user_msg m;

	msg_init(&m, VHOST_USER_SET_INFLIGHT_FD, sizeof(m.p.inflight));
	m.p.inflight = *inf;
	return set(vu, &m, &fd, 1);
}
