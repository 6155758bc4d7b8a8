/*
 * Port I/O and MMIO dispatch. Ranges are few (tens) and change only at
 * start-up, so a sorted array with binary search under a read-write lock is
 * enough: vCPUs dispatch concurrently under the read lock.
 *
 * Handlers run with the read lock held; they must not (un)register ranges.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "devices/bus.h"
#include "lib/log.h"
#include "lib/util.h"

int bus_init(struct bus *b, const char *name)
{
	int ret;

	memset(b, 0, sizeof(*b));
	b->name = name;
	ret = pthread_rwlock_init(&b->lock, NULL);
	if (ret) {
		err_msg("%s bus: cannot create lock: %s", name, strerror(ret));
		return -ret;
	}
	return 0;
}

void bus_destroy(struct bus *b)
{
	free(b->ranges);
	b->ranges = NULL;
	b->nr = b->cap = 0;
	pthread_rwlock_destroy(&b->lock);
}

static uint64_t range_last(const struct bus_range *r)
{
	return r->base + r->len - 1;
}

/* Index of the first range whose base is above @addr (0..nr). */
static unsigned upper_bound(const struct bus *b, uint64_t addr)
{
	unsigned lo = 0, hi = b->nr;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;

		if (b->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void overlap_msg(const struct bus *b, uint64_t base, uint64_t len,
			const char *name, const struct bus_range *old)
{
	err_msg("%s bus: %s [%#" PRIx64 "-%#" PRIx64 "] overlaps %s [%#" PRIx64
		"-%#" PRIx64 "]", b->name, name ? name : "?", base,
		base + len - 1, old->name ? old->name : "?", old->base,
		range_last(old));
}

int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name)
{
	uint64_t last = base + len - 1;
	unsigned i;
	int ret = 0;

	if (!len || range_wraps(base, len) || !ops) {
		err_msg("%s bus: %s: bad range at %#" PRIx64 " (length %#" PRIx64
			")", b->name, name ? name : "?", base, len);
		return -EINVAL;
	}

	pthread_rwlock_wrlock(&b->lock);
	i = upper_bound(b, base);
	/* Only the neighbours can overlap: the array is sorted and disjoint. */
	if (i > 0 && range_last(&b->ranges[i - 1]) >= base) {
		overlap_msg(b, base, len, name, &b->ranges[i - 1]);
		ret = -EEXIST;
		goto out;
	}
	if (i < b->nr && b->ranges[i].base <= last) {
		overlap_msg(b, base, len, name, &b->ranges[i]);
		ret = -EEXIST;
		goto out;
	}
	if (b->nr == b->cap) {
		unsigned cap = b->cap ? b->cap * 2 : 16;
		struct bus_range *r = realloc(b->ranges, cap * sizeof(*r));

		if (!r) {
			err_msg("%s bus: out of memory registering %s",
				b->name, name ? name : "?");
			ret = -ENOMEM;
			goto out;
		}
		b->ranges = r;
		b->cap = cap;
	}
	memmove(&b->ranges[i + 1], &b->ranges[i],
		(b->nr - i) * sizeof(b->ranges[0]));
	b->ranges[i] = (struct bus_range){
		.base = base, .len = len, .ops = ops, .opaque = opaque,
		.name = name,
	};
	b->nr++;
out:
	pthread_rwlock_unlock(&b->lock);
	return ret;
}

int bus_unregister(struct bus *b, uint64_t base)
{
	unsigned i;
	int ret = 0;

	pthread_rwlock_wrlock(&b->lock);
	i = upper_bound(b, base);
	if (i == 0 || b->ranges[i - 1].base != base) {
		err_msg("%s bus: no range registered at %#" PRIx64, b->name,
			base);
		ret = -ENOENT;
		goto out;
	}
	i--;
	memmove(&b->ranges[i], &b->ranges[i + 1],
		(b->nr - i - 1) * sizeof(b->ranges[0]));
	b->nr--;
out:
	pthread_rwlock_unlock(&b->lock);
	return ret;
}

/* The range holding all of [addr, addr+len), or NULL. Read lock held. */
static const struct bus_range *lookup(const struct bus *b, uint64_t addr,
				      unsigned len)
{
	const struct bus_range *r;
	unsigned i;

	if (!len || range_wraps(addr, len))
		return NULL;
	i = upper_bound(b, addr);
	if (i == 0)
		return NULL;
	r = &b->ranges[i - 1];
	if (addr + len - 1 > range_last(r))
		return NULL;
	return r;
}

static void unclaimed(struct bus *b, uint64_t addr, unsigned len,
		      const char *dir)
{
	/*
	 * Every kernel probes absent legacy ports (COM2-4, PCI config): that is
	 * normal, so it is a debug message, and said once so a guest cannot
	 * flood the log.
	 */
	if (!__atomic_exchange_n(&b->warned_unclaimed, 1, __ATOMIC_RELAXED))
		debug_msg("%s bus: unclaimed %u-byte %s at %#" PRIx64
			 " (further ones not reported)", b->name, len, dir,
			 addr);
}

bool bus_read(struct bus *b, uint64_t addr, void *data, unsigned len)
{
	const struct bus_range *r;

	pthread_rwlock_rdlock(&b->lock);
	r = lookup(b, addr, len);
	if (r) {
		if (r->ops->read)
			r->ops->read(r->opaque, addr - r->base, data, len);
		else
			memset(data, 0xff, len);
	}
	pthread_rwlock_unlock(&b->lock);
	if (!r) {
		memset(data, 0xff, len);
		unclaimed(b, addr, len, "read");
	}
	return r != NULL;
}

bool bus_write(struct bus *b, uint64_t addr, const void *data, unsigned len)
{
	const struct bus_range *r;

	pthread_rwlock_rdlock(&b->lock);
	r = lookup(b, addr, len);
	if (r && r->ops->write)
		r->ops->write(r->opaque, addr - r->base, data, len);
	pthread_rwlock_unlock(&b->lock);
	if (!r)
		unclaimed(b, addr, len, "write");
	return r != NULL;
}

void bus_access(void *bus, uint64_t addr, void *data, unsigned len, bool is_write)
{
	if (is_write)
		bus_write(bus, addr, data, len);
	else
		bus_read(bus, addr, data, len);
}
