/*
 * NVMe commands from arbitrary bytes: a 64-byte submission entry and the
 * contents of guest RAM (two regions with a hole between them, where PRP
 * lists, SGL segments and their entries point), through the PRP/SGL mapper, the read/write
 * decoder and the DSM range decoder. A mapped buffer must lie in guest
 * RAM and add up to the length asked for; a decoded range must lie inside
 * the namespace.
 */
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include "devices/nvme.h"
#include "kvm/gmem.h"
#include "lib/log.h"

#define LO_GPA	0x0ull
#define HI_GPA	0x100000000ull
/* One arena with a page between the two regions: no piece may join them. */
static uint8_t arena[(64 + 1 + 16) * 4096] __attribute__((aligned(4096)));
#define lo_size	(64 * 4096)
#define hi_size	(16 * 4096)
static uint8_t *const lo = arena, *const hi = arena + lo_size + 4096;
static struct gmem mem;
static struct iovec iov[NVME_MAX_IOV];

static int inside(const struct iovec *v)
{
	const uint8_t *p = v->iov_base;

	return (p >= lo && p + v->iov_len <= lo + lo_size) ||
	       (p >= hi && p + v->iov_len <= hi + hi_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvme_ns_geom g;
	struct nvme_sqe c;
	struct nvme_rw rw;
	struct nvme_dsm_range r;
	uint64_t len, total = 0, off, rlen;
	unsigned n;

	log_set_quiet(1);
	if (!mem.nr) {
		gmem_add(&mem, LO_GPA, lo_size, lo, -1, 0);
		gmem_add(&mem, HI_GPA, hi_size, hi, -1, 0);
	}
	if (size < sizeof(c) + 8 + 9)
		return 0;
	memcpy(&c, data, sizeof(c));
	memcpy(&len, data + sizeof(c), 8);
	g.nlbas = data[sizeof(c) + 8] ? (uint64_t)data[sizeof(c) + 8] << 12 : UINT64_MAX >> 12;
	g.lbads = 9 + data[sizeof(c) + 9] % 4;
	g.ro = data[sizeof(c) + 10] & 1;
	data += sizeof(c) + 11;
	size -= sizeof(c) + 11;
	/* The rest is guest RAM: where lists and list entries are read from. */
	memset(lo, 0, lo_size);
	memcpy(lo, data, size < lo_size ? size : lo_size);
	if (size > lo_size)
		memcpy(hi, data + lo_size, size - lo_size < hi_size ? size - lo_size : hi_size);
	/* Guest addresses near both regions and the hole, from the entry's bits. */
	c.prp1 = (c.prp1 & 1) ? HI_GPA + (c.prp1 >> 1) % (hi_size + 8192)
			      : (c.prp1 >> 1) % (lo_size + 8192);
	if (!(c.flags >> 6))
		c.prp2 = (c.prp2 & 1) ? HI_GPA + (c.prp2 >> 1) % (hi_size + 8192)
				      : (c.prp2 >> 1) % (lo_size + 8192);
	else	/* SGL1: its type byte as given, a length near a page */
		c.prp2 = (c.prp2 & 0xff00000000000000ull) | (c.prp2 & 0x1fff);
	len %= NVME_MAX_XFER + 8192;

	if (!nvme_map_prp(&mem, &c, len, iov, &n)) {
		if (n > NVME_MAX_IOV)
			__builtin_trap();
		for (unsigned i = 0; i < n; i++) {
			if (!inside(&iov[i]))
				__builtin_trap();
			total += iov[i].iov_len;
		}
		if (total != len)
			__builtin_trap();
	}
	if (!nvme_decode_rw(&c, &g, &rw) &&
	    (rw.offset + rw.len < rw.offset || rw.offset + rw.len > g.nlbas << g.lbads))
		__builtin_trap();
	memcpy(&r, &c.cdw10, sizeof(r));
	if (!nvme_decode_range(&r, &g, &off, &rlen) && rlen &&
	    (off + rlen < off || off + rlen > g.nlbas << g.lbads))
		__builtin_trap();
	return 0;
}
