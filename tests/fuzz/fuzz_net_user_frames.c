/*
 * A hostile guest's frames into -netdev user: ember's glue and libslirp's
 * parsers (ARP, IPv4/IPv6, ICMP, UDP with DHCP/BOOTP and DNS, TCP) take
 * whatever the guest's tx queue carries. restrict=on keeps slirp from
 * opening connections to the outside while it parses.
 * Input: frames, each a little-endian 16-bit length (at most 1514 + 4) and
 * that many bytes; whatever slirp answers is drained and checked to be a
 * plausible Ethernet frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/net.h"
#include "backends/object.h"
#include "lib/log.h"
#include "lib/loop.h"

#define MAX_FRAME (1514 + 4)

static struct netdev_user *u;

static struct netdev_user *make(void)
{
	struct loop *lp;
	struct netdev *nd;

	log_set_quiet(1);
	lp = loop_new();
	if (!lp || object_create(OBJ_NETDEV, "user,id=fz,restrict=on", lp))
		abort();
	nd = netdev_find("fz");
	if (!nd || !netdev_user(nd))
		abort();
	return netdev_user(nd);
}

static void drain(void)
{
	const uint8_t *r;
	size_t len;

	while ((r = netdev_user_peek(u, &len))) {
		/* slirp's replies: at least an Ethernet header, at most what its MTU allows. */
		if (len < 14 || len > 65536 + 14)
			abort();
		netdev_user_pop(u);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!u)
		u = make();
	while (size >= 2) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8;

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		if (len > MAX_FRAME)
			len = MAX_FRAME;
		/* An exact-size copy, so that ASan sees any read past the frame's end. */
		uint8_t *frame = malloc(len ? len : 1);

		if (!frame)
			return 0;
		memcpy(frame, data, len);
		netdev_user_send(u, frame, len);
		free(frame);
		drain();
		data += len;
		size -= len;
	}
	drain();
	return 0;
}
