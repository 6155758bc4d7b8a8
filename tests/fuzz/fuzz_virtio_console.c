/*
 * virtio-console's control queue from a hostile driver: arbitrary control
 * messages, split over arbitrary segments, interleaved with receive
 * buffers of arbitrary sizes and resets, on a bus with a few ports. The
 * protocol's invariants are checked after every step; every buffer is a
 * heap block of exactly its size so ASan sees any write past it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/util.h"
#include "virtio/console.h"

static struct vcon_proto p;

static void check(void)
{
	if (p.out_count > VCON_OUT_MAX || p.out_head >= VCON_OUT_MAX)
		abort();
	for (unsigned i = 0; i < VCON_MAX_PORTS; i++) {
		const struct vcon_port *q = &p.ports[i];

		/* open => ready => added => present, and only while the driver is up */
		if ((q->guest_open && !q->ready) || (q->ready && !q->added) ||
		    (q->added && (!q->present || !p.driver_ready)) ||
		    (vcon_port_open(&p, i) && !q->present))
			abort();
	}
}

/* Splits @len bytes of @data into up to 4 segments, copied to exact heap blocks. */
static unsigned split(const uint8_t *data, size_t len, uint8_t cuts, struct iovec *iov)
{
	unsigned n = 0;
	size_t off = 0;

	while (off < len && n < 4) {
		size_t k = n == 3 ? len - off : MIN(len - off, (size_t)((cuts >> (2 * n)) & 3) + 1);

		iov[n].iov_base = malloc(k);
		memcpy(iov[n].iov_base, data + off, k);
		iov[n++].iov_len = k;
		off += k;
	}
	return n;
}

static void free_iov(struct iovec *iov, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		free(iov[i].iov_base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "", "org.example.port", "x" };
	struct iovec iov[4];
	struct vcon_msg m;
	char why[96];
	unsigned n;

	log_set_quiet(1);
	if (size < 2)
		return 0;
	vcon_init(&p, data[0] % (VCON_MAX_PORTS + 1));
	/* Plug ports as the device would, QEMU's numbering. */
	for (unsigned i = 0; i < 8; i++) {
		bool console = data[1] >> i & 1;
		const char *name = names[i % 3];
		int nr = vcon_pick_nr(&p, -1, console, name[0] ? name : NULL, why, sizeof(why));

		if (nr < 0)
			continue;
		p.ports[nr].present = true;
		p.ports[nr].console = console;
		strcpy(p.ports[nr].name, name);
	}
	data += 2;
	size -= 2;
	while (size >= 2) {
		uint8_t op = data[0], arg = data[1];

		data += 2;
		size -= 2;
		switch (op % 4) {
		case 0:		/* the driver sends a message of arg % 12 bytes */
		case 1: {
			size_t len = MIN((size_t)(arg % 12), size);

			n = split(data, len, op >> 2, iov);
			data += len;
			size -= len;
			if (!vcon_ctrl_read(iov, n, &m))
				vcon_ctrl_handle(&p, &m, why, sizeof(why));
			free_iov(iov, n);
			break;
		}
		case 2: {	/* a receive buffer of arg bytes in up to 4 segments */
			uint8_t *zero = calloc(1, arg + 1);
			int len;

			n = split(zero, arg, op >> 2, iov);
			len = vcon_ctrl_next(&p, iov, n);
			if (len > arg || (len < 0 && arg >= VCON_CTRL_SIZE))
				abort();
			free_iov(iov, n);
			free(zero);
			break;
		}
		default:
			if (arg & 1)
				vcon_reset(&p);
			else
				p.multiport = arg & 2;
			break;
		}
		check();
	}
	return 0;
}
