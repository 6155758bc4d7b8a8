/*
 * virtio-net: the transmit header check, the mergeable receive-buffer
 * accounting and the control-queue parser on hand-made input; then the
 * tap back end against real taps in a network namespace of its own (the
 * test needs CAP_NET_ADMIN: without it the tap tests are skipped, and say
 * so), packets both ways through the kernel.
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
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_tun.h>

#include "backends/net.h"
#include "backends/object.h"
#include "lib/log.h"
#include "net_host.h"
#include "lib/util.h"
#include "virtio/net.h"

/* ---- transmit headers ---- */

static struct virtq_elem el;
static uint8_t frame[70000];

static const uint64_t all_host = BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO4) |
	BIT(VIRTIO_NET_F_HOST_TSO6) | BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_HOST_UFO);

/* A tx chain: the header split 5 + 7 bytes, then @len bytes of frame. */
static void tx_chain(const struct virtio_net_hdr_v1 *h, uint32_t len)
{
	static struct virtio_net_hdr_v1 copy;

	copy = *h;
	memset(&el, 0, sizeof(el));
	el.iov[0] = (struct iovec){ &copy, 5 };
	el.iov[1] = (struct iovec){ (uint8_t *)&copy + 5, 7 };
	el.iov[2] = (struct iovec){ frame, len };
	el.out_num = 3;
	el.out_len = VNET_HDR_LEN + len;
}

static void expect_tx(const struct virtio_net_hdr_v1 *h, uint32_t len, uint64_t f,
		      const char *why_part)
{
	struct virtio_net_hdr_v1 out;
	const char *why = NULL;
	int ret;

	tx_chain(h, len);
	ret = vnet_tx_check(&el, f, &out, &why);
	if (!why_part) {
		if (ret)
			fail_msg("refused: %s", why);
		assert_memory_equal(&out, h, VNET_HDR_LEN);
		return;
	}
	assert_int_equal(ret, -EINVAL);
	assert_non_null(why);
	if (!strstr(why, why_part))
		fail_msg("why '%s', want '%s'", why, why_part);
}

static struct virtio_net_hdr_v1 gso_hdr(uint8_t type, uint16_t size)
{
	return (struct virtio_net_hdr_v1){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = type,
		.hdr_len = htole16(54), .gso_size = htole16(size),
		.csum_start = htole16(34), .csum_offset = htole16(16),
	};
}

static void t_tx_check(void **state)
{
	struct virtio_net_hdr_v1 h = { 0 }, g;

	expect_tx(&h, 60, 0, NULL);
	expect_tx(&h, VNET_ETH_HLEN, 0, NULL);
	expect_tx(&h, VNET_ETH_HLEN - 1, 0, "shorter");
	expect_tx(&h, VNET_MAX_FRAME, 0, NULL);
	expect_tx(&h, VNET_MAX_FRAME + 1, 0, "longer");
	/* Header cut short: chain of 4 bytes. */
	tx_chain(&h, 0);
	el.out_num = 1;
	el.iov[0].iov_len = 4;
	el.out_len = 4;
	{
		const char *why;
		struct virtio_net_hdr_v1 o;

		assert_int_equal(vnet_tx_check(&el, 0, &o, &why), -EINVAL);
	}
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	expect_tx(&h, 60, all_host, "flags");
	h.flags = 0x80;
	expect_tx(&h, 60, all_host, "flags");
	h = (struct virtio_net_hdr_v1){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					.csum_start = htole16(34), .csum_offset = htole16(6) };
	expect_tx(&h, 60, all_host, NULL);
	expect_tx(&h, 60, 0, "without the CSUM feature");
	expect_tx(&h, 42, all_host, NULL);		/* 34 + 6 + 2 == 42 */
	expect_tx(&h, 41, all_host, "beyond the frame");
	h.csum_start = htole16(0xffff);
	h.csum_offset = htole16(0xffff);
	expect_tx(&h, 60, all_host, "beyond the frame");

	g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	expect_tx(&g, 9000, all_host, NULL);
	expect_tx(&g, 9000, all_host & ~BIT(VIRTIO_NET_F_HOST_TSO4), "HOST_TSO4");
	g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV6, 1448);
	expect_tx(&g, 9000, all_host, NULL);
	expect_tx(&g, 9000, all_host & ~BIT(VIRTIO_NET_F_HOST_TSO6), "HOST_TSO6");
	g = gso_hdr(VIRTIO_NET_HDR_GSO_UDP, 1472);
	expect_tx(&g, 9000, all_host, NULL);
	expect_tx(&g, 9000, all_host & ~BIT(VIRTIO_NET_F_HOST_UFO), "HOST_UFO");
	g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448);
	expect_tx(&g, 9000, all_host, NULL);
	expect_tx(&g, 9000, all_host & ~BIT(VIRTIO_NET_F_HOST_ECN), "HOST_ECN");
	g = gso_hdr(2, 1448);
	expect_tx(&g, 9000, all_host, "unknown GSO");
	g = gso_hdr(5, 1448);
	expect_tx(&g, 9000, all_host, "unknown GSO");
	g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 0);
	expect_tx(&g, 9000, all_host, "gso_size 0");
	g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	g.flags = 0;
	expect_tx(&g, 9000, all_host, "without NEEDS_CSUM");
	h = (struct virtio_net_hdr_v1){ .gso_type = VIRTIO_NET_HDR_GSO_ECN };
	expect_tx(&h, 60, all_host, "ECN bit without GSO");
}

static void t_iov(void **state)
{
	uint8_t a[3], b[1], c[10], out[14];
	struct iovec iov[] = { { a, 3 }, { b, 1 }, { NULL, 0 }, { c, 10 } };
	const uint8_t pat[14] = "abcdefghijklm";

	assert_int_equal(iov_write(iov, 4, 0, pat, 14), 14);
	assert_memory_equal(a, "abc", 3);
	assert_memory_equal(b, "d", 1);
	assert_memory_equal(c, "efghijklm", 10);
	memset(out, 0, sizeof(out));
	assert_int_equal(iov_read(iov, 4, 2, out, 5), 5);
	assert_memory_equal(out, "cdefg", 5);
	assert_int_equal(iov_read(iov, 4, 10, out, 14), 4);
	assert_int_equal(iov_read(iov, 4, 14, out, 1), 0);
	assert_int_equal(iov_write(iov, 4, 100, pat, 1), 0);
}

/* ---- mergeable receive buffers ---- */

static void t_rx_split(void **state)
{
	uint32_t cap[4] = { 1536, 1536, 1536, 4096 }, used[4];

	assert_int_equal(vnet_rx_need(true, true), 12 + 65550);
	assert_int_equal(vnet_rx_need(true, false), 12 + 1518);
	assert_int_equal(vnet_rx_need(false, false), 12 + 1518);

	assert_int_equal(vnet_rx_split(cap, 4, 0, used), 0);
	assert_int_equal(vnet_rx_split(cap, 0, 100, used), 0);
	assert_int_equal(vnet_rx_split(cap, 4, 60 + 12, used), 1);
	assert_int_equal(used[0], 72);
	assert_int_equal(vnet_rx_split(cap, 4, 1536, used), 1);
	assert_int_equal(used[0], 1536);
	assert_int_equal(vnet_rx_split(cap, 4, 1537, used), 2);
	assert_int_equal(used[0], 1536);
	assert_int_equal(used[1], 1);
	assert_int_equal(vnet_rx_split(cap, 4, 3 * 1536 + 4096, used), 4);
	assert_int_equal(used[3], 4096);
	/* More than the chains hold: cut at their end, as the tap's read is. */
	assert_int_equal(vnet_rx_split(cap, 4, 65562, used), 4);
	assert_int_equal(used[0] + used[1] + used[2] + used[3], 3 * 1536 + 4096);
	/* A 64 KiB GSO packet over Linux's smallest mergeable buffers. */
	{
		uint32_t c[64], u[64];

		for (unsigned i = 0; i < 64; i++)
			c[i] = 1536;
		assert_int_equal(vnet_rx_split(c, 64, 65562, u), 43);
		assert_int_equal(u[42], 65562 - 42 * 1536);
	}
}

static void t_rx_buffers(void **state)
{
	uint8_t a[11], b[20];
	struct iovec iov[] = { { a, 11 }, { b, 20 } };

	memset(a, 0xee, sizeof(a));
	memset(b, 0xee, sizeof(b));
	vnet_rx_set_buffers(iov, 2, 0x0203);
	assert_int_equal(a[10], 0x03);	/* num_buffers split over two iovecs, LE */
	assert_int_equal(b[0], 0x02);
	assert_int_equal(a[9], 0xee);
	assert_int_equal(b[1], 0xee);
}

/* ---- control queue ---- */

static const uint8_t mac0[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
static const uint64_t ctrl_all = BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) |
	BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
	BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | VNET_GUEST_OFFLOADS;

static struct vnet_ctrl_state cs;

static uint8_t cmd(uint64_t f, const uint8_t *c, size_t len, unsigned *chg)
{
	struct vnet_ctrl_state before = cs;
	unsigned dummy;
	uint8_t ack = vnet_ctrl_apply(&cs, f, 4, c, len, chg ? chg : &dummy);

	if (ack != VIRTIO_NET_OK) {
		/* A refused command changes nothing. */
		assert_int_equal(ack, VIRTIO_NET_ERR);
		assert_memory_equal(&before, &cs, sizeof(cs));
		assert_int_equal(chg ? *chg : dummy, 0);
	}
	return ack;
}

#define CMD(f, ...) ({ const uint8_t _c[] = { __VA_ARGS__ }; cmd(f, _c, sizeof(_c), NULL); })

static void t_ctrl_rx(void **state)
{
	vnet_ctrl_reset(&cs, mac0, 0);
	assert_true(cs.promisc);
	assert_int_equal(cs.pairs, 1);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 0),
			 VIRTIO_NET_OK);
	assert_false(cs.promisc);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, 1),
			 VIRTIO_NET_OK);
	assert_true(cs.allmulti);
	for (uint8_t c = VIRTIO_NET_CTRL_RX_ALLUNI; c <= VIRTIO_NET_CTRL_RX_NOBCAST; c++) {
		assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_RX, c, 1), VIRTIO_NET_OK);
		/* The extra modes need CTRL_RX_EXTRA. */
		assert_int_equal(CMD(ctrl_all & ~BIT(VIRTIO_NET_F_CTRL_RX_EXTRA),
				     VIRTIO_NET_CTRL_RX, c, 0), VIRTIO_NET_ERR);
	}
	assert_true(cs.alluni && cs.nomulti && cs.nouni && cs.nobcast);
	/* Malformed: no data, two bytes, a value other than 0/1, unknown cmd. */
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_RX, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_RX, 0, 1, 1), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_RX, 0, 2), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_RX, 6, 1), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_RX, 0xff, 1), VIRTIO_NET_ERR);
	/* Without CTRL_RX, or without a control queue at all. */
	assert_int_equal(CMD(ctrl_all & ~BIT(VIRTIO_NET_F_CTRL_RX), VIRTIO_NET_CTRL_RX, 0, 1),
			 VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all & ~BIT(VIRTIO_NET_F_CTRL_VQ), VIRTIO_NET_CTRL_RX, 0, 1),
			 VIRTIO_NET_ERR);
	/* Shorter than class + cmd; unknown classes (VLAN, ANNOUNCE not offered). */
	assert_int_equal(cmd(ctrl_all, (const uint8_t[]){ 0 }, 1, NULL), VIRTIO_NET_ERR);
	assert_int_equal(cmd(ctrl_all, NULL, 0, NULL), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_VLAN, 0, 1, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_ANNOUNCE, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, 0x42, 0, 0), VIRTIO_NET_ERR);
}

static void t_ctrl_mac(void **state)
{
	uint8_t buf[4 + 6 * 70 + 4 + 6 * 2 + 2];
	unsigned chg;
	size_t n;

	vnet_ctrl_reset(&cs, mac0, 0);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
			     0x02, 1, 2, 3, 4, 5), VIRTIO_NET_OK);
	assert_memory_equal(cs.mac, ((uint8_t[]){ 2, 1, 2, 3, 4, 5 }), 6);
	/* Wrong length, a multicast address, no CTRL_MAC_ADDR. */
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
			     2, 1, 2, 3, 4), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
			     2, 1, 2, 3, 4, 5, 6), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
			     1, 1, 2, 3, 4, 5), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all & ~BIT(VIRTIO_NET_F_CTRL_MAC_ADDR), VIRTIO_NET_CTRL_MAC,
			     VIRTIO_NET_CTRL_MAC_ADDR_SET, 2, 1, 2, 3, 4, 5), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, 2, 2, 1, 2, 3, 4, 5),
			 VIRTIO_NET_ERR);

	/* MAC_TABLE_SET: one unicast entry, two multicast. */
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
			     1, 0, 0, 0, 0x02, 9, 9, 9, 9, 9,
			     2, 0, 0, 0, 0x01, 0, 0x5e, 0, 0, 1, 0x33, 0x33, 0, 0, 0, 1),
			 VIRTIO_NET_OK);
	assert_int_equal(cs.nuni, 1);
	assert_int_equal(cs.nmulti, 2);
	assert_false(cs.uni_overflow || cs.multi_overflow);
	/* Empty tables. */
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
			     0, 0, 0, 0, 0, 0, 0, 0), VIRTIO_NET_OK);
	assert_int_equal(cs.nuni + cs.nmulti, 0);
	/* Malformed: no multicast table, a count beyond the data, trailing bytes. */
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
			     0, 0, 0, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
			     1, 0, 0, 0, 2, 1, 1, 1, 1), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
			     0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
			     0, 0, 0, 0, 0, 0, 0, 0, 7), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET,
			     0, 0, 0, 0, 1, 0, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all & ~BIT(VIRTIO_NET_F_CTRL_RX), VIRTIO_NET_CTRL_MAC,
			     VIRTIO_NET_CTRL_MAC_TABLE_SET, 0, 0, 0, 0, 0, 0, 0, 0),
			 VIRTIO_NET_ERR);
	/* More entries than we keep: that table takes everything. */
	memset(buf, 0, sizeof(buf));
	buf[0] = VIRTIO_NET_CTRL_MAC;
	buf[1] = VIRTIO_NET_CTRL_MAC_TABLE_SET;
	buf[2] = 70;
	n = 2 + 4 + 6 * 70;
	buf[n] = 2;
	n += 4 + 12;
	assert_int_equal(cmd(ctrl_all, buf, n, &chg), VIRTIO_NET_OK);
	assert_true(cs.uni_overflow);
	assert_false(cs.multi_overflow);
	assert_int_equal(cs.nmulti, 2);
	assert_true(chg & VNET_CHG_RX);
}

static void t_ctrl_mq_offloads(void **state)
{
	const uint64_t tso = BIT(VIRTIO_NET_F_GUEST_TSO4);
	const uint64_t csum = BIT(VIRTIO_NET_F_GUEST_CSUM);
	unsigned chg;

	vnet_ctrl_reset(&cs, mac0, VNET_GUEST_OFFLOADS);
	assert_int_equal(cmd(ctrl_all, (const uint8_t[]){ VIRTIO_NET_CTRL_MQ,
			 VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, 4, 0 }, 4, &chg), VIRTIO_NET_OK);
	assert_int_equal(cs.pairs, 4);
	assert_int_equal(chg, VNET_CHG_PAIRS);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MQ, 0, 1, 0), VIRTIO_NET_OK);
	assert_int_equal(cs.pairs, 1);
	/* 0 pairs, more than the device has, wrong length, RSS, no MQ. */
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MQ, 0, 0, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MQ, 0, 5, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MQ, 0, 0, 1), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MQ, 0, 2), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MQ, 0, 2, 0, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, 2, 0),
			 VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all & ~BIT(VIRTIO_NET_F_MQ), VIRTIO_NET_CTRL_MQ, 0, 2, 0),
			 VIRTIO_NET_ERR);

	/* Offloads: checksum only, then none, then TSO4 again. */
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0, 2, 0, 0, 0, 0, 0, 0, 0),
			 VIRTIO_NET_OK);
	assert_int_equal(cs.offloads, csum);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0, 0, 0, 0, 0, 0, 0, 0, 0),
			 VIRTIO_NET_OK);
	assert_int_equal(cs.offloads, 0);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0,
			     0x82, 0, 0, 0, 0, 0, 0, 0), VIRTIO_NET_OK);
	assert_int_equal(cs.offloads, csum | tso);
	/* TSO without checksums, a bit never negotiated, a non-offload bit, length. */
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0,
			     0x80, 0, 0, 0, 0, 0, 0, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all & ~tso, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0,
			     0x82, 0, 0, 0, 0, 0, 0, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0,
			     0x22, 0, 0, 0, 0, 0, 0, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0, 2, 0, 0, 0),
			 VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all, VIRTIO_NET_CTRL_GUEST_OFFLOADS, 1,
			     2, 0, 0, 0, 0, 0, 0, 0), VIRTIO_NET_ERR);
	assert_int_equal(CMD(ctrl_all & ~BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS),
			     VIRTIO_NET_CTRL_GUEST_OFFLOADS, 0, 2, 0, 0, 0, 0, 0, 0, 0),
			 VIRTIO_NET_ERR);
}

static void t_rx_filter(void **state)
{
	const uint8_t me[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
	const uint8_t other[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x57 };
	const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const uint8_t mc[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
	const uint8_t mc2[6] = { 0x33, 0x33, 0, 0, 0, 1 };

	vnet_ctrl_reset(&cs, me, 0);
	assert_true(vnet_rx_accept(&cs, other));	/* promiscuous at reset */
	cs.promisc = false;
	assert_true(vnet_rx_accept(&cs, me));
	assert_false(vnet_rx_accept(&cs, other));
	assert_true(vnet_rx_accept(&cs, bcast));
	assert_false(vnet_rx_accept(&cs, mc));
	cs.nmulti = 1;
	memcpy(cs.multi[0], mc, 6);
	assert_true(vnet_rx_accept(&cs, mc));
	assert_false(vnet_rx_accept(&cs, mc2));
	cs.allmulti = true;
	assert_true(vnet_rx_accept(&cs, mc2));
	cs.nomulti = true;
	assert_false(vnet_rx_accept(&cs, mc));
	cs.nobcast = true;
	assert_false(vnet_rx_accept(&cs, bcast));
	cs.nuni = 1;
	memcpy(cs.uni[0], other, 6);
	assert_true(vnet_rx_accept(&cs, other));
	cs.nouni = true;
	assert_false(vnet_rx_accept(&cs, me));
	cs.promisc = true;
	assert_true(vnet_rx_accept(&cs, me));
}

/* ---- the tap back end, in a network namespace of our own ---- */

static bool have_netns;

static int setup_netns(void **state)
{
	log_set_quiet(1);
	have_netns = unshare(CLONE_NEWNET) == 0 && access("/dev/net/tun", R_OK | W_OK) == 0;
	return 0;
}

#define NEED_TAP()							\
	do {								\
		if (!have_netns) {					\
			printf("skip: no CAP_NET_ADMIN or /dev/net/tun here; " \
			       "the tap tests did not run\n");		\
			skip();						\
		}							\
	} while (0)

static void expect_err(const char *opts, const char *msg)
{
	assert_true(object_create(OBJ_NETDEV, opts, NULL) < 0);
	if (!strstr(log_last(), msg))
		fail_msg("'%s': got \"%s\", want \"%s\"", opts, log_last(), msg);
}

static void t_tap_errors(void **state)
{
	int p[2];
	char opt[64];

	expect_err("tap", "id");
	expect_err("tap,id=0bad", "invalid id");
	expect_err("socket,id=s", "unknown type");
	expect_err("tap,id=x,ifname=abcdefghijklmnop", "1 to 15 characters");
	expect_err("tap,id=x,queues=0", "queues");
	expect_err("tap,id=x,queues=17", "queues");
	expect_err("tap,id=x,fd=abc", "not a file descriptor");
	expect_err("tap,id=x,rx-bps=12Q", "rx-bps");
	expect_err("tap,id=x,bogus=1", "bogus");
	assert_int_equal(pipe(p), 0);
	snprintf(opt, sizeof(opt), "tap,id=x,fd=%d", p[0]);
	expect_err(opt, "is not a tap");
	snprintf(opt, sizeof(opt), "tap,id=x,fd=%d,queues=2", p[0]);
	expect_err(opt, "no queues > 1");
	snprintf(opt, sizeof(opt), "tap,id=x,fds=%d:%d", p[0], p[1]);
	expect_err(opt, "is not a tap");
	close(p[0]);
	close(p[1]);
	expect_err("tap,id=x,fd=1000", "not open");
	/* QEMU's helper scripts and vhost fds: each refused by name */
	expect_err("tap,id=x,script=/etc/qemu-ifup", "script=/etc/qemu-ifup: ember runs no helper");
	expect_err("tap,id=x,script=no,downscript=/etc/qemu-ifdown",
		   "downscript=/etc/qemu-ifdown: ember runs no helper");
	expect_err("tap,id=x,vhostfd=4,vhostfds=5:6", "either vhostfd= or vhostfds=");
	expect_err("tap,id=x,vhost=off,vhostfd=4", "vhostfd= needs vhost=on");
	expect_err("tap,id=x,fd=3,fds=3:4", "use fds=");
	expect_err("tap,id=x,fds=x:3", "fd=x is not a file descriptor");
	expect_err("tap,id=x,fds=::", "fds= names no fd");
	expect_err("tap,id=x,fds=3,ifname=t", "no ifname=");
	NEED_TAP();
	expect_err("tap,id=x,ifname=lo", "not a tap");
	assert_int_equal(object_create(OBJ_NETDEV, "tap,id=ok,ifname=embt0", NULL), 0);
	expect_err("tap,id=ok,ifname=embt1", "duplicate id");
	/* Single-queue embt0 is attached: a second opener is refused. */
	expect_err("tap,id=y,ifname=embt0", "busy");
	expect_err("tap,id=z,ifname=embt0,queues=2", "embt0");
	assert_int_equal(netdev_claim(netdev_find("ok"), "-device a"), 0);
	assert_int_equal(netdev_claim(netdev_find("ok"), "-device b"), -EBUSY);
	assert_non_null(strstr(log_last(), "already used by -device a"));
	netdev_release(netdev_find("ok"));
	object_cleanup_all();
	assert_null(netdev_find("ok"));
}

static void t_tap_fd(void **state)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	char opt[64];
	int fd;

	NEED_TAP();
	fd = open("/dev/net/tun", O_RDWR);
	assert_true(fd >= 0);
	strcpy(ifr.ifr_name, "embfd0");
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	snprintf(opt, sizeof(opt), "tap,id=f,fd=%d", fd);
	expect_err(opt, "IFF_VNET_HDR");
	close(fd);

	fd = open("/dev/net/tun", O_RDWR);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	strcpy(ifr.ifr_name, "embfd1");
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	snprintf(opt, sizeof(opt), "tap,id=f,fd=%d,script=no,downscript=no", fd);
	assert_int_equal(object_create(OBJ_NETDEV, opt, NULL), 0);
	assert_int_equal(netdev_fd(netdev_find("f"), 0), fd);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(netdev_take_vhost_fd(netdev_find("f"), 0), -1);
	object_cleanup_all();
	assert_true(fcntl(fd, F_GETFD) < 0);	/* ours to close */
}

/* vhostfd=: a manager's /dev/vhost-net, one per queue pair; it means vhost=on. */
static void t_tap_vhostfd(void **state)
{
	char opt[96];
	int v, v2;

	NEED_TAP();
	v = open("/dev/null", O_RDWR);
	v2 = open("/dev/null", O_RDWR);
	snprintf(opt, sizeof(opt), "tap,id=v,ifname=embv0,vhostfd=%d", v);
	assert_int_equal(object_create(OBJ_NETDEV, opt, NULL), 0);
	assert_true(netdev_vhost(netdev_find("v")));
	assert_true(fcntl(v, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(netdev_take_vhost_fd(netdev_find("v"), 0), v);
	assert_int_equal(netdev_take_vhost_fd(netdev_find("v"), 0), -1);
	object_cleanup_all();
	assert_true(fcntl(v, F_GETFD) >= 0);	/* taken: the taker closes it */
	/* not taken: closed with the netdev */
	snprintf(opt, sizeof(opt), "tap,id=v,ifname=embv0,vhostfds=%d", v2);
	assert_int_equal(object_create(OBJ_NETDEV, opt, NULL), 0);
	object_cleanup_all();
	assert_true(fcntl(v2, F_GETFD) < 0);

	/* a failed netdev closes what it took: a fresh fd each time */
	v2 = dup(v);
	snprintf(opt, sizeof(opt), "tap,id=v,ifname=embv0,vhostfds=%d:%d", v2, v);
	expect_err(opt, "more fds than the 1 queue pairs");
	assert_true(fcntl(v2, F_GETFD) < 0);
	v2 = dup(v);
	snprintf(opt, sizeof(opt), "tap,id=v,ifname=embv0,queues=2,vhostfds=%d", v2);
	expect_err(opt, "1 fds for 2 queue pairs");
	expect_err("tap,id=v,ifname=embv0,vhostfd=999", "'999' is not an open file descriptor");
	expect_err("tap,id=v,ifname=embv0,vhostfds=::", "'' is not an open file descriptor");
	close(v);
}

/* fds=: the queues of one multi-queue tap a manager opened. */
static void t_tap_fds(void **state)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE };
	char opt[64];
	int fd[2];

	NEED_TAP();
	strcpy(ifr.ifr_name, "embfds0");
	for (int i = 0; i < 2; i++) {
		fd[i] = open("/dev/net/tun", O_RDWR);
		assert_true(fd[i] >= 0);
		assert_int_equal(ioctl(fd[i], TUNSETIFF, &ifr), 0);
	}
	snprintf(opt, sizeof(opt), "tap,id=m,fds=%d:%d,queues=3", fd[0], fd[1]);
	expect_err(opt, "queues=3 but fds= has 2");
	snprintf(opt, sizeof(opt), "tap,id=m,fds=%d:%d", fd[0], fd[1]);
	assert_int_equal(object_create(OBJ_NETDEV, opt, NULL), 0);
	assert_int_equal(netdev_queues(netdev_find("m")), 2);
	assert_int_equal(netdev_fd(netdev_find("m"), 1), fd[1]);
	object_cleanup_all();
	assert_true(fcntl(fd[1], F_GETFD) < 0);
}

static void t_tap_mq(void **state)
{
	struct netdev *nd;

	NEED_TAP();
	assert_int_equal(object_create(OBJ_NETDEV, "tap,id=m,ifname=embmq0,queues=4,"
				       "tx-bps=10M,tx-bps-burst=1M,rx-ops=1000", NULL), 0);
	nd = netdev_find("m");
	assert_int_equal(netdev_queues(nd), 4);
	for (unsigned q = 0; q < 4; q++)
		assert_true(netdev_fd(nd, q) >= 0);
	assert_int_equal(netdev_fd(nd, 4), -1);
	assert_int_equal(netdev_tx_limit(nd)->bps, 10 << 20);
	assert_int_equal(netdev_tx_limit(nd)->bps_burst, 1 << 20);
	assert_int_equal(netdev_rx_limit(nd)->ops, 1000);
	assert_int_equal(netdev_rx_limit(nd)->bps, 0);
	assert_int_equal(netdev_set_offload(nd, NETDEV_OFF_CSUM | NETDEV_OFF_TSO4 |
					    NETDEV_OFF_TSO6 | NETDEV_OFF_TSO_ECN), 0);
	assert_int_equal(netdev_enable_queue(nd, 3, false), 0);
	assert_int_equal(netdev_enable_queue(nd, 3, true), 0);
	assert_int_equal(netdev_enable_queue(nd, 3, true), 0);	/* already attached */
	object_cleanup_all();
}

/* Reads one packet (vnet header + frame) from the tap, waiting up to 2 s. */
static ssize_t tap_read(int fd, uint8_t *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, 2000) != 1)
		return -1;
	return read(fd, buf, len);
}

/*
 * Both directions through the kernel: a datagram sent to a neighbour makes
 * the kernel ask for it with ARP on the tap (we read header + frame); a
 * UDP frame we write with a vnet header (checksum left to the kernel,
 * NEEDS_CSUM) reaches a socket.
 */
static void t_tap_packets(void **state)
{
	uint8_t buf[2048], tapmac[6];
	struct virtio_net_hdr_v1 *h = (void *)buf;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	struct netdev *nd;
	int fd, s, r;
	ssize_t n;

	NEED_TAP();
	assert_int_equal(object_create(OBJ_NETDEV, "tap,id=p,ifname=embp0", NULL), 0);
	nd = netdev_find("p");
	fd = netdev_fd(nd, 0);
	/* Writes with NEEDS_CSUM need the offload on the tap. */
	assert_int_equal(netdev_set_offload(nd, NETDEV_OFF_CSUM), 0);
	if_up("embp0", "10.9.0.1");
	s = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "10.9.0.2", &to.sin_addr);
	assert_true(sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) >= 0 ||
		    errno == EHOSTUNREACH);
	/* The first frame the kernel sends might be IPv6 noise: look for ARP. */
	for (int i = 0;; i++) {
		assert_true(i < 10);
		n = tap_read(fd, buf, sizeof(buf));
		assert_true(n > VNET_HDR_LEN + VNET_ETH_HLEN);
		if (buf[VNET_HDR_LEN + 12] == 0x08 && buf[VNET_HDR_LEN + 13] == 0x06)
			break;
	}
	assert_int_equal(h->gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_memory_equal(buf + VNET_HDR_LEN, "\xff\xff\xff\xff\xff\xff", 6);
	memcpy(tapmac, buf + VNET_HDR_LEN + 6, 6);
	close(s);

	/* Write a UDP datagram from 10.9.0.2 to 10.9.0.1:5555. */
	s = socket(AF_INET, SOCK_DGRAM, 0);
	to.sin_port = htons(5555);
	to.sin_addr.s_addr = htonl(INADDR_ANY);
	assert_int_equal(bind(s, (struct sockaddr *)&to, sizeof(to)), 0);
	memset(buf, 0, sizeof(buf));
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->csum_start = htole16(14 + 20);
	h->csum_offset = htole16(6);
	{
		uint8_t *f = buf + VNET_HDR_LEN, *ip = f + 14, *udp = ip + 20;
		const uint8_t src[4] = { 10, 9, 0, 2 }, dst[4] = { 10, 9, 0, 1 };

		memcpy(f, tapmac, 6);
		memcpy(f + 6, "\x02\x00\x00\x00\x00\x02", 6);
		f[12] = 0x08;
		ip[0] = 0x45;
		ip[3] = 20 + 8 + 5;
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
		r = ip_csum(ip, 20);
		ip[10] = r >> 8;
		ip[11] = r;
		udp[0] = 0x30;
		udp[1] = 0x39;
		udp[2] = 5555 >> 8;
		udp[3] = 5555 & 0xff;
		udp[5] = 8 + 5;
		/* The pseudo-header sum, as a driver leaves it with NEEDS_CSUM. */
		r = (10 << 8 | 9) + 2 + (10 << 8 | 9) + 1 + 17 + 13;
		udp[6] = r >> 8;
		udp[7] = r;
		memcpy(udp + 8, "hello", 5);
		n = VNET_HDR_LEN + 14 + 20 + 8 + 5;
	}
	assert_int_equal(write(fd, buf, n), n);
	{
		struct pollfd pfd = { .fd = s, .events = POLLIN };
		char got[16] = { 0 };

		assert_int_equal(poll(&pfd, 1, 2000), 1);
		assert_int_equal(recv(s, got, sizeof(got), 0), 5);
		assert_string_equal(got, "hello");
	}
	close(s);
	object_cleanup_all();
}

/* -netdev vhost-user: the daemon's offloads pass through, less what depends on a missing one. */
static void t_vu_features(void **state)
{
	const uint64_t own = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
			     BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_MAC_ADDR);
	uint64_t all = ~0ull, f;

	/* Everything offered: the data features, ember's own, MQ with pairs > 1. */
	f = vnet_vu_features(all, 1);
	assert_int_equal(f, VNET_VU_DATA_FEATURES | own);
	assert_int_equal(vnet_vu_features(all, 2), f | BIT(VIRTIO_NET_F_MQ));
	/* Never the receive filters or offload changes: ember sees no packet. */
	assert_false(f & (BIT(VIRTIO_NET_F_CTRL_RX) | BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) |
			  BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | BIT(VIRTIO_NET_F_CTRL_VLAN)));
	/* A bare daemon: only ember's. */
	assert_int_equal(vnet_vu_features(0, 1), own);
	/* Guest TSO without GUEST_CSUM, host TSO without CSUM: dropped. */
	f = vnet_vu_features(BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO4) |
			     BIT(VIRTIO_NET_F_MRG_RXBUF), 1);
	assert_int_equal(f, own | BIT(VIRTIO_NET_F_MRG_RXBUF));
	/* ECN without TSO: dropped; with it: kept. */
	f = vnet_vu_features(BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_GUEST_ECN) |
			     BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_ECN), 1);
	assert_int_equal(f, own | BIT(VIRTIO_NET_F_GUEST_CSUM) | BIT(VIRTIO_NET_F_CSUM));
	f = vnet_vu_features(BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO6) |
			     BIT(VIRTIO_NET_F_HOST_ECN), 1);
	assert_int_equal(f, own | BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_HOST_TSO6) |
			    BIT(VIRTIO_NET_F_HOST_ECN));
}

/* -netdev vhost-user's options. */
static void t_vu_netdev(void **state)
{
	const struct netdev_vu *vu;

	expect_err("vhost-user,id=v", "chardev");
	expect_err("vhost-user,id=v,chardev=c,queues=0", "queues");
	expect_err("vhost-user,id=v,chardev=c,queues=17", "queues");
	expect_err("vhost-user,id=v,chardev=c,vhost=on", "vhost");
	assert_int_equal(object_create(OBJ_NETDEV, "vhost-user,id=v,chardev=c0", NULL), 0);
	vu = netdev_vhost_user(netdev_find("v"));
	assert_non_null(vu);
	assert_string_equal(vu->chardev, "c0");
	assert_int_equal(vu->queues, 1);
	assert_int_equal(object_create(OBJ_NETDEV, "vhost-user,id=w,chardev=c1,queues=4", NULL), 0);
	vu = netdev_vhost_user(netdev_find("w"));
	assert_non_null(vu);
	assert_int_equal(vu->queues, 4);
	assert_int_equal(netdev_claim(netdev_find("w"), "-device a"), 0);
	assert_int_equal(netdev_claim(netdev_find("w"), "-device b"), -EBUSY);
	netdev_release(netdev_find("w"));
	object_cleanup_all();
	assert_null(netdev_find("v"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_vu_features),
		cmocka_unit_test(t_vu_netdev),
		cmocka_unit_test(t_tx_check),
		cmocka_unit_test(t_iov),
		cmocka_unit_test(t_rx_split),
		cmocka_unit_test(t_rx_buffers),
		cmocka_unit_test(t_ctrl_rx),
		cmocka_unit_test(t_ctrl_mac),
		cmocka_unit_test(t_ctrl_mq_offloads),
		cmocka_unit_test(t_rx_filter),
		cmocka_unit_test(t_tap_errors),
		cmocka_unit_test(t_tap_fd),
		cmocka_unit_test(t_tap_fds),
		cmocka_unit_test(t_tap_vhostfd),
		cmocka_unit_test(t_tap_mq),
		cmocka_unit_test(t_tap_packets),
	};

	return cmocka_run_group_tests(tests, setup_netns, NULL);
}
