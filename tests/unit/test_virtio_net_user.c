/*
 * virtio-net-device over -netdev user: the driver's side through the
 * virtio-mmio registers, libslirp behind. No offload is offered; an ARP
 * request sent on tx comes back as slirp's reply on rx with a plain header;
 * a reply waits in the back end while the guest has no receive buffer, and
 * what exceeds the back end's bound is dropped, not queued without end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>

#include "backends/net.h"
#include "backends/object.h"
#include "lib/util.h"
#include "mmio_guest.h"
#include "virtio/net.h"

#define NQ		3
#define BUF(q)		(0x40000 + (q) * 0x40000)

static int setup(void **state)
{
	guest_setup();
	assert_int_equal(object_create(OBJ_NETDEV, "user,id=u0", loop), 0);
	assert_int_equal(device_create(&pf, "virtio-net-device,netdev=u0,mac=52:54:00:12:34:56"), 0);
	return 0;
}

static int teardown(void **state)
{
	device_destroy_all(&pf);
	object_cleanup_all();
	guest_teardown();
	return 0;
}

static const uint64_t feats = BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_MAC) |
	BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) | BIT(VIRTIO_NET_F_STATUS);

/* The device's default MAC asks who has 10.0.2.2; @n varies the sender address. */
static void post_arp(unsigned n)
{
	const uint64_t H = BUF(1) + n % 8 * 0x100, F = H + 0x20;
	uint8_t *f = ram + F;

	memset(ram + H, 0, VNET_HDR_LEN);
	memset(f, 0, 42);
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x52\x54\x00\x12\x34\x56", 6);
	memcpy(f + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
	memcpy(f + 22, "\x52\x54\x00\x12\x34\x56", 6);
	memcpy(f + 28, "\x0a\x00\x02", 3);
	f[31] = (uint8_t)(15 + n % 16);
	memcpy(f + 38, "\x0a\x00\x02\x02", 4);
	qpost(1, (struct seg[]){ { H, VNET_HDR_LEN, false }, { F, 42, false } }, 2);
}

static void expect_arp_reply(unsigned i)
{
	struct vring_used_elem u = qused_elem(0, i);
	const struct vring_desc *d = (const void *)(ram + QRING(0));
	const uint8_t *b = ram + le64toh(d[u.id % QSIZE].addr);
	const struct virtio_net_hdr_v1 *h = (const void *)b;

	assert_true(u.len >= VNET_HDR_LEN + 42);
	assert_int_equal(h->flags, 0);
	assert_int_equal(h->gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(le16toh(h->num_buffers), 1);
	assert_memory_equal(b + VNET_HDR_LEN, "\x52\x54\x00\x12\x34\x56", 6);
	assert_memory_equal(b + VNET_HDR_LEN + 12, "\x08\x06", 2);
	assert_int_equal(b[VNET_HDR_LEN + 21], 2);		/* reply */
	assert_memory_equal(b + VNET_HDR_LEN + 28, "\x0a\x00\x02\x02", 4);
}

static void t_no_offloads(void **state)
{
	uint64_t f = dev_features();

	assert_true(f & BIT(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(f & BIT(VIRTIO_NET_F_MAC));
	assert_false(f & BIT(VIRTIO_NET_F_CSUM));
	assert_false(f & BIT(VIRTIO_NET_F_GUEST_CSUM));
	assert_false(f & (BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
			  BIT(VIRTIO_NET_F_HOST_UFO) | VNET_GUEST_OFFLOADS));
	assert_false(f & BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS));
	assert_false(f & BIT(VIRTIO_NET_F_MQ));
}

static void t_arp(void **state)
{
	driver_start_queues(feats, NQ);
	for (unsigned i = 0; i < 4; i++)
		qpost_buf(0, BUF(0) + i * 2048, 2048, true);
	qkick(0);
	post_arp(0);
	qkick_wait(1, 1);
	/* The reply went straight into a held buffer, in the same kick. */
	assert_int_equal(qused_new(0), 1);
	expect_arp_reply(0);
	used_seen[0]++;
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void t_backpressure(void **state)
{
	unsigned sent = 0;

	driver_start_queues(feats, NQ);
	/* No receive buffer yet: the replies wait in the back end, up to its bound. */
	while (sent < NETDEV_USER_QUEUE + 20) {
		unsigned n = MIN(7u, NETDEV_USER_QUEUE + 20 - sent);	/* 2 descriptors each */

		for (unsigned i = 0; i < n; i++)
			post_arp(sent++);
		qkick_wait(1, n);
	}
	assert_int_equal(qused_new(0), 0);
	/* Each round of buffers takes as many replies, until the held ones are out. */
	for (unsigned got = 0; got < NETDEV_USER_QUEUE;) {
		unsigned n = MIN(QSIZE - 1, NETDEV_USER_QUEUE - got);

		for (unsigned i = 0; i < n; i++)
			qpost_buf(0, BUF(0) + i * 2048, 2048, true);
		qkick_wait(0, n);
		expect_arp_reply((uint16_t)(used_seen[0] - 1));
		got += n;
	}
	/* Past the bound they were dropped: nothing more comes. */
	qpost_buf(0, BUF(0), 2048, true);
	qkick(0);
	assert_int_equal(qrun(0, 1, 100), 0);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_no_offloads, setup, teardown),
		cmocka_unit_test_setup_teardown(t_arp, setup, teardown),
		cmocka_unit_test_setup_teardown(t_backpressure, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
