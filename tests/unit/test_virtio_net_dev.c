/*
 * A whole virtio-net-device: the driver's side through the virtio-mmio
 * registers with split rings in fake guest RAM (rx 0, tx 1, control 2), a
 * real tap in a network namespace of the test's own, io_uring and the
 * event loop. Frames go out to a UDP socket, come in split over mergeable
 * buffers with num_buffers set, and control commands are answered. Needs
 * CAP_NET_ADMIN and /dev/net/tun: without them every test is skipped, and
 * says so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "backends/net.h"
#include "backends/object.h"
#include "lib/util.h"
#include "net_host.h"
#include "mmio_guest.h"
#include "virtio/net.h"

#define NQ		3
#define BUF(q)		(0x40000 + (q) * 0x40000)	/* each queue's buffers */

static bool have_netns;

/* Frames of the kernel's own may come too: at least @n more on rx. */
static void rx_wait(unsigned n)
{
	assert_true(qrun(0, n, 3000) >= n);
	used_seen[0] += n;
}

/* The guest (10.9.1.2) has the device's default MAC: no ARP needed. */
static void if_up_neigh(const char *name, const char *addr)
{
	struct arpreq ar = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ar.arp_pa;
	int s;

	if_up(name, addr);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, "10.9.1.2", &sin->sin_addr);
	ar.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(ar.arp_ha.sa_data, "\x52\x54\x00\x12\x34\x56", 6);
	ar.arp_flags = ATF_COM | ATF_PERM;
	strcpy(ar.arp_dev, name);
	assert_int_equal(ioctl(s, SIOCSARP, &ar), 0);
	close(s);
	/* Fewer frames of the kernel's own (router solicitations) on the tap. */
	s = open("/proc/sys/net/ipv6/conf/embd0/disable_ipv6", O_WRONLY);
	if (s >= 0) {
		assert_int_equal(write(s, "1", 1), 1);
		close(s);
	}
}

static int setup(void **state)
{
	guest_setup();
	have_netns = unshare(CLONE_NEWNET) == 0 && access("/dev/net/tun", R_OK | W_OK) == 0;
	if (!have_netns)
		return 0;
	assert_int_equal(object_create(OBJ_NETDEV, "tap,id=n0,ifname=embd0", NULL), 0);
	assert_int_equal(device_create(&pf, "virtio-net-device,netdev=n0"), 0);
	if_up_neigh("embd0", "10.9.1.1");
	return 0;
}

static int teardown(void **state)
{
	device_destroy_all(&pf);
	object_cleanup_all();
	guest_teardown();
	return 0;
}

#define NEED_TAP()							\
	do {								\
		if (!have_netns) {					\
			printf("skip: no CAP_NET_ADMIN or /dev/net/tun here; " \
			       "the device tests did not run\n");	\
			skip();						\
		}							\
	} while (0)

static const uint64_t feats = BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_CSUM) |
	BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_CTRL_VQ) |
	BIT(VIRTIO_NET_F_CTRL_RX) | BIT(VIRTIO_NET_F_STATUS);

/* Frame 10.9.1.2 -> 10.9.1.1:5556, UDP with "hello", checksum left to the tap. */
static size_t udp_frame(uint8_t *f)
{
	uint8_t *ip = f + 14, *udp = ip + 20;
	uint16_t r;

	memset(f, 0, 64);
	memset(f, 0xff, 6);	/* broadcast: the tap's MAC does not matter */
	memcpy(f + 6, "\x52\x54\x00\x12\x34\x56", 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 33;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\x0a\x09\x01\x02\x0a\x09\x01\x01", 8);
	r = ip_csum(ip, 20);
	ip[10] = r >> 8;
	ip[11] = r;
	udp[0] = 0x30;
	udp[2] = 5556 >> 8;
	udp[3] = 5556 & 0xff;
	udp[5] = 13;
	r = (10 << 8 | 9) + (1 << 8 | 2) + (10 << 8 | 9) + (1 << 8 | 1) + 17 + 13;
	udp[6] = r >> 8;
	udp[7] = r;
	memcpy(udp + 8, "hello", 5);
	return 14 + 20 + 13;
}

static void t_tx(void **state)
{
	const uint64_t H = BUF(1), F = BUF(1) + 0x100;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5556) };
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = htole16(34), .csum_offset = htole16(6) };
	struct pollfd pfd;
	char got[16] = { 0 };
	size_t len;
	int s;

	NEED_TAP();
	s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	driver_start_queues(feats, NQ);
	memcpy(ram + H, &h, sizeof(h));
	len = udp_frame(ram + F);
	/* The header split over two descriptors, the frame in a third. */
	qpost(1, (struct seg[]){ { H, 7, false }, { H + 7, 5, false }, { F, len, false } }, 3);
	qkick_wait(1, 1);
	assert_int_equal(qused_idx(1), 1);
	assert_int_equal(qused_elem(1, used_seen[1] - 1).len, 0);
	pfd = (struct pollfd){ .fd = s, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_int_equal(recv(s, got, sizeof(got), 0), 5);
	assert_string_equal(got, "hello");

	/* A GSO frame the driver did not negotiate: dropped, the device goes on. */
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h.gso_size = htole16(1000);
	memcpy(ram + H, &h, sizeof(h));
	qpost(1, (struct seg[]){ { H, 12, false }, { F, len, false } }, 2);
	/* And one shorter than an Ethernet header. */
	qpost(1, (struct seg[]){ { H, 12, false }, { F, 3, false } }, 2);
	qkick_wait(1, 2);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
	pfd.revents = 0;
	assert_int_equal(poll(&pfd, 1, 200), 0);
	close(s);
}

/*
 * A 1442-byte frame over 512-byte buffers: three chains, num_buffers 3 in
 * the first header, the rest of the buffers kept for the next packet.
 */
static void t_rx_mergeable(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(7777) };
	uint8_t payload[1400], got[2048];
	struct virtio_net_hdr_v1 *h;
	uint32_t total = 0, n = 0;
	int s;

	NEED_TAP();
	driver_start_queues(feats, NQ);
	for (unsigned i = 0; i < QSIZE; i++)
		qpost_buf(0, BUF(0) + i * 512, 512, true);
	qkick(0);
	for (unsigned i = 0; i < sizeof(payload); i++)
		payload[i] = i * 7;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "10.9.1.2", &to.sin_addr);
	/* IPv6 router solicitations and the like may come first: skip them. */
	for (int tries = 0; tries < 10; tries++) {
		assert_int_equal(sendto(s, payload, sizeof(payload), 0, (struct sockaddr *)&to,
					sizeof(to)), sizeof(payload));
		rx_wait(1);
		h = (void *)(ram + BUF(0) + ((qused_elem(0, used_seen[0] - 1).id) * 512));
		if (le16toh(h->num_buffers) == 1)
			continue;	/* something small; its chain was used */
		n = le16toh(h->num_buffers);
		break;
	}
	assert_int_equal(n, 3);
	/* num_buffers counted the first; wait for the other two used entries. */
	rx_wait(2);
	for (unsigned i = 0; i < 3; i++) {
		struct vring_used_elem u = qused_elem(0, used_seen[0] - 3 + i);

		assert_true(u.len <= 512);
		memcpy(got + total, ram + BUF(0) + u.id * 512, u.len);
		total += u.len;
	}
	assert_int_equal(total, 12 + 14 + 20 + 8 + sizeof(payload));
	assert_memory_equal(got + 12 + 42, payload, sizeof(payload));
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
	close(s);
}

static uint8_t ctrl(const uint8_t *c, size_t len)
{
	const uint64_t C = BUF(2), A = BUF(2) + 0x1000;

	memcpy(ram + C, c, len);
	ram[A] = 0xee;
	assert_true(len > 2);
	qpost(2, (struct seg[]){ { C, 2, false }, { C + 2, len - 2, false }, { A, 1, true } }, 3);
	qkick_wait(2, 1);
	assert_int_equal(qused_elem(2, used_seen[2] - 1).len, 1);
	return ram[A];
}

static void t_ctrl(void **state)
{
	NEED_TAP();
	driver_start_queues(feats, NQ);
	assert_int_equal(ctrl((uint8_t[]){ VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 0 }, 3),
			 VIRTIO_NET_OK);
	assert_int_equal(ctrl((uint8_t[]){ VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 9 }, 3),
			 VIRTIO_NET_ERR);
	/* Not negotiated: MQ, MAC_ADDR_SET (the driver left them out). */
	assert_int_equal(ctrl((uint8_t[]){ VIRTIO_NET_CTRL_MQ, 0, 1, 0 }, 4), VIRTIO_NET_ERR);
	assert_int_equal(ctrl((uint8_t[]){ VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
					   2, 0, 0, 0, 0, 1 }, 8), VIRTIO_NET_ERR);
	/* No writable byte for the ack: used with length 0, nothing breaks. */
	memcpy(ram + BUF(2), (uint8_t[]){ VIRTIO_NET_CTRL_RX, 0, 1 }, 3);
	qpost_buf(2, BUF(2), 3, false);
	qkick_wait(2, 1);
	assert_int_equal(qused_elem(2, used_seen[2] - 1).len, 0);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void t_config_errors(void **state)
{
	uint8_t mac[6];

	NEED_TAP();
	for (unsigned i = 0; i < 6; i++)
		assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_CONFIG + i, &mac[i], 1));
	assert_memory_equal(mac, "\x52\x54\x00\x12\x34\x56", 6);
	assert_true(dev_features() & BIT(VIRTIO_NET_F_MRG_RXBUF));
	assert_false(dev_features() & BIT(VIRTIO_NET_F_MQ));
	expect_dev_error("virtio-net-device,netdev=n0", "already used");
	expect_dev_error("virtio-net-device,netdev=nope", "no -netdev with id 'nope'");
	expect_dev_error("virtio-net-device", "netdev");
	expect_dev_error("virtio-net-device,netdev=n0,mac=52:54:00:12:34", "six hex bytes");
	expect_dev_error("virtio-net-device,netdev=n0,mac=52:54:00:12:34:5g", "six hex bytes");
	expect_dev_error("virtio-net-device,netdev=n0,mac=52:54:00:12:34:56:", "six hex bytes");
	expect_dev_error("virtio-net-device,netdev=n0,mac=53:54:00:12:34:56", "multicast");
	expect_dev_error("virtio-net-device,netdev=n0,queue-size=100", "power of 2");
	assert_int_equal(object_create(OBJ_NETDEV, "tap,id=m2,queues=2", NULL), 0);
	expect_dev_error("virtio-net-device,netdev=m2", "add mq=on");
	assert_int_equal(object_create(OBJ_NETDEV, "tap,id=m3,queues=3", NULL), 0);
	expect_dev_error("virtio-net-device,netdev=m3,mq=on", "3 queue pairs but 2 vCPUs");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_config_errors),
		cmocka_unit_test(t_tx),
		cmocka_unit_test(t_rx_mergeable),
		cmocka_unit_test(t_ctrl),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
