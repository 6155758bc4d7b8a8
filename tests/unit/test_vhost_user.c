/*
 * The vhost-user front end (backends/vhost_user.c) against a scripted back
 * end on a socketpair: replies are written into the peer before each call
 * (the front end sends first, then reads), and what the front end sent is
 * read back and checked. Every malformed reply ends the connection with
 * an error, and later calls fail at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "backends/vhost_user.h"
#include "lib/log.h"
#include "lib/util.h"

static int sv[2];	/* [0] the front end's, [1] the fake back end's */
static struct vhost_user vu;

static void reply(uint32_t req, uint32_t flags, const void *payload, uint32_t size)
{
	struct vhost_user_msg m = { .hdr = { req, flags, size } };

	if (size)	/* memcpy's source may not be NULL, even for 0 bytes */
		memcpy((char *)&m + VHOST_USER_HDR_SIZE, payload, size);
	assert_int_equal(write(sv[1], &m, VHOST_USER_HDR_SIZE + size),
			 (ssize_t)(VHOST_USER_HDR_SIZE + size));
}

static void reply_u64(uint32_t req, uint64_t v)
{
	reply(req, VHOST_USER_VERSION | VHOST_USER_REPLY, &v, 8);
}

/* The next message the front end sent; its fds into @fds (closed by the caller). */
static void sent(struct vhost_user_msg *m, int *fds, unsigned *nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { m, VHOST_USER_HDR_SIZE };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c;

	memset(m, 0, sizeof(*m));
	assert_int_equal(recvmsg(sv[1], &mh, 0), VHOST_USER_HDR_SIZE);
	if (nfds) {
		*nfds = 0;
		c = CMSG_FIRSTHDR(&mh);
		if (c && c->cmsg_type == SCM_RIGHTS) {
			*nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(c), *nfds * sizeof(int));
		}
	}
	if (m->hdr.size)
		assert_int_equal(read(sv[1], (char *)m + VHOST_USER_HDR_SIZE, m->hdr.size),
				 (ssize_t)m->hdr.size);
}

static void expect_sent(uint32_t req, uint32_t size)
{
	struct vhost_user_msg m;

	sent(&m, NULL, NULL);
	assert_int_equal(m.hdr.request, req);
	assert_int_equal(m.hdr.size, size);
}

#define PROTO	(BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | BIT(VHOST_USER_PROTOCOL_F_CONFIG))

/* A daemon offering @proto; the handshake's replies queued up. */
static int handshake(uint64_t proto)
{
	reply_u64(VHOST_USER_GET_FEATURES, BIT(VHOST_USER_F_PROTOCOL_FEATURES) | BIT(32));
	reply_u64(VHOST_USER_GET_PROTOCOL_FEATURES, proto);
	if (proto & BIT(VHOST_USER_PROTOCOL_F_MQ))
		reply_u64(VHOST_USER_GET_QUEUE_NUM, 4);
	if (proto & BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK))
		reply_u64(VHOST_USER_SET_OWNER, 0);
	return vhost_user_connect(&vu, sv[0], "test", BIT(VHOST_USER_PROTOCOL_F_CONFIG), 0);
}

static int setup(void **state)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	return 0;
}

static int teardown(void **state)
{
	vhost_user_close(&vu);
	close(sv[1]);
	return 0;
}

/* Connected, with REPLY_ACK and CONFIG; the handshake's messages drained. */
static int setup_connected(void **state)
{
	setup(state);
	assert_int_equal(handshake(PROTO), 0);
	for (int i = 0; i < 4; i++)
		expect_sent(i == 0 ? VHOST_USER_GET_FEATURES : i == 1 ?
			    VHOST_USER_GET_PROTOCOL_FEATURES : i == 2 ?
			    VHOST_USER_SET_PROTOCOL_FEATURES : VHOST_USER_SET_OWNER, i < 2 ? 0 :
			    i == 2 ? 8 : 0);
	vu.timeout_ms = 100;
	return 0;
}

static void t_handshake(void **state)
{
	struct vhost_user_msg m;

	/* The daemon offers more than ember speaks: only MQ, REPLY_ACK, CONFIG are set. */
	assert_int_equal(handshake(PROTO | BIT(VHOST_USER_PROTOCOL_F_MQ) | BIT(5) | BIT(12)), 0);
	assert_int_equal(vu.queues, 4);
	sent(&m, NULL, NULL);
	assert_int_equal(m.hdr.request, VHOST_USER_GET_FEATURES);
	assert_int_equal(m.hdr.flags, VHOST_USER_VERSION);
	expect_sent(VHOST_USER_GET_PROTOCOL_FEATURES, 0);
	sent(&m, NULL, NULL);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_PROTOCOL_FEATURES);
	assert_int_equal(m.p.u64, PROTO | BIT(VHOST_USER_PROTOCOL_F_MQ));
	assert_int_equal(m.hdr.flags, VHOST_USER_VERSION);	/* REPLY_ACK not yet on */
	expect_sent(VHOST_USER_GET_QUEUE_NUM, 0);
	sent(&m, NULL, NULL);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_OWNER);
	assert_int_equal(m.hdr.flags, VHOST_USER_VERSION | VHOST_USER_NEED_REPLY);
}

static void t_no_protocol_features(void **state)
{
	reply_u64(VHOST_USER_GET_FEATURES, BIT(32));
	assert_int_equal(vhost_user_connect(&vu, sv[0], "test", 0, 0), -ENOTSUP);
	assert_true(vu.broken);
}

static void t_missing_needed(void **state)
{
	assert_int_equal(handshake(BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK)), -ENOTSUP);
}

static void t_mem_table_fds(void **state)
{
	struct vhost_user_region r[2] = {
		{ .gpa = 0, .size = 1 * MiB, .uaddr = 0x7f0000000000, .mmap_offset = 0 },
		{ .gpa = 4 * GiB, .size = 2 * MiB, .uaddr = 0x7f0000100000, .mmap_offset = 1 * MiB },
	};
	int p[2], fds[8];
	unsigned n;
	struct vhost_user_msg m;

	assert_int_equal(pipe(p), 0);
	reply_u64(VHOST_USER_SET_MEM_TABLE, 0);
	assert_int_equal(vhost_user_set_mem_table(&vu, r, p, 2), 0);
	sent(&m, fds, &n);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_MEM_TABLE);
	assert_int_equal(m.hdr.size, 8 + 2 * sizeof(r[0]));
	assert_int_equal(m.p.mem.nregions, 2);
	assert_memory_equal(m.p.mem.r, r, sizeof(r));
	assert_int_equal(n, 2);
	close(fds[0]);
	close(fds[1]);
	close(p[0]);
	close(p[1]);
}

static void t_vring_fd_nofd(void **state)
{
	struct vhost_user_msg m;
	int fds[8];
	unsigned n;

	reply_u64(VHOST_USER_SET_VRING_CALL, 0);
	assert_int_equal(vhost_user_set_vring_fd(&vu, VHOST_USER_SET_VRING_CALL, 3, -1), 0);
	sent(&m, fds, &n);
	assert_int_equal(m.p.u64, 3 | VHOST_USER_VRING_NOFD);
	assert_int_equal(n, 0);
}

static void t_get_vring_base(void **state)
{
	struct { uint32_t index, num; } st = { 1, 77 };
	uint32_t num = 0;

	reply(VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_REPLY, &st, 8);
	assert_int_equal(vhost_user_get_vring_base(&vu, 1, &num), 0);
	assert_int_equal(num, 77);
}

static void t_config(void **state)
{
	uint8_t buf[12 + 60] = { 0 }, cfg[60];

	memcpy(buf + 4, &(uint32_t){ 60 }, 4);
	buf[12] = 0xaa;
	buf[71] = 0x55;
	reply(VHOST_USER_GET_CONFIG, VHOST_USER_VERSION | VHOST_USER_REPLY, buf, sizeof(buf));
	assert_int_equal(vhost_user_get_config(&vu, cfg, 60), 0);
	assert_int_equal(cfg[0], 0xaa);
	assert_int_equal(cfg[59], 0x55);
}

/* ---- hostile replies: each one error, then the connection is dead ---- */

static void broken_after(int ret, int err)
{
	assert_int_equal(ret, err);
	assert_true(vu.broken);
	/* Nothing more is sent on a stream out of step. */
	assert_int_equal(vhost_user_set_features(&vu, 1), -EPIPE);
}

static void t_bad_version(void **state)
{
	reply(VHOST_USER_SET_FEATURES, 2 | VHOST_USER_REPLY, &(uint64_t){ 0 }, 8);
	broken_after(vhost_user_set_features(&vu, 1), -EPROTO);
}

static void t_not_a_reply(void **state)
{
	reply(VHOST_USER_SET_FEATURES, VHOST_USER_VERSION, &(uint64_t){ 0 }, 8);
	broken_after(vhost_user_set_features(&vu, 1), -EPROTO);
}

static void t_wrong_request(void **state)
{
	reply_u64(VHOST_USER_GET_FEATURES, 0);
	broken_after(vhost_user_set_features(&vu, 1), -EPROTO);
}

static void t_wrong_size(void **state)
{
	/* Announces far more than a reply may hold: refused before reading it. */
	struct vhost_user_hdr h = { VHOST_USER_SET_FEATURES, VHOST_USER_VERSION | VHOST_USER_REPLY,
				    0x10000000 };

	assert_int_equal(write(sv[1], &h, sizeof(h)), (ssize_t)sizeof(h));
	broken_after(vhost_user_set_features(&vu, 1), -EPROTO);
}

static void t_short_config(void **state)
{
	/* libvhost-user's "cannot": an empty GET_CONFIG reply. */
	uint8_t cfg[60];

	reply(VHOST_USER_GET_CONFIG, VHOST_USER_VERSION | VHOST_USER_REPLY, NULL, 0);
	broken_after(vhost_user_get_config(&vu, cfg, sizeof(cfg)), -EPROTO);
}

static void t_wrong_ring(void **state)
{
	struct { uint32_t index, num; } st = { 2, 5 };
	uint32_t num;

	reply(VHOST_USER_GET_VRING_BASE, VHOST_USER_VERSION | VHOST_USER_REPLY, &st, 8);
	broken_after(vhost_user_get_vring_base(&vu, 1, &num), -EPROTO);
}

/* A reply to @req with @payload and @fd (none if < 0) as SCM_RIGHTS. */
static void reply_fd(uint32_t req, const void *payload, uint32_t size, int fd)
{
	struct vhost_user_msg m = { .hdr = { req, VHOST_USER_VERSION | VHOST_USER_REPLY, size } };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl = { { 0 } };
	struct iovec iov = { &m, VHOST_USER_HDR_SIZE + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof(ctl.buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	memcpy((char *)&m + VHOST_USER_HDR_SIZE, payload, size);
	if (fd < 0) {
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	} else {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	}
	assert_int_equal(sendmsg(sv[1], &mh, 0), (ssize_t)(VHOST_USER_HDR_SIZE + size));
}

static void t_stray_fd(void **state)
{
	uint64_t v = 0;
	int fd = dup(0);

	reply_fd(VHOST_USER_SET_FEATURES, &v, 8, fd);
	close(fd);
	broken_after(vhost_user_set_features(&vu, 1), -EPROTO);
}

/* SET_CONFIG: the guest's bytes at their offset, acknowledged. */
static void t_set_config(void **state)
{
	struct vhost_user_msg m;
	uint8_t wce = 0;

	reply_u64(VHOST_USER_SET_CONFIG, 0);
	assert_int_equal(vhost_user_set_config(&vu, 32, &wce, 1), 0);
	sent(&m, NULL, NULL);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_CONFIG);
	assert_int_equal(m.hdr.size, VHOST_USER_CONFIG_HDR + 1);
	assert_int_equal(m.p.cfg.offset, 32);
	assert_int_equal(m.p.cfg.size, 1);
	assert_int_equal(m.p.cfg.data[0], 0);
	assert_int_equal(vhost_user_set_config(&vu, VHOST_USER_CONFIG_MAX, &wce, 1), -EINVAL);
	reply_u64(VHOST_USER_SET_CONFIG, 1);		/* refused */
	broken_after(vhost_user_set_config(&vu, 32, &wce, 1), -EIO);
}

/* INFLIGHT_SHMFD: asked for only when wanted, the area's fd kept, handed back as it was. */
static void t_inflight(void **state)
{
	struct vhost_user_inflight inf = { .mmap_size = 4096, .num_queues = 2, .queue_size = 128 }, got;
	struct vhost_user_msg m;
	unsigned nfds;
	int fd = dup(0), kept, fds[8];

	reply_u64(VHOST_USER_GET_FEATURES, BIT(VHOST_USER_F_PROTOCOL_FEATURES));
	reply_u64(VHOST_USER_GET_PROTOCOL_FEATURES, PROTO | BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD));
	reply_u64(VHOST_USER_SET_OWNER, 0);
	assert_int_equal(vhost_user_connect(&vu, sv[0], "test", 0,
					    BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)), 0);
	expect_sent(VHOST_USER_GET_FEATURES, 0);
	expect_sent(VHOST_USER_GET_PROTOCOL_FEATURES, 0);
	sent(&m, NULL, NULL);
	assert_int_equal(m.p.u64, PROTO | BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD));
	expect_sent(VHOST_USER_SET_OWNER, 0);

	reply_fd(VHOST_USER_GET_INFLIGHT_FD, &inf, sizeof(inf), fd);
	close(fd);
	assert_int_equal(vhost_user_get_inflight_fd(&vu, 2, 128, &got, &kept), 0);
	assert_true(kept >= 0);
	assert_int_equal(got.mmap_size, 4096);
	sent(&m, NULL, NULL);
	assert_int_equal(m.hdr.request, VHOST_USER_GET_INFLIGHT_FD);
	assert_int_equal(m.hdr.size, sizeof(inf));
	assert_int_equal(m.p.inflight.num_queues, 2);
	assert_int_equal(m.p.inflight.queue_size, 128);

	reply_u64(VHOST_USER_SET_INFLIGHT_FD, 0);
	assert_int_equal(vhost_user_set_inflight_fd(&vu, &got, kept), 0);
	sent(&m, fds, &nfds);
	assert_int_equal(m.hdr.request, VHOST_USER_SET_INFLIGHT_FD);
	assert_int_equal(nfds, 1);
	assert_memory_equal(&m.p.inflight, &got, sizeof(got));
	close(fds[0]);
	close(kept);
}

/* Without its fd, or with an area of no size, GET_INFLIGHT_FD's reply ends the connection. */
static void t_inflight_bad(void **state)
{
	struct vhost_user_inflight inf = { .mmap_size = 4096 };
	int fd;

	reply_fd(VHOST_USER_GET_INFLIGHT_FD, &inf, sizeof(inf), -1);
	assert_int_equal(vhost_user_get_inflight_fd(&vu, 1, 128, &inf, &fd), -EPROTO);
	assert_int_equal(fd, -1);
	vu.broken = false;
	inf.mmap_size = 0;
	fd = dup(0);
	reply_fd(VHOST_USER_GET_INFLIGHT_FD, &inf, sizeof(inf), fd);
	close(fd);
	assert_int_equal(vhost_user_get_inflight_fd(&vu, 1, 128, &inf, &fd), -EPROTO);
	assert_int_equal(fd, -1);
	assert_true(vu.broken);
}

static void t_refused(void **state)
{
	reply_u64(VHOST_USER_SET_VRING_NUM, 1);
	broken_after(vhost_user_set_vring(&vu, VHOST_USER_SET_VRING_NUM, 0, 128), -EIO);
}

static void t_closes_mid_message(void **state)
{
	struct vhost_user_hdr h = { VHOST_USER_SET_FEATURES, VHOST_USER_VERSION | VHOST_USER_REPLY,
				    8 };

	assert_int_equal(write(sv[1], &h, sizeof(h)), (ssize_t)sizeof(h));
	assert_int_equal(write(sv[1], "abc", 3), 3);
	shutdown(sv[1], SHUT_WR);
	broken_after(vhost_user_set_features(&vu, 1), -ECONNRESET);
}

static void t_timeout(void **state)
{
	broken_after(vhost_user_set_features(&vu, 1), -ETIMEDOUT);
}

static void t_closed(void **state)
{
	close(sv[1]);
	sv[1] = open("/dev/null", O_RDONLY);
	broken_after(vhost_user_set_features(&vu, 1), -ECONNRESET);
}

static void t_check_reply(void **state)
{
	struct vhost_user_hdr h = { 11, VHOST_USER_VERSION | VHOST_USER_REPLY, 8 };

	assert_null(vhost_user_check_reply(&h, 11, 8, 8));
	assert_non_null(vhost_user_check_reply(&h, 11, 9, 16));
	assert_non_null(vhost_user_check_reply(&h, 12, 8, 8));
	h.flags |= 3;
	assert_non_null(vhost_user_check_reply(&h, 11, 8, 8));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(t_no_protocol_features, setup, teardown),
		cmocka_unit_test_setup_teardown(t_missing_needed, setup, teardown),
		cmocka_unit_test_setup_teardown(t_mem_table_fds, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_vring_fd_nofd, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_get_vring_base, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_config, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_bad_version, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_not_a_reply, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_wrong_request, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_wrong_size, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_short_config, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_wrong_ring, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_stray_fd, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_inflight, setup, teardown),
		cmocka_unit_test_setup_teardown(t_set_config, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_inflight_bad, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_refused, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_closes_mid_message, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_timeout, setup_connected, teardown),
		cmocka_unit_test_setup_teardown(t_closed, setup_connected, teardown),
		cmocka_unit_test(t_check_reply),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
