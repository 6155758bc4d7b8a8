/*
 * virtio-scsi requests (virtio 1.2 section 5.6.6), parsed apart from the
 * device so that the parser is tested and fuzzed without io_uring.
 */
#ifndef EMBER_VIRTIO_SCSI_H
#define EMBER_VIRTIO_SCSI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_scsi.h>

#include "virtio/virtq.h"

#define VIRTIO_ID_SCSI		8
/* Targets and LUNs a controller offers (config max_target, max_lun). */
#define VSCSI_MAX_TARGET	255
#define VSCSI_MAX_LUN		16383

/* A command request: the header copied out, and where data-in and data-out lie. */
struct vscsi_cmd {
	uint8_t target;
	uint16_t lun;
	bool lun_ok;			/* the LUN field has a form we address */
	uint64_t tag;
	uint8_t cdb[VIRTIO_SCSI_CDB_SIZE];
	/* Data segments, in the caller's array: data-out, then data-in. */
	unsigned dout_num, din_num;
	uint64_t dout_len, din_len;	/* bytes */
};

/*
 * Parses the command chain @e: the request header from its readable bytes
 * and room for the response at the start of its writable ones. -EINVAL when
 * either is short (the driver broke the protocol). The data segments (the
 * readable bytes after the header, the writable bytes after the response)
 * are copied into @data (VIRTQ_MAX_IOV entries); @e is not changed and
 * guest memory is only read.
 */
int vscsi_parse_cmd(const struct virtq_elem *e, struct vscsi_cmd *c, struct iovec *data);

/* Copies @len bytes of @src into the writable bytes of @e from byte @off. */
size_t vscsi_copy_in(const struct virtq_elem *e, size_t off, const void *src, size_t len);
/* Copies up to @len bytes of @src into the segments @iov. */
size_t vscsi_iov_fill(const struct iovec *iov, unsigned n, const void *src, size_t len);
/* Copies up to @len bytes from the segments @iov into @dst. */
size_t vscsi_iov_read(const struct iovec *iov, unsigned n, void *dst, size_t len);

/*
 * A control-queue request (TMF, AN query or subscribe): writes the
 * response into @e and returns the bytes written (0: no room for one).
 * @lun_exists says whether a LUN field names a unit that is there.
 */
uint32_t vscsi_ctrl(const struct virtq_elem *e,
		    bool (*lun_exists)(void *opaque, uint8_t target, uint16_t lun),
		    void *opaque);

/* The 8-byte LUN field: 1, target, then the LUN (flat space). false: another form. */
bool vscsi_lun_decode(const uint8_t f[8], uint8_t *target, uint16_t *lun);

#endif
