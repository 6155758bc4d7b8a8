/*
 * -netdev user without a guest: its option parsers, its errors, and libslirp
 * on the loop (an ARP request and a DHCP DISCOVER in, slirp's replies out; a
 * connection to a host forward becomes frames for the guest).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>

#include "backends/net.h"
#include "backends/object.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "seccomp/seccomp.h"

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static struct loop *lp;
static int readies;

static int setup(void **state)
{
	log_set_quiet(1);
	lp = loop_new();
	return lp ? 0 : -1;
}

static int teardown(void **state)
{
	object_cleanup_all();
	loop_free(lp);
	return 0;
}

static struct netdev_user *make(const char *opts)
{
	struct netdev *nd;
	char id[32];
	const char *p = strstr(opts, "id=");

	assert_int_equal(object_create(OBJ_NETDEV, opts, lp), 0);
	assert_non_null(p);
	snprintf(id, sizeof(id), "%.*s", (int)strcspn(p + 3, ","), p + 3);
	nd = netdev_find(id);
	assert_non_null(nd);
	return netdev_user(nd);
}

static void expect_error(const char *opts, const char *msg)
{
	assert_true(object_create(OBJ_NETDEV, opts, lp) < 0);
	if (!strstr(log_last(), msg))
		fail_msg("'%s': got '%s', want '%s'", opts, log_last(), msg);
}

/* ---- parsers ---- */

static void test_parse_fwd(void **state)
{
	struct netdev_user_fwd f;
	const char *why;

	assert_int_equal(netdev_user_parse_fwd("tcp::5555-:22", &f, &why), 0);
	assert_false(f.udp);
	assert_int_equal(f.hport, 5555);
	assert_int_equal(f.gport, 22);
	assert_int_equal(f.haddr.s_addr, INADDR_ANY);
	assert_int_equal(f.gaddr.s_addr, INADDR_ANY);
	assert_int_equal(netdev_user_parse_fwd("udp:127.0.0.1:0-10.0.2.9:53", &f, &why), 0);
	assert_true(f.udp);
	assert_int_equal(f.hport, 0);
	assert_int_equal(f.haddr.s_addr, htonl(0x7f000001));
	assert_int_equal(f.gaddr.s_addr, htonl(0x0a000209));
	assert_int_equal(netdev_user_parse_fwd("::80-:8080", &f, &why), 0);	/* QEMU: tcp */
	assert_false(f.udp);

	static const char *const bad[] = {
		"", "tcp", "sctp::1-:2", "tcp::1:2", "tcp::99999-:22", "tcp::-1-:22",
		"tcp::x-:22", "tcp::22-:0", "tcp::22-:65536", "tcp::22-22", "tcp:1.2.3:22-:22",
		"tcp::22-1.2.3.4.5:22", "tcp::22-:", "tcp::22-:22 ", "tcp::000022-:22",
		"TCP::1-:2", "tc::1-:2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!netdev_user_parse_fwd(bad[i], &f, &why))
			fail_msg("'%s' was accepted", bad[i]);
}

static void test_parse_net(void **state)
{
	struct netdev_user_net n;
	const char *why;

	assert_int_equal(netdev_user_parse_net(NULL, NULL, NULL, NULL, &n, &why), 0);
	assert_int_equal(n.net.s_addr, htonl(0x0a000200));
	assert_int_equal(n.mask.s_addr, htonl(0xffffff00));
	assert_int_equal(n.host.s_addr, htonl(0x0a000202));
	assert_int_equal(n.dhcp.s_addr, htonl(0x0a00020f));
	assert_int_equal(n.dns.s_addr, htonl(0x0a000203));
	assert_int_equal(netdev_user_parse_net("192.168.76.0/255.255.255.0", "192.168.76.1",
					       NULL, NULL, &n, &why), 0);
	assert_int_equal(n.host.s_addr, htonl(0xc0a84c01));
	assert_int_equal(n.dhcp.s_addr, htonl(0xc0a84c0f));
	/* QEMU's classful default without a prefix. */
	assert_int_equal(netdev_user_parse_net("10.0.0.0", NULL, NULL, NULL, &n, &why), 0);
	assert_int_equal(n.mask.s_addr, htonl(0xff000000));

	assert_int_equal(netdev_user_parse_net("10.0.2.0/33", NULL, NULL, NULL, &n, &why), -EINVAL);
	assert_int_equal(netdev_user_parse_net("10.0.2.1/24", NULL, NULL, NULL, &n, &why), -EINVAL);
	assert_string_equal(why, "net= has bits set outside its prefix");
	assert_int_equal(netdev_user_parse_net("10.0.2.0/30", NULL, NULL, NULL, &n, &why), -EINVAL);
	/* .15, the default DHCP start, is the broadcast address of a /28. */
	assert_int_equal(netdev_user_parse_net("10.0.2.0/28", NULL, NULL, NULL, &n, &why), -EINVAL);
	assert_non_null(strstr(why, "too small for the default addresses"));
	assert_int_equal(netdev_user_parse_net("10.0.2.0/28", NULL, "10.0.2.4", NULL, &n, &why), 0);
	assert_int_equal(netdev_user_parse_net("10.0.2.0/255.0.255.0", NULL, NULL, NULL, &n, &why),
			 -EINVAL);
	assert_int_equal(netdev_user_parse_net("1.2.3/24", NULL, NULL, NULL, &n, &why), -EINVAL);
	assert_int_equal(netdev_user_parse_net("200.1.1.0", NULL, NULL, NULL, &n, &why), -EINVAL);
	assert_int_equal(netdev_user_parse_net(NULL, "10.0.3.2", NULL, NULL, &n, &why), -EINVAL);
	assert_string_equal(why, "host= is not an address inside net=");
	assert_int_equal(netdev_user_parse_net(NULL, NULL, "10.0.2.255", NULL, &n, &why), -EINVAL);
	assert_int_equal(netdev_user_parse_net(NULL, NULL, NULL, "10.0.2.0", &n, &why), -EINVAL);
	assert_int_equal(netdev_user_parse_net(NULL, "10.0.2.3", NULL, NULL, &n, &why), -EINVAL);
	assert_string_equal(why, "host= and dns= must differ");
}

/* ---- the object's errors ---- */

static int listening_port(int *fd_out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*fd_out = fd;
	return ntohs(a.sin_port);
}

static void test_errors(void **state)
{
	char opts[128], msg[128];
	int fd, port;

	expect_error("user,id=e1,hostfwd=tcp::99999-:22",
		     "-netdev user,id=e1: hostfwd=tcp::99999-:22: the host port is not a number");
	expect_error("user,id=e2,hostfwd=sctp::1-:2",
		     "hostfwd=sctp::1-:2: the protocol is tcp or udp");
	expect_error("user,id=e3,hostfwd=tcp::2222-:22,hostfwd=tcp::2223-:0",
		     "hostfwd=tcp::2223-:0: the guest port is not a number 1..65535");
	expect_error("user,id=e4,net=10.0.2.0/31", "-netdev user,id=e4: net= must leave room");
	expect_error("user,id=e5,ipv4=off", "ipv4=off");
	expect_error("user,id=e6,smb=/tmp", "unknown property 'smb'");
	expect_error("user,id=e7,host=1.2.3.4", "host= is not an address inside net=");

	port = listening_port(&fd);
	snprintf(opts, sizeof(opts), "user,id=e8,hostfwd=tcp:127.0.0.1:%d-:22", port);
	snprintf(msg, sizeof(msg), "hostfwd=tcp:127.0.0.1:%d-:22: cannot listen on tcp "
		 "127.0.0.1:%d: Address already in use", port, port);
	expect_error(opts, msg);
	close(fd);
	/* Nothing of a failed netdev stays behind: the id is free again. */
	assert_null(netdev_find("e8"));
	assert_non_null(make(opts));
	assert_true(netdev_user_exists());
}

/* ---- frames ---- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static size_t arp_request(uint8_t *f, uint32_t sender, uint32_t target)
{
	memset(f, 0, 42);
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0806);
	put16(f + 14, 1);		/* Ethernet */
	put16(f + 16, 0x0800);		/* IPv4 */
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, 1);		/* request */
	memcpy(f + 22, guest_mac, 6);
	sender = htonl(sender);
	memcpy(f + 28, &sender, 4);
	target = htonl(target);
	memcpy(f + 38, &target, 4);
	return 42;
}

static void test_arp(void **state)
{
	struct netdev_user *u = make("user,id=a0");
	uint8_t f[64];
	const uint8_t *r;
	size_t len;

	assert_null(netdev_user_peek(u, &len));
	netdev_user_send(u, f, arp_request(f, 0x0a00020f, 0x0a000202));
	r = netdev_user_peek(u, &len);
	assert_non_null(r);
	assert_true(len >= 42);
	assert_memory_equal(r, guest_mac, 6);
	assert_int_equal(get16(r + 12), 0x0806);
	assert_int_equal(get16(r + 20), 2);		/* reply */
	assert_int_equal(r[28], 10);			/* from 10.0.2.2 */
	assert_int_equal(r[31], 2);
	assert_memory_equal(r + 32, guest_mac, 6);	/* to us */
	netdev_user_pop(u);
	assert_null(netdev_user_peek(u, &len));
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += get16(p + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t dhcp_discover(uint8_t *f)
{
	uint8_t *ip = f + 14, *udp = ip + 20, *bp = udp + 8;
	size_t blen = 240 + 4, len;

	memset(f, 0, 14 + 20 + 8 + 300);
	memset(f, 0xff, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0800);
	bp[0] = 1;				/* BOOTREQUEST */
	bp[1] = 1;
	bp[2] = 6;
	memcpy(bp + 4, "\x12\x34\x56\x78", 4);	/* xid */
	memcpy(bp + 28, guest_mac, 6);
	memcpy(bp + 236, "\x63\x82\x53\x63", 4);	/* magic cookie */
	memcpy(bp + 240, "\x35\x01\x01\xff", 4);	/* DHCPDISCOVER, end */
	blen = 300;				/* BOOTP's minimum */
	put16(udp, 68);
	put16(udp + 2, 67);
	put16(udp + 4, (uint16_t)(8 + blen));
	len = 20 + 8 + blen;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)len);
	ip[8] = 64;
	ip[9] = 17;
	memset(ip + 16, 0xff, 4);		/* from 0.0.0.0 to 255.255.255.255 */
	put16(ip + 10, csum(ip, 20));
	return 14 + len;
}

static void test_dhcp(void **state)
{
	struct netdev_user *u = make("user,id=d0,net=192.168.7.0/24,hostname=guest7");
	uint8_t f[400];
	const uint8_t *r, *bp;
	size_t len;

	netdev_user_send(u, f, dhcp_discover(f));
	r = netdev_user_peek(u, &len);
	assert_non_null(r);
	assert_true(len > 14 + 20 + 8 + 240);
	assert_int_equal(get16(r + 12), 0x0800);
	assert_int_equal(r[14 + 9], 17);		/* UDP */
	assert_int_equal(get16(r + 14 + 20), 67);
	assert_int_equal(get16(r + 14 + 22), 68);
	bp = r + 14 + 20 + 8;
	assert_int_equal(bp[0], 2);			/* BOOTREPLY */
	assert_memory_equal(bp + 4, "\x12\x34\x56\x78", 4);
	assert_memory_equal(bp + 16, "\xc0\xa8\x07\x0f", 4);	/* yiaddr 192.168.7.15 */
	assert_memory_equal(bp + 242, "\x02", 1);	/* option 53 first: DHCPOFFER */
	assert_non_null(memmem(bp + 240, len - (bp + 240 - r), "guest7", 6));
	netdev_user_pop(u);
}

static void stop_loop(void *opaque)
{
	readies++;
	loop_stop(lp, 0);
}

/*
 * A host connection to a forwarded port: slirp accepts it on the loop and
 * asks for the guest (ARP), which only works if its sockets are watched.
 */
static void test_hostfwd_on_loop(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	struct netdev_user *u;
	char opts[96];
	const uint8_t *r;
	size_t len;
	int fd, port;

	/* A free port: bound, read back, closed. */
	port = listening_port(&fd);
	close(fd);
	snprintf(opts, sizeof(opts), "user,id=f0,hostfwd=tcp:127.0.0.1:%d-:22", port);
	u = make(opts);
	netdev_user_attach(u, stop_loop, NULL);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	a.sin_port = htons(port);
	assert_true(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno == EINPROGRESS);
	readies = 0;
	assert_int_equal(loop_run(lp), 0);
	assert_int_equal(readies, 1);
	r = netdev_user_peek(u, &len);
	assert_non_null(r);
	/* Who has 10.0.2.15 (the first DHCP address, the forward's default)? */
	assert_int_equal(get16(r + 12), 0x0806);
	assert_int_equal(get16(r + 20), 1);
	assert_memory_equal(r + 38, "\x0a\x00\x02\x0f", 4);
	netdev_user_attach(u, NULL, NULL);
	close(fd);
}

/* ---- under the sandbox ---- */

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* The guest 10.0.2.15 opens a TCP connection to 10.0.2.2:@port (the host's loopback). */
static size_t tcp_syn(uint8_t *f, uint16_t port)
{
	uint8_t *ip = f + 14, *tcp = ip + 20, pseudo[12];

	memset(f, 0, 54);
	memcpy(f, "\x52\x55\x0a\x00\x02\x02", 6);	/* slirp's MAC for the gateway */
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, 40);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x02", 8);
	put16(ip + 10, csum(ip, 20));
	put16(tcp, 40000);
	put16(tcp + 2, port);
	memcpy(tcp + 4, "\x00\x00\x10\x00", 4);	/* seq */
	tcp[12] = 5 << 4;
	tcp[13] = 0x02;					/* SYN */
	put16(tcp + 14, 65535);
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0;
	pseudo[9] = 6;
	put16(pseudo + 10, 20);
	put16(tcp + 16, fold(sum16(tcp, 20, sum16(pseudo, 12, 0))));
	return 54;
}

/* A DNS query to slirp's forwarder 10.0.2.3: slirp reads /etc/resolv.conf. */
static size_t dns_query(uint8_t *f)
{
	static const uint8_t q[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
				   "\x07example\x03com\x00\x00\x01\x00\x01";
	uint8_t *ip = f + 14, *udp = ip + 20;
	size_t ql = sizeof(q) - 1;

	memset(f, 0, 14 + 28 + ql);
	memcpy(f, "\x52\x55\x0a\x00\x02\x02", 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(28 + ql));
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\x00\x02\x0f\x0a\x00\x02\x03", 8);
	put16(ip + 10, csum(ip, 20));
	put16(udp, 40001);
	put16(udp + 2, 53);
	put16(udp + 4, (uint16_t)(8 + ql));		/* checksum 0: none */
	memcpy(udp + 8, q, ql);
	return 14 + 28 + ql;
}

static void on_watchdog(void *opaque, uint32_t events)
{
	loop_stop(lp, 99);
}

/* Waits on the loop for a frame for the guest that @want accepts. */
static int wait_frame(struct netdev_user *u, bool (*want)(const uint8_t *, size_t, uint16_t),
		      uint16_t arg)
{
	const uint8_t *r;
	size_t len;

	for (;;) {
		while ((r = netdev_user_peek(u, &len))) {
			bool ok = want(r, len, arg);

			netdev_user_pop(u);
			if (ok)
				return 0;
		}
		if (loop_run(lp))
			return 1;		/* the watchdog */
	}
}

static bool is_synack(const uint8_t *r, size_t len, uint16_t port)
{
	return len >= 54 && get16(r + 12) == 0x0800 && r[14 + 9] == 6 &&
	       get16(r + 34) == port && (r[34 + 13] & 0x12) == 0x12;
}

/* slirp knows the guest's MAC from its ARP request: a SYN to the guest's port. */
static bool is_syn(const uint8_t *r, size_t len, uint16_t port)
{
	return len >= 54 && get16(r + 12) == 0x0800 && r[14 + 9] == 6 &&
	       get16(r + 36) == port && (r[34 + 13] & 0x12) == 0x02;
}

/*
 * In a child: main's filter with (@allow) or without the user netdev's
 * calls, then a guest connection to the host, a DNS query and a host
 * connection to a forward. Its exit status: 0, or which step failed.
 */
static int sandboxed(bool allow)
{
	struct itimerspec its = { .it_value = { 10, 0 } };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	struct netdev_user *u;
	uint8_t f[128];
	char opts[96];
	int lfd, cfd, tfd, port, fport;

	lp = loop_new();
	port = listening_port(&lfd);		/* the guest connects to it */
	fport = listening_port(&cfd);		/* a free port for the forward */
	close(cfd);
	snprintf(opts, sizeof(opts), "user,id=s0,hostfwd=tcp:127.0.0.1:%d-:22", fport);
	if (object_create(OBJ_NETDEV, opts, lp))
		return 2;
	u = netdev_user(netdev_find("s0"));
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (tfd < 0 || cfd < 0 || timerfd_settime(tfd, 0, &its, NULL) ||
	    loop_add(lp, tfd, EPOLLIN, on_watchdog, NULL))
		return 3;
	netdev_user_attach(u, stop_loop, NULL);
	if (allow)
		sandbox_allow_user_net();
	sandbox_set_enabled(true);
	if (sandbox_setup() || sandbox_load(SANDBOX_MAIN, "main"))
		return 4;

	netdev_user_send(u, f, arp_request(f, 0x0a00020f, 0x0a000202));
	netdev_user_send(u, f, tcp_syn(f, (uint16_t)port));
	if (wait_frame(u, is_synack, (uint16_t)port))
		return 5;
	netdev_user_send(u, f, dns_query(f));
	a.sin_port = htons(fport);
	if (connect(cfd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS)
		return 6;
	if (wait_frame(u, is_syn, 22))
		return 7;
	return 0;
}

static int run_sandboxed(bool allow, char *err, size_t errlen)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		log_set_quiet(0);
		syscall(SYS_exit_group, sandboxed(allow));
	}
	close(p[1]);
	/* To EOF: a sanitizer build warns first, and a closed pipe would kill the child. */
	size_t got = 0;
	char spill[256];
	while ((n = got < errlen - 1 ? read(p[0], err + got, errlen - 1 - got) :
					read(p[0], spill, sizeof(spill))) > 0)
		got += got < errlen - 1 ? (size_t)n : 0;
	err[got] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_sandbox(void **state)
{
	char err[1024];
	int st;

	st = run_sandboxed(true, err, sizeof(err));
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("with the user netdev's calls: status %#x; stderr: %s", st, err);
	/* Without them the first socket slirp opens is fatal: the list is what makes it work. */
	st = run_sandboxed(false, err, sizeof(err));
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	assert_non_null(strstr(err, "made forbidden system call socket"));
}

/*
 * An ICMP echo to the gateway in two fragments, the last one first: the
 * order that crashes libslirp 4.7.0 when it reaches it (see
 * net_user_frag.c). ember hands slirp the whole datagram, and the reply
 * carries all of it.
 */
static size_t ping_frag(uint8_t *f, uint16_t off8, bool more, const uint8_t *icmp, size_t n)
{
	memcpy(f, (const uint8_t[6]){ 0x52, 0x55, 0, 0, 0, 2 }, 6);
	memcpy(f + 6, guest_mac, 6);
	put16(f + 12, 0x0800);
	memset(f + 14, 0, 20);
	f[14] = 0x45;
	put16(f + 16, (uint16_t)(20 + n));
	put16(f + 18, 0x77);
	put16(f + 20, (uint16_t)((more ? 0x2000 : 0) | off8));
	f[22] = 64;
	f[23] = 1;
	f[26] = 10, f[27] = 0, f[28] = 2, f[29] = 15;
	f[30] = 10, f[31] = 0, f[32] = 2, f[33] = 2;
	put16(f + 24, csum(f + 14, 20));
	memcpy(f + 34, icmp, n);
	return 34 + n;
}

static void test_fragments(void **state)
{
	struct netdev_user *u = make("user,id=f0");
	uint8_t icmp[1008], f[1100];
	const uint8_t *r;
	size_t len;

	memset(icmp, 0, sizeof(icmp));
	icmp[0] = 8;					/* echo request */
	put16(icmp + 4, 0x1234);
	for (size_t i = 8; i < sizeof(icmp); i++)
		icmp[i] = (uint8_t)i;
	put16(icmp + 2, csum(icmp, sizeof(icmp)));
	netdev_user_send(u, f, arp_request(f, 0x0a00020f, 0x0a000202));
	while (netdev_user_peek(u, &len))
		netdev_user_pop(u);
	/* A lone last fragment: held, and no reply. */
	netdev_user_send(u, f, ping_frag(f, 504 / 8, false, icmp + 504, 504));
	assert_null(netdev_user_peek(u, &len));
	netdev_user_send(u, f, ping_frag(f, 0, true, icmp, 504));
	r = netdev_user_peek(u, &len);
	assert_non_null(r);
	assert_int_equal(len, 14 + 20 + sizeof(icmp));
	assert_int_equal(get16(r + 12), 0x0800);
	assert_int_equal(r[14 + 9], 1);
	assert_int_equal(r[34], 0);			/* echo reply */
	assert_int_equal(get16(r + 34 + 4), 0x1234);
	assert_memory_equal(r + 34 + 8, icmp + 8, sizeof(icmp) - 8);
	netdev_user_pop(u);
	/* Overlapping fragments are dropped, not reassembled. */
	netdev_user_send(u, f, ping_frag(f, 0, true, icmp, 504));
	netdev_user_send(u, f, ping_frag(f, 496 / 8, false, icmp + 496, 512));
	assert_null(netdev_user_peek(u, &len));
}

/* restrict=on: the guest's connection to the host's loopback goes nowhere. */
static void test_restrict(void **state)
{
	struct itimerspec its = { .it_value = { 0, 300000000 } };
	struct netdev_user *u = make("user,id=r0,restrict=on");
	uint8_t f[128];
	const uint8_t *r;
	size_t len;
	int lfd, tfd, port;

	port = listening_port(&lfd);
	netdev_user_send(u, f, arp_request(f, 0x0a00020f, 0x0a000202));
	assert_non_null(netdev_user_peek(u, &len));	/* ARP still answers */
	netdev_user_pop(u);
	netdev_user_send(u, f, tcp_syn(f, (uint16_t)port));
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	assert_int_equal(timerfd_settime(tfd, 0, &its, NULL), 0);
	assert_int_equal(loop_add(lp, tfd, EPOLLIN, on_watchdog, NULL), 0);
	while ((r = netdev_user_peek(u, &len))) {
		assert_false(is_synack(r, len, (uint16_t)port));
		netdev_user_pop(u);
	}
	assert_int_equal(loop_run(lp), 99);		/* the watchdog, no frame */
	while ((r = netdev_user_peek(u, &len))) {
		assert_false(is_synack(r, len, (uint16_t)port));
		netdev_user_pop(u);
	}
	/* Nothing connected to the host's listening socket. */
	assert_int_equal(poll(&(struct pollfd){ .fd = lfd, .events = POLLIN }, 1, 0), 0);
	loop_del(lp, tfd);
	close(tfd);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fwd),
		cmocka_unit_test(test_parse_net),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dhcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostfwd_on_loop, setup, teardown),
		cmocka_unit_test(test_sandbox),
		cmocka_unit_test_setup_teardown(test_restrict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragments, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
