/*
 * An address space (port I/O or MMIO): sorted, non-overlapping ranges, each
 * handled by a device that sees only the offset into its own range.
 * Registration refuses overlaps; an access nobody claims reads as all-ones
 * (as a floating bus does) and is logged once per bus.
 */
#ifndef EMBER_BUS_H
#define EMBER_BUS_H

#include <stdint.h>
#include <stdbool.h>
#include <pthread.h>

struct bus_ops {
	/* @len is 1, 2, 4 or 8; @data is little-endian, @len bytes. */
	void (*read)(void *opaque, uint64_t off, void *data, unsigned len);
	void (*write)(void *opaque, uint64_t off, const void *data, unsigned len);
};

struct bus_range {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;	/* "pio" or "mmio", for messages */
	pthread_rwlock_t lock;	/* readers: vCPUs dispatching; writer: (un)register */
	struct bus_range *ranges;	/* sorted by base */
	unsigned nr, cap;
	int warned_unclaimed;
};

int bus_init(struct bus *b, const char *name);
void bus_destroy(struct bus *b);
/* -EINVAL for len 0 or wrap, -EEXIST (with a message naming both) on overlap. */
int bus_register(struct bus *b, uint64_t base, uint64_t len,
		 const struct bus_ops *ops, void *opaque, const char *name);
int bus_unregister(struct bus *b, uint64_t base);
/* Returns true if a device claimed the access; unclaimed reads fill 0xff. */
bool bus_read(struct bus *b, uint64_t addr, void *data, unsigned len);
bool bus_write(struct bus *b, uint64_t addr, const void *data, unsigned len);
/* Either of them, for a caller that holds @bus untyped (a vCPU's exits). */
void bus_access(void *bus, uint64_t addr, void *data, unsigned len, bool is_write);

#endif
