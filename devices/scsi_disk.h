/*
 * SCSI target emulation for one logical unit (a disk or a CD-ROM) over a
 * block node: the CDB parser and the commands a Linux guest issues
 * (SPC-3/SBC-3, and the few MMC ones sr_mod needs). It knows nothing of
 * the transport: it turns a CDB (and the parameter data some commands
 * carry) into either a reply built in a buffer, or a block-layer request,
 * or CHECK CONDITION with fixed-format sense data.
 */
#ifndef EMBER_SCSI_DISK_H
#define EMBER_SCSI_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/block.h"

/* SAM status codes. */
#define SCSI_GOOD		0x00
#define SCSI_CHECK_CONDITION	0x02

/* Sense keys. */
#define SENSE_NO_SENSE		0x0
#define SENSE_MEDIUM_ERROR	0x3
#define SENSE_ILLEGAL_REQUEST	0x5
#define SENSE_DATA_PROTECT	0x7

/* Additional sense codes (ASC << 8 | ASCQ). */
#define ASC_NONE			0x0000
#define ASC_INVALID_OPCODE		0x2000
#define ASC_LBA_OUT_OF_RANGE		0x2100
#define ASC_INVALID_FIELD_CDB		0x2400
#define ASC_LUN_NOT_SUPPORTED		0x2500
#define ASC_INVALID_FIELD_PARAM		0x2600
#define ASC_WRITE_PROTECTED		0x2700
#define ASC_SAVING_NOT_SUPPORTED	0x3900
#define ASC_PARAM_LIST_LENGTH		0x1a00
#define ASC_READ_ERROR			0x1100
#define ASC_WRITE_ERROR			0x0c00

#define SCSI_SENSE_LEN		18	/* fixed format */
/* Largest reply built, and largest parameter list read (UNMAP, WRITE SAME's block). */
#define SCSI_BUF_SIZE		4096
/* Blocks per UNMAP descriptor and per WRITE SAME (1 GiB of 512-byte blocks). */
#define SCSI_MAX_UNMAP_BLOCKS	0x200000u
/* Blocks per READ/WRITE the guest is told (Block Limits page). */
#define SCSI_MAX_XFER_BLOCKS	0xffffu

/* What one logical unit is; set by its front end before the first command. */
struct scsi_disk {
	bool cd;		/* MMC CD-ROM: peripheral type 5, removable, read-only */
	bool ro;
	bool discard;		/* the node can deallocate (UNMAP, WRITE SAME with UNMAP) */
	bool write_cache;	/* a volatile cache the guest flushes (WCE) */
	uint32_t block_size;	/* bytes: 512 or 4096, 2048 for a CD */
	uint64_t blocks;	/* logical blocks */
	const char *vendor;	/* up to 8 bytes */
	const char *product;	/* up to 16 bytes */
	const char *serial;	/* NULL: no Unit Serial Number page */
	const char *device_id;	/* the Device Identification page's name (the node) */
};

enum scsi_action {
	SCSI_REPLY,	/* status, sense and buf[0..data_len) go back as they are */
	SCSI_IO,	/* do op/offset/len on the node, then GOOD (or an error) */
};

struct scsi_cmd {
	enum scsi_action action;
	uint8_t status;			/* SCSI_GOOD or SCSI_CHECK_CONDITION */
	uint8_t sense[SCSI_SENSE_LEN];
	uint8_t sense_len;		/* 0 unless CHECK CONDITION */
	uint32_t data_len;		/* SCSI_REPLY: data-in bytes in the buffer */
	/* SCSI_IO. */
	enum blk_op op;
	uint64_t offset, len;		/* bytes */
	bool unmap;			/* WRITE_ZEROES may deallocate */
	bool data_out;			/* READ: data-in; WRITE: data-out of len bytes */
};

/*
 * Does a command with opcode @op carry parameter data that scsi_disk_exec
 * must see (UNMAP's list, WRITE SAME's block)? The caller then passes up
 * to SCSI_BUF_SIZE bytes of the data-out buffer as @param.
 */
bool scsi_wants_param(uint8_t op);

/*
 * Runs the CDB @cdb (@cdb_len bytes, the transport's whole CDB field) on
 * @d. A reply is built in @buf (SCSI_BUF_SIZE bytes) and cut to the CDB's
 * allocation length. Never fails: what is wrong with the CDB is CHECK
 * CONDITION in @out.
 */
void scsi_disk_exec(const struct scsi_disk *d, const uint8_t *cdb, size_t cdb_len,
		    const uint8_t *param, size_t param_len, uint8_t *buf,
		    struct scsi_cmd *out);

/*
 * A command to a LUN where there is no logical unit, on a target that has
 * others: INQUIRY says "no device here" (peripheral qualifier 3), REQUEST
 * SENSE and the rest say LOGICAL UNIT NOT SUPPORTED. REPORT LUNS is the
 * caller's (scsi_report_luns).
 */
void scsi_no_lun_exec(const uint8_t *cdb, size_t cdb_len, uint8_t *buf, struct scsi_cmd *out);

/*
 * REPORT LUNS: the @n LUNs @luns (flat addressing above 255), cut to the
 * allocation length; CHECK CONDITION for a bad SELECT REPORT or an
 * allocation length under 16.
 */
void scsi_report_luns(const uint8_t *cdb, size_t cdb_len, const uint16_t *luns, unsigned n,
		      uint8_t *buf, struct scsi_cmd *out);

/* Sets CHECK CONDITION with fixed-format sense @key / @asc (ASC << 8 | ASCQ). */
void scsi_check(struct scsi_cmd *out, uint8_t key, uint16_t asc);

#endif
