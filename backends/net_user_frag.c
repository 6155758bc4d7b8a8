/*
 * IPv4 reassembly in front of libslirp, so that slirp never sees a fragment.
 *
 * Why: libslirp 4.7.0 (Debian 12's) dies on one frame from the guest, a
 * last fragment (offset > 0, no MF) that arrives before the first: its
 * ip_reass() takes the lone fragment for a whole datagram and follows bad
 * list pointers (SIGSEGV/SIGBUS in ember; found by fuzz_net_user_frames,
 * reproduced with a 20-line program that calls libslirp alone). Filtering
 * such frames would have to mirror every check slirp makes before it
 * reassembles and the timeouts of its queue; reassembling here instead is
 * small, bounded and fuzzed with the rest of ember.
 *
 * Bounds: FRAG_SLOTS datagrams at once (the oldest gives way), 64 KiB
 * each, allocated when their first fragment comes and freed when whole,
 * overlapping, malformed or older than FRAG_TIMEOUT_NS. A guest's own
 * stack sends fragments in order and without overlap; anything else is
 * dropped and counted, as Linux drops overlapping fragments.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "backends/net_user_frag.h"

#define ETH_HLEN 14
#define BLOCKS (FRAG_MAX_IP / 8 + 1)

struct frag_slot {
	uint32_t src, dst;
	uint16_t id;
	uint8_t proto;
	int64_t born_ns;
	unsigned hlen;		/* of the first fragment's header; 0: not seen yet */
	unsigned total;		/* payload length, known from the last fragment; 0: not yet */
	uint8_t eth[ETH_HLEN];
	uint8_t hdr[60];
	uint8_t seen[BLOCKS / 8 + 1];	/* which 8-byte blocks of payload came */
	uint8_t data[FRAG_MAX_IP];
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t ip_sum(const uint8_t *p, unsigned len)
{
	uint32_t s = 0;

	for (unsigned i = 0; i + 1 < len; i += 2)
		s += get16(p + i);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void drop_slot(struct frag_table *t, unsigned i)
{
	free(t->slot[i]);
	t->slot[i] = NULL;
}

/* The slot of this datagram, a new one, or NULL when no memory. */
static struct frag_slot *find_slot(struct frag_table *t, const uint8_t *ip, int64_t now)
{
	uint32_t src = get32(ip + 12), dst = get32(ip + 16);
	uint16_t id = get16(ip + 4);
	unsigned i, free_i = FRAG_SLOTS, oldest = FRAG_SLOTS;
	struct frag_slot *s;

	for (i = 0; i < FRAG_SLOTS; i++) {
		s = t->slot[i];
		if (s && now - s->born_ns > FRAG_TIMEOUT_NS) {
			t->dropped++;
			drop_slot(t, i);
			s = NULL;
		}
		if (!s) {
			free_i = i;
			continue;
		}
		if (s->src == src && s->dst == dst && s->id == id && s->proto == ip[9])
			return s;
		if (oldest == FRAG_SLOTS || s->born_ns < t->slot[oldest]->born_ns)
			oldest = i;
	}
	if (free_i == FRAG_SLOTS) {
		t->dropped++;
		drop_slot(t, oldest);
		free_i = oldest;
	}
	/* calloc: the bitmap must start clear; the data area is written before it is read. */
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->src = src;
	s->dst = dst;
	s->id = id;
	s->proto = ip[9];
	s->born_ns = now;
	t->slot[free_i] = s;
	return s;
}

static unsigned slot_index(struct frag_table *t, struct frag_slot *s)
{
	unsigned i = 0;

	while (t->slot[i] != s)
		i++;
	return i;
}

/* Marks blocks [first, last); false when one of them was already there. */
static bool mark(struct frag_slot *s, unsigned first, unsigned last)
{
	for (unsigned b = first; b < last; b++) {
		if (s->seen[b / 8] & 1u << (b % 8))
			return false;
		s->seen[b / 8] |= (uint8_t)(1u << (b % 8));
	}
	return true;
}

static bool whole(const struct frag_slot *s)
{
	unsigned blocks = (s->total + 7) / 8;

	if (!s->hlen || !s->total)
		return false;
	for (unsigned b = 0; b < blocks; b++)
		if (!(s->seen[b / 8] & 1u << (b % 8)))
			return false;
	return true;
}

static enum frag_result emit(struct frag_table *t, struct frag_slot *s,
			     const uint8_t **out, size_t *out_len)
{
	size_t iplen = s->hlen + s->total;
	uint8_t *f;

	if (!t->out && !(t->out = malloc(ETH_HLEN + FRAG_MAX_IP)))
		return FRAG_DROP;
	f = t->out;
	memcpy(f, s->eth, ETH_HLEN);
	memcpy(f + ETH_HLEN, s->hdr, s->hlen);
	memcpy(f + ETH_HLEN + s->hlen, s->data, s->total);
	f[ETH_HLEN + 2] = (uint8_t)(iplen >> 8);
	f[ETH_HLEN + 3] = (uint8_t)iplen;
	f[ETH_HLEN + 6] = 0;	/* no MF, offset 0 (DF is meaningless now) */
	f[ETH_HLEN + 7] = 0;
	f[ETH_HLEN + 10] = f[ETH_HLEN + 11] = 0;
	uint16_t sum = ip_sum(f + ETH_HLEN, s->hlen);
	f[ETH_HLEN + 10] = (uint8_t)(sum >> 8);
	f[ETH_HLEN + 11] = (uint8_t)sum;
	*out = f;
	*out_len = ETH_HLEN + iplen;
	return FRAG_WHOLE;
}

enum frag_result frag_input(struct frag_table *t, const uint8_t *frame, size_t len,
			    int64_t now_ns, const uint8_t **out, size_t *out_len)
{
	const uint8_t *ip = frame + ETH_HLEN;
	unsigned hlen, iplen, off, plen, frag;
	struct frag_slot *s;
	bool more;

	if (len < ETH_HLEN + 20 || get16(frame + 12) != 0x0800 || ip[0] >> 4 != 4)
		return FRAG_PASS;
	frag = get16(ip + 6);
	if (!(frag & 0x3fff))
		return FRAG_PASS;
	/* A fragment: slirp must not see it, whole or not. */
	hlen = (ip[0] & 0xf) * 4u;
	iplen = get16(ip + 2);
	if (hlen < 20 || iplen < hlen || iplen > len - ETH_HLEN || ip[8] == 0 ||
	    ip_sum(ip, hlen) != 0)
		goto bad;
	more = frag & 0x2000;
	off = (frag & 0x1fff) * 8u;
	plen = iplen - hlen;
	if (!plen || (more && plen % 8) || off + plen + hlen > FRAG_MAX_IP)
		goto bad;
	s = find_slot(t, ip, now_ns);
	if (!s)
		goto bad;
	if (!mark(s, off / 8, (off + plen + 7) / 8) || (!more && s->total) ||
	    (s->total && off + plen > s->total))
		goto bad_slot;
	if (!more) {
		/* Blocks already past the end mean an overlap with what this says is the end. */
		for (unsigned b = (off + plen + 7) / 8; b < BLOCKS; b++)
			if (s->seen[b / 8] & 1u << (b % 8))
				goto bad_slot;
		s->total = off + plen;
	}
	if (off == 0) {
		memcpy(s->eth, frame, ETH_HLEN);
		memcpy(s->hdr, ip, hlen);
		s->hlen = hlen;
	}
	if (s->hlen && s->hlen + (s->total ? s->total : off + plen) > FRAG_MAX_IP)
		goto bad_slot;
	memcpy(s->data + off, ip + hlen, plen);
	if (!whole(s))
		return FRAG_HELD;
	enum frag_result r = emit(t, s, out, out_len);

	drop_slot(t, slot_index(t, s));
	return r;

bad_slot:
	drop_slot(t, slot_index(t, s));
bad:
	t->dropped++;
	return FRAG_DROP;
}

void frag_free(struct frag_table *t)
{
	for (unsigned i = 0; i < FRAG_SLOTS; i++)
		drop_slot(t, i);
	free(t->out);
	t->out = NULL;
}
