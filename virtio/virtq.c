/*
 * Split and packed virtqueues (virtio 1.2, 2.7 and 2.8).
 *
 * The driver writes the rings from other CPUs while we read them, so every
 * value is copied out of guest memory once (copy_in, or an atomic load) and
 * only the copy is checked and used: a guest that rewrites a descriptor
 * under us gets whatever it wrote first, never an unchecked pointer.
 *
 * Ring areas are looked up with gmem_ptr() on each use rather than cached:
 * the table is a handful of regions, and it keeps gmem the only place that
 * turns a guest address into a host pointer. Integers are little-endian in
 * the rings, as on the x86 hosts ember runs on.
 *
 * A malformed ring marks the queue broken and returns -EIO; the device then
 * calls virtio_needs_reset(), which tells the user once. The detail goes to
 * the debug log only, so a guest cannot flood the log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/virtio_ring.h>

#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"
#include "virtio/virtio.h"
#include "virtio/virtq.h"

#define DESC_SIZE	16u
#define AVAIL_F		(1u << VRING_PACKED_DESC_F_AVAIL)
#define USED_F		(1u << VRING_PACKED_DESC_F_USED)
#define WRAP_BIT	(1u << VRING_PACKED_EVENT_F_WRAP_CTR)

/* Sizes of the areas (2.7 and 2.8), with the event fields always counted. */
static uint64_t desc_bytes(const struct virtq *vq) { return (uint64_t)DESC_SIZE * vq->size; }
static uint64_t avail_bytes(const struct virtq *vq) { return 6 + 2ull * vq->size; }
static uint64_t used_bytes(const struct virtq *vq) { return 6 + 8ull * vq->size; }

/* READ_ONCE for a structure: the barrier stops the compiler re-reading @src. */
static void copy_in(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
	__asm__ __volatile__("" ::: "memory");
}

static uint16_t load16(const uint8_t *p, int order)
{
	return __atomic_load_n((const uint16_t *)p, order);
}

static void store16(uint8_t *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)p, v, order);
}

static void store32(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

static int __attribute__((format(printf, 2, 3))) broken(struct virtq *vq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vq->why, sizeof(vq->why), fmt, ap);
	va_end(ap);
	__atomic_store_n(&vq->broken, true, __ATOMIC_RELAXED);
	debug_msg("virtqueue %u: %s", vq->index, vq->why);
	return -EIO;
}

static int bad_start(struct virtq *vq, const char *what, uint64_t gpa)
{
	snprintf(vq->why, sizeof(vq->why), "%s at %#llx is misaligned or outside guest RAM",
		 what, (unsigned long long)gpa);
	debug_msg("virtqueue %u: %s", vq->index, vq->why);
	return -EINVAL;
}

int virtq_start(struct virtq *vq, struct gmem *mem, bool packed, bool event_idx,
		bool indirect)
{
	uint64_t dalign = 16, ralign = packed ? 4 : 2, ualign = 4;
	uint64_t rlen = packed ? 4 : avail_bytes(vq), ulen = packed ? 4 : used_bytes(vq);

	vq->mem = NULL;
	if (!mem)
		return -EINVAL;
	if (!vq->size || vq->size > VIRTQ_MAX_SIZE ||
	    (!packed && (vq->size & (vq->size - 1)))) {
		snprintf(vq->why, sizeof(vq->why), "size %u is not valid for a %s ring",
			 vq->size, packed ? "packed" : "split");
		debug_msg("virtqueue %u: %s", vq->index, vq->why);
		return -EINVAL;
	}
	if (!IS_ALIGNED(vq->desc_gpa, dalign) || !gmem_ptr(mem, vq->desc_gpa, desc_bytes(vq)))
		return bad_start(vq, "descriptor area", vq->desc_gpa);
	if (!IS_ALIGNED(vq->driver_gpa, ralign) || !gmem_ptr(mem, vq->driver_gpa, rlen))
		return bad_start(vq, "driver area", vq->driver_gpa);
	if (!IS_ALIGNED(vq->device_gpa, ualign) || !gmem_ptr(mem, vq->device_gpa, ulen))
		return bad_start(vq, "device area", vq->device_gpa);

	vq->packed = packed;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	vq->last_avail = vq->used_idx = vq->signalled_used = 0;
	vq->avail_wrap = vq->used_wrap = true;
	vq->signalled_valid = false;
	vq->broken = false;
	vq->mem = mem;
	return 0;
}

/* Forgets the driver's setup; the transport's fds and the index stay. */
void virtq_reset(struct virtq *vq)
{
	unsigned index = vq->index;
	int kick_fd = vq->kick_fd, call_fd = vq->call_fd;

	memset(vq, 0, sizeof(*vq));
	vq->index = index;
	vq->kick_fd = kick_fd;
	vq->call_fd = call_fd;
	vq->msix_vector = VIRTIO_NO_VECTOR;
	vq->avail_wrap = vq->used_wrap = true;
}

/* A chain being collected into @e. */
struct walk {
	struct virtq_elem *e;
	unsigned ndescs;	/* buffer descriptors, zero-length ones too */
	bool seen_write;
};

static int add_buf(struct virtq *vq, struct walk *w, uint64_t addr, uint32_t len,
		   bool write)
{
	struct virtq_elem *e = w->e;
	uint32_t *total = write ? &e->in_len : &e->out_len;
	void *p;

	if (++w->ndescs > VIRTQ_MAX_IOV)
		return broken(vq, "chain longer than %d descriptors", VIRTQ_MAX_IOV);
	if (!write && w->seen_write)
		return broken(vq, "device-readable descriptor after a writable one");
	w->seen_write |= write;
	if (!len)
		return 0;
	p = gmem_ptr(vq->mem, addr, len);
	if (!p)
		return broken(vq, "buffer %#llx+%#x is outside guest RAM",
			      (unsigned long long)addr, len);
	if (len > UINT32_MAX - *total)
		return broken(vq, "chain longer than 4 GiB");
	*total += len;
	/* ndescs bounds the iov count, so this index is in range. */
	e->iov[e->out_num + e->in_num] = (struct iovec){ .iov_base = p, .iov_len = len };
	if (write)
		e->in_num++;
	else
		e->out_num++;
	return 0;
}

/* Checks an indirect descriptor; returns the table's entry count or -EIO. */
static long indirect_table(struct virtq *vq, uint64_t addr, uint32_t len, uint16_t flags,
			   const uint8_t **table)
{
	if (!vq->indirect)
		return broken(vq, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
	if (flags & VRING_DESC_F_NEXT)
		return broken(vq, "indirect descriptor with NEXT set");
	if (!len || len % DESC_SIZE)
		return broken(vq, "indirect table length %#x is not a multiple of 16", len);
	*table = gmem_ptr(vq->mem, addr, len);
	if (!*table)
		return broken(vq, "indirect table %#llx+%#x is outside guest RAM",
			      (unsigned long long)addr, len);
	return len / DESC_SIZE;
}

/* Only when there is a chain: a caller's element survives an empty pop. */
static void elem_init(struct virtq_elem *e)
{
	e->out_num = e->in_num = 0;
	e->out_len = e->in_len = 0;
}

/* --- split ring --- */

/*
 * Walks from @head through the descriptor table and at most one indirect
 * table. Steps are bounded by the table in use, so a loop ends as an error.
 */
static int split_chain(struct virtq *vq, const uint8_t *ring, uint16_t head,
		       struct virtq_elem *e)
{
	struct walk w = { .e = e };
	const uint8_t *table = ring;
	unsigned n = vq->size, i = head, steps = 0;
	bool in_indirect = false;

	for (;;) {
		struct vring_desc d;

		if (i >= n)
			return broken(vq, "descriptor index %u out of range (%u)", i, n);
		if (++steps > n)
			return broken(vq, "descriptor chain loops or is longer than its table (%u)", n);
		copy_in(&d, table + (size_t)i * DESC_SIZE, sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			long cnt;

			if (in_indirect)
				return broken(vq, "indirect descriptor inside an indirect table");
			cnt = indirect_table(vq, d.addr, d.len, d.flags, &table);
			if (cnt < 0)
				return cnt;
			n = cnt;
			i = steps = 0;
			in_indirect = true;
			continue;
		}
		if (add_buf(vq, &w, d.addr, d.len, d.flags & VRING_DESC_F_WRITE))
			return -EIO;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

static int split_pop(struct virtq *vq, struct virtq_elem *e)
{
	const uint8_t *ring = gmem_ptr(vq->mem, vq->desc_gpa, desc_bytes(vq));
	const uint8_t *avail = gmem_ptr(vq->mem, vq->driver_gpa, avail_bytes(vq));
	uint16_t idx, pending, head;

	if (!ring || !avail)
		return broken(vq, "ring no longer in guest RAM");
	/* Acquire: the ring entry and descriptors were written before idx. */
	idx = load16(avail + 2, __ATOMIC_ACQUIRE);
	if (idx == vq->last_avail && vq->event_idx) {
		virtq_set_notification(vq, true);
		idx = load16(avail + 2, __ATOMIC_ACQUIRE);
	}
	pending = idx - vq->last_avail;
	if (!pending)
		return 0;
	if (pending > vq->size)
		return broken(vq, "impossible avail index jump (%u -> %u)", vq->last_avail, idx);
	head = load16(avail + 4 + 2 * (vq->last_avail & (vq->size - 1)), __ATOMIC_RELAXED);
	elem_init(e);
	if (split_chain(vq, ring, head, e))
		return -EIO;
	e->id = head;
	e->ndescs = 1;
	vq->last_avail++;
	return 1;
}

static void split_push(struct virtq *vq, const struct virtq_elem *e, uint32_t len)
{
	uint8_t *used = gmem_ptr(vq->mem, vq->device_gpa, used_bytes(vq));
	uint8_t *slot;

	if (!used) {
		broken(vq, "ring no longer in guest RAM");
		return;
	}
	slot = used + 4 + 8 * (vq->used_idx & (vq->size - 1));
	store32(slot, e->id);
	store32(slot + 4, len);
	vq->used_idx++;
	/* Release: the entry is visible before the index that publishes it. */
	store16(used + 2, vq->used_idx, __ATOMIC_RELEASE);
}

int virtq_used_idx_in_ram(const struct virtq *vq, struct gmem *mem, uint16_t *idx)
{
	struct virtq q = *vq;
	const uint8_t *used;

	if (vq->packed || !vq->size)
		return -EINVAL;
	used = gmem_ptr(mem, q.device_gpa, used_bytes(&q));
	if (!used)
		return -EFAULT;
	*idx = load16(used + 2, __ATOMIC_ACQUIRE);
	return 0;
}

static bool split_should_notify(struct virtq *vq)
{
	const uint8_t *avail = gmem_ptr(vq->mem, vq->driver_gpa, avail_bytes(vq));
	uint16_t old = vq->signalled_used, ev;
	bool valid = vq->signalled_valid;

	if (!avail)
		return false;
	if (!vq->event_idx)
		return !(load16(avail, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
	ev = load16(avail + 4 + 2 * vq->size, __ATOMIC_RELAXED);
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	return !valid || vring_need_event(ev, vq->used_idx, old);
}

static void split_set_notification(struct virtq *vq, bool enable)
{
	uint8_t *used = gmem_ptr(vq->mem, vq->device_gpa, used_bytes(vq));
	const uint8_t *avail = gmem_ptr(vq->mem, vq->driver_gpa, avail_bytes(vq));

	if (!used || !avail)
		return;
	if (!vq->event_idx)
		store16(used, enable ? 0 : VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
	else if (enable)	/* kick me for anything after what is there now */
		store16(used + 4 + 8 * vq->size, load16(avail + 2, __ATOMIC_RELAXED),
			__ATOMIC_RELAXED);
}

/* --- packed ring --- */

static bool packed_avail(uint16_t flags, bool wrap)
{
	return !!(flags & AVAIL_F) == wrap && !!(flags & USED_F) != wrap;
}

/*
 * The chain runs through consecutive ring slots (wrapping) while NEXT is
 * set; an indirect descriptor ends it, and its table is used whole (the
 * spec reserves every flag but WRITE there). The buffer id is the last
 * ring descriptor's.
 */
static int packed_chain(struct virtq *vq, const uint8_t *ring, struct virtq_elem *e)
{
	struct walk w = { .e = e };
	unsigned i = vq->last_avail, ndescs = 0;
	bool wrap = vq->avail_wrap;
	struct vring_packed_desc d;

	for (;;) {
		if (++ndescs > vq->size)
			return broken(vq, "descriptor chain longer than the queue (%u)", vq->size);
		copy_in(&d, ring + (size_t)i * DESC_SIZE, sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			const uint8_t *table;
			long cnt = indirect_table(vq, d.addr, d.len, d.flags, &table);

			if (cnt < 0)
				return cnt;
			for (long j = 0; j < cnt; j++) {
				struct vring_packed_desc t;

				copy_in(&t, table + j * DESC_SIZE, sizeof(t));
				if (add_buf(vq, &w, t.addr, t.len, t.flags & VRING_DESC_F_WRITE))
					return -EIO;
			}
		} else if (add_buf(vq, &w, d.addr, d.len, d.flags & VRING_DESC_F_WRITE)) {
			return -EIO;
		}
		if (++i == vq->size) {
			i = 0;
			wrap = !wrap;
		}
		if (!(d.flags & VRING_DESC_F_NEXT) || (d.flags & VRING_DESC_F_INDIRECT))
			break;
	}
	e->id = d.id;
	e->ndescs = ndescs;
	vq->last_avail = i;
	vq->avail_wrap = wrap;
	return 0;
}

static bool packed_head_avail(struct virtq *vq, const uint8_t *ring)
{
	/* Acquire: the descriptors were written before the head's flags. */
	return packed_avail(load16(ring + (size_t)vq->last_avail * DESC_SIZE + 14,
				   __ATOMIC_ACQUIRE), vq->avail_wrap);
}

static int packed_pop(struct virtq *vq, struct virtq_elem *e)
{
	const uint8_t *ring = gmem_ptr(vq->mem, vq->desc_gpa, desc_bytes(vq));

	if (!ring)
		return broken(vq, "ring no longer in guest RAM");
	if (vq->last_avail >= vq->size)
		return broken(vq, "avail position %u out of range", vq->last_avail);
	if (!packed_head_avail(vq, ring)) {
		if (!vq->event_idx)
			return 0;
		virtq_set_notification(vq, true);
		if (!packed_head_avail(vq, ring))
			return 0;
	}
	elem_init(e);
	return packed_chain(vq, ring, e) ? -EIO : 1;
}

static void packed_push(struct virtq *vq, const struct virtq_elem *e, uint32_t len)
{
	uint8_t *ring = gmem_ptr(vq->mem, vq->desc_gpa, desc_bytes(vq)), *d;
	uint16_t flags = vq->used_wrap ? AVAIL_F | USED_F : 0;
	unsigned next;

	if (!ring || vq->used_idx >= vq->size || !e->ndescs || e->ndescs > vq->size) {
		broken(vq, "used position %u or chain of %u descriptors out of range",
		       vq->used_idx, e->ndescs);
		return;
	}
	if (e->in_num)
		flags |= VRING_DESC_F_WRITE;	/* len is meaningful */
	d = ring + (size_t)vq->used_idx * DESC_SIZE;
	store32(d + 8, len);
	store16(d + 12, e->id, __ATOMIC_RELAXED);
	/* Release: id and len are visible before the flags that hand it back. */
	store16(d + 14, flags, __ATOMIC_RELEASE);
	next = vq->used_idx + e->ndescs;
	if (next >= vq->size) {
		next -= vq->size;
		vq->used_wrap = !vq->used_wrap;
	}
	vq->used_idx = next;
}

static bool packed_should_notify(struct virtq *vq)
{
	const uint8_t *p = gmem_ptr(vq->mem, vq->driver_gpa, 4);
	struct vring_packed_desc_event ev;
	uint16_t old = vq->signalled_used;
	bool valid = vq->signalled_valid;
	int off;

	if (!p)
		return false;
	copy_in(&ev, p, sizeof(ev));
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	if (ev.flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	if (ev.flags != VRING_PACKED_EVENT_FLAG_DESC || !vq->event_idx || !valid)
		return true;
	/* An offset from the other lap is a full ring behind ours. */
	off = ev.off_wrap & ~WRAP_BIT;
	if (!!(ev.off_wrap & WRAP_BIT) != vq->used_wrap)
		off -= vq->size;
	return vring_need_event((uint16_t)off, vq->used_idx, old);
}

static void packed_set_notification(struct virtq *vq, bool enable)
{
	uint8_t *p = gmem_ptr(vq->mem, vq->device_gpa, 4);
	uint16_t flags = VRING_PACKED_EVENT_FLAG_DISABLE;

	if (!p)
		return;
	if (enable && vq->event_idx) {
		store16(p, vq->last_avail | (vq->avail_wrap ? WRAP_BIT : 0), __ATOMIC_RELAXED);
		flags = VRING_PACKED_EVENT_FLAG_DESC;
	} else if (enable) {
		flags = VRING_PACKED_EVENT_FLAG_ENABLE;
	}
	store16(p + 2, flags, __ATOMIC_RELAXED);
}

/* --- both --- */

/*
 * With EVENT_IDX, a pop that finds the ring empty asks for a kick at the
 * next chain and looks once more (a chain added meanwhile brings no kick).
 * Otherwise the kick point would fall behind as the ring moves on, and a
 * device that never calls virtq_set_notification() would stop hearing from
 * the driver. Without EVENT_IDX the flag stays as the device set it.
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *e)
{
	if (!vq->mem || !vq->enabled)
		return 0;
	if (__atomic_load_n(&vq->broken, __ATOMIC_RELAXED))
		return -EIO;
	return vq->packed ? packed_pop(vq, e) : split_pop(vq, e);
}

void virtq_push(struct virtq *vq, const struct virtq_elem *e, uint32_t len)
{
	if (!vq->mem || __atomic_load_n(&vq->broken, __ATOMIC_RELAXED))
		return;
	len = MIN(len, e->in_len);	/* never claim more than the driver gave */
	if (vq->packed)
		packed_push(vq, e, len);
	else
		split_push(vq, e, len);
}

bool virtq_should_notify(struct virtq *vq)
{
	if (!vq->mem || __atomic_load_n(&vq->broken, __ATOMIC_RELAXED))
		return false;
	/* Our used-index store must be visible before we read the driver's wish. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq->packed ? packed_should_notify(vq) : split_should_notify(vq);
}

void virtq_set_notification(struct virtq *vq, bool enable)
{
	if (!vq->mem || __atomic_load_n(&vq->broken, __ATOMIC_RELAXED))
		return;
	if (vq->packed)
		packed_set_notification(vq, enable);
	else
		split_set_notification(vq, enable);
	/* The caller re-checks the ring next; that read must not pass this write. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
