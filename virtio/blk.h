/*
 * virtio-blk requests (virtio 1.2 section 5.2.6), parsed apart from the
 * device so that the parser is tested and fuzzed without io_uring.
 */
#ifndef EMBER_VIRTIO_BLK_H
#define EMBER_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_blk.h>

#include "backends/block.h"
#include "virtio/virtq.h"

#define VIRTIO_BLK_SECTOR	512u
/* One discard / write-zeroes segment per request, as QEMU does. */
#define VIRTIO_BLK_MAX_DWZ_SEG	1u
/* Sectors per discard or write-zeroes segment (32 MiB). */
#define VIRTIO_BLK_MAX_DWZ_SECTORS 65536u

/* What a request may do: the device's limits and negotiated features. */
struct blk_limits {
	uint64_t capacity;		/* 512-byte sectors */
	uint32_t block_size;		/* logical block size, bytes */
	bool ro;
	bool discard, write_zeroes;	/* negotiated */
};

struct blk_parsed {
	uint32_t type;			/* VIRTIO_BLK_T_* from the header */
	uint8_t status;			/* VIRTIO_BLK_S_OK: do @op; else reply with it */
	enum blk_op op;
	uint64_t offset, len;		/* bytes */
	bool unmap;			/* WRITE_ZEROES may deallocate */
	/*
	 * Data segments: e->iov[iov_first .. iov_first + iov_count), less
	 * head_skip bytes at the front (header) and tail_trim at the back
	 * (status byte). blk_trim_iov applies it.
	 */
	unsigned iov_first, iov_count;
	uint32_t head_skip, tail_trim;
	uint8_t *status_byte;		/* the last writable byte of the chain */
	uint32_t in_data;		/* writable data bytes (IN, GET_ID) */
};

/*
 * Parses the chain @e. Returns -EINVAL when there is no writable byte for
 * the status (the driver broke the protocol: nothing can be reported);
 * otherwise 0 with @out->status saying whether to do @out->op (OK) or to
 * reply at once with IOERR / UNSUPP. Never touches guest memory beyond the
 * iovecs of @e, and only reads them.
 */
int blk_parse(const struct virtq_elem *e, const struct blk_limits *lim,
	      struct blk_parsed *out);
/* Turns e->iov[iov_first..] into the data segments of @p, in place. */
void blk_trim_iov(struct virtq_elem *e, const struct blk_parsed *p);
/*
 * GET_ID: writes @serial (up to 20 bytes, NUL-padded when shorter) into the
 * data segments of @p (after blk_trim_iov); returns the bytes written.
 */
uint32_t blk_write_id(struct virtq_elem *e, const struct blk_parsed *p,
		      const char *serial);

#endif
