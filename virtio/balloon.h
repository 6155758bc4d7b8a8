/*
 * virtio-balloon (virtio 1.2 section 5.5): what the guest hands the device,
 * parsed apart from the device (balloon_req.c) so that it is tested and
 * fuzzed alone, and the run-time interface the API (vmm/qmp.c) drives.
 */
#ifndef EMBER_VIRTIO_BALLOON_H
#define EMBER_VIRTIO_BALLOON_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_balloon.h>

#include "virtio/virtq.h"

struct device;
struct gmem;
struct platform;

#define BALLOON_PAGE		(1ull << VIRTIO_BALLOON_PFN_SHIFT)
/* Tags 0..15: Linux 6.12 has 16; unknown tags are ignored. */
#define BALLOON_STATS_MAX	16

/* PFNs of one inflate or deflate request (Linux sends at most 256). */
#define BALLOON_MAX_PFNS	(VIRTQ_MAX_IOV * 4)

struct balloon_stats {
	uint64_t val[BALLOON_STATS_MAX];
	uint32_t valid;			/* bit per tag the guest sent */
};

/* A run of guest pages: [gpa, gpa + len). */
struct balloon_run {
	uint64_t gpa, len;
};

/*
 * The little-endian 32-bit PFNs in the device-readable part of @e, up to
 * @max; a partial entry at the end is ignored. Returns how many.
 */
unsigned balloon_read_pfns(const struct virtq_elem *e, uint32_t *pfns, unsigned max);
/*
 * Turns @pfns into runs of consecutive pages that lie in guest RAM (each
 * checked through gmem, inside one region). PFNs outside RAM are dropped
 * and counted in *@bad. Returns the number of runs written to @runs
 * (room for @n).
 */
unsigned balloon_runs(const struct gmem *mem, const uint32_t *pfns, unsigned n,
		      struct balloon_run *runs, unsigned *bad);
/*
 * Statistics: 10-byte {le16 tag, le64 val} entries in the device-readable
 * part of @e. Returns the number of entries read; @st->valid says which
 * tags came.
 */
unsigned balloon_parse_stats(const struct virtq_elem *e, struct balloon_stats *st);
/* QEMU's name of a statistics tag ("stat-free-memory"), or NULL. */
const char *balloon_stat_name(unsigned tag);

/*
 * Guest RAM on huge pages can only be given back a whole huge page at a
 * time: the 4 KiB pages the guest inflated are tracked, and a huge page
 * is discarded once all of it is in the balloon.
 */
struct balloon_hp {
	uint64_t page_size;		/* huge page size (power of 2) */
	uint64_t npages;		/* 4 KiB pages tracked: gpa < npages * 4 KiB */
	uint64_t *bits;
};

int balloon_hp_init(struct balloon_hp *h, uint64_t page_size, uint64_t ram_end);
void balloon_hp_free(struct balloon_hp *h);
void balloon_hp_clear(struct balloon_hp *h);
/*
 * Marks the 4 KiB page at @gpa inflated (@in) or deflated; returns true
 * when inflating completed its huge page (the caller discards it).
 */
bool balloon_hp_mark(struct balloon_hp *h, uint64_t gpa, bool in);

/* ---- run time (the API; loop thread) ---- */

/* The balloon is the one among @pf's devices. */

/*
 * Sets the guest's target RAM size to @bytes (rounded down to 4 KiB).
 * -ENODEV: no balloon device; -ERANGE: 0 or above the guest's RAM.
 */
int balloon_set_target(struct platform *pf, uint64_t bytes);
/* The guest's RAM less what is in the balloon; -ENODEV without one. */
int balloon_get_actual(struct platform *pf, uint64_t *bytes);
/* The balloon's guest RAM size (what 'actual' is when nothing is inflated). */
uint64_t balloon_ram_size(struct platform *pf);
/*
 * The last statistics and when they came (CLOCK_REALTIME seconds, 0:
 * never); the polling interval in seconds (0: off) is read and set.
 */
int balloon_get_stats(struct platform *pf, struct balloon_stats *st, int64_t *when,
		      uint32_t *interval);
int balloon_set_stats_interval(struct platform *pf, uint32_t seconds);
/* The balloon device's id= (NULL when it has none or there is no balloon). */
const char *balloon_id(struct platform *pf);
/* @d is a balloon (the API's qom paths find devices by id, then ask). */
bool balloon_is(const struct device *d);

#endif
