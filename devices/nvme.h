/*
 * NVMe controller (NVM Express base 1.4): the wire formats a guest hands
 * us (64-byte submission entries, PRP lists, DSM ranges) and the checks on
 * them (nvme_cmd.c), shared by the controller (nvme.c), its unit tests and
 * its fuzz target. Every check answers with an NVMe status, never a crash.
 */
#ifndef EMBER_NVME_H
#define EMBER_NVME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct gmem;

/* A status as sct << 8 | sc, plus DNR; shifted left by one into a CQE. */
#define NVME_SC_SUCCESS			0x000
#define NVME_SC_INVALID_OPCODE		0x001
#define NVME_SC_INVALID_FIELD		0x002
#define NVME_SC_DATA_XFER_ERROR		0x004
#define NVME_SC_INTERNAL		0x006
#define NVME_SC_INVALID_NS		0x00b
#define NVME_SC_SGL_INVALID_SEG		0x00d
#define NVME_SC_SGL_INVALID_COUNT	0x00e
#define NVME_SC_SGL_INVALID_DATA_LEN	0x00f
#define NVME_SC_SGL_INVALID_TYPE	0x011
#define NVME_SC_PRP_OFFSET_INVALID	0x013
#define NVME_SC_LBA_RANGE		0x080
/* Command specific (sct 1). */
#define NVME_SC_CQ_INVALID		0x100
#define NVME_SC_QID_INVALID		0x101
#define NVME_SC_QUEUE_SIZE		0x102
#define NVME_SC_ABORT_LIMIT		0x103
#define NVME_SC_AER_LIMIT		0x105
#define NVME_SC_INVALID_VECTOR		0x108
#define NVME_SC_INVALID_LOG_PAGE	0x109
#define NVME_SC_INVALID_QUEUE_DELETION	0x10c
#define NVME_SC_FEAT_NOT_SAVEABLE	0x10d
/* Media errors (sct 2). */
#define NVME_SC_WRITE_FAULT		0x280
#define NVME_SC_READ_ERROR		0x281
#define NVME_SC_READ_ONLY		0x282
#define NVME_DNR			0x4000

/* Admin opcodes. */
#define NVME_ADM_DELETE_SQ	0x00
#define NVME_ADM_CREATE_SQ	0x01
#define NVME_ADM_GET_LOG	0x02
#define NVME_ADM_DELETE_CQ	0x04
#define NVME_ADM_CREATE_CQ	0x05
#define NVME_ADM_IDENTIFY	0x06
#define NVME_ADM_ABORT		0x08
#define NVME_ADM_SET_FEATURES	0x09
#define NVME_ADM_GET_FEATURES	0x0a
#define NVME_ADM_AER		0x0c
#define NVME_ADM_DBBUF		0x7c

/* NVM command set opcodes. */
#define NVME_CMD_FLUSH		0x00
#define NVME_CMD_WRITE		0x01
#define NVME_CMD_READ		0x02
#define NVME_CMD_WRITE_ZEROES	0x08
#define NVME_CMD_DSM		0x09

#define NVME_PAGE_SIZE		4096u	/* CAP.MPSMIN = MPSMAX: 4 KiB only */
#define NVME_MDTS		7	/* 2^7 pages: 512 KiB per command */
#define NVME_MAX_XFER		(NVME_PAGE_SIZE << NVME_MDTS)
/* A transfer of MAX_XFER bytes starting mid-page spans one page more. */
#define NVME_MAX_IOV		((1u << NVME_MDTS) + 1)
#define NVME_MAX_NS		32
#define NVME_DSM_MAX_RANGES	256

struct nvme_sqe {
	uint8_t opcode;
	uint8_t flags;		/* FUSE 1:0, PSDT 7:6 */
	uint16_t cid;
	uint32_t nsid;
	uint32_t cdw2, cdw3;
	uint64_t mptr;
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

struct nvme_cqe {
	uint32_t dw0, dw1;
	uint16_t sq_head, sq_id;
	uint16_t cid;
	uint16_t status;	/* phase in bit 0 */
};

/* SGL descriptor types (the type byte's high nibble; subtype 0: an address). */
#define NVME_SGL_DATA		0x0
#define NVME_SGL_SEGMENT	0x2
#define NVME_SGL_LAST_SEGMENT	0x3
#define NVME_SGL_MAX_DESC	1024	/* per command, chains included */

struct nvme_sgl {
	uint64_t addr;
	uint32_t len;
	uint8_t rsvd[3];
	uint8_t type;
};

struct nvme_dsm_range {
	uint32_t attr;
	uint32_t nlb;		/* not 0-based */
	uint64_t slba;
};

_Static_assert(sizeof(struct nvme_sqe) == 64, "NVMe SQE is 64 bytes");
_Static_assert(sizeof(struct nvme_cqe) == 16, "NVMe CQE is 16 bytes");
_Static_assert(sizeof(struct nvme_sgl) == 16, "NVMe SGL descriptor is 16 bytes");

/*
 * The data buffer of a command: @len bytes as host iovecs through @m,
 * adjacent pieces merged, at most NVME_MAX_IOV. With PSDT 0 PRP1/PRP2
 * describe it (list pages chained by their last entry); with PSDT 1 or 2
 * the SGL in their place: data blocks, segments and a last segment (no
 * bit buckets, no keyed descriptors). Returns a status: PRP_OFFSET_INVALID
 * for a misaligned PRP entry, DATA_XFER_ERROR for memory outside guest
 * RAM, INVALID_FIELD for a length over the MDTS or PSDT 3, the SGL_*
 * codes for a descriptor of the wrong type, place or count, or data
 * blocks that do not add up to @len.
 */
uint16_t nvme_map_prp(const struct gmem *m, const struct nvme_sqe *c, uint64_t len,
		      struct iovec *iov, unsigned *niov);

/* What a namespace tells the command decoder. */
struct nvme_ns_geom {
	uint64_t nlbas;		/* size in blocks */
	unsigned lbads;		/* log2 of the block size */
	bool ro;
};

/* A decoded read, write or write zeroes (byte offsets into the namespace). */
struct nvme_rw {
	uint64_t offset, len;
	bool fua, deallocate;
};

/* SLBA/NLB of @c checked against @g; len over the MDTS refused for data commands. */
uint16_t nvme_decode_rw(const struct nvme_sqe *c, const struct nvme_ns_geom *g,
			struct nvme_rw *out);
/* One DSM range into byte offsets, checked against @g. */
uint16_t nvme_decode_range(const struct nvme_dsm_range *r, const struct nvme_ns_geom *g,
			   uint64_t *offset, uint64_t *len);
/* Copies @len bytes of a command's buffer from or to guest memory by its PRPs. */
uint16_t nvme_copy_prp(const struct gmem *m, const struct nvme_sqe *c, void *buf,
		       uint64_t len, bool to_guest);

#endif
