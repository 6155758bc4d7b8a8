/*
 * SCSI disk and CD-ROM command emulation (SPC-3, SBC-3, a minimal MMC for
 * sr_mod); see scsi_disk.h. Every CDB field is read here with its length
 * checked; a CDB shorter than its opcode's group is INVALID FIELD IN CDB.
 */
#include <string.h>

#include "devices/scsi_disk.h"
#include "lib/util.h"

enum {
	TEST_UNIT_READY = 0x00,
	REQUEST_SENSE = 0x03,
	READ_6 = 0x08,
	WRITE_6 = 0x0a,
	INQUIRY = 0x12,
	MODE_SENSE_6 = 0x1a,
	START_STOP_UNIT = 0x1b,
	PREVENT_ALLOW = 0x1e,
	READ_CAPACITY_10 = 0x25,
	READ_10 = 0x28,
	WRITE_10 = 0x2a,
	VERIFY_10 = 0x2f,
	SYNCHRONIZE_CACHE_10 = 0x35,
	WRITE_SAME_10 = 0x41,
	UNMAP = 0x42,
	READ_TOC = 0x43,
	GET_CONFIGURATION = 0x46,
	MODE_SENSE_10 = 0x5a,
	READ_16 = 0x88,
	WRITE_16 = 0x8a,
	VERIFY_16 = 0x8f,
	SYNCHRONIZE_CACHE_16 = 0x91,
	WRITE_SAME_16 = 0x93,
	SERVICE_ACTION_IN_16 = 0x9e,
	REPORT_LUNS = 0xa0,
	READ_12 = 0xa8,
	WRITE_12 = 0xaa,
};

#define SAI_READ_CAPACITY_16	0x10

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, v);
}

/* Space-padded ASCII field of @n bytes. */
static void put_str(uint8_t *p, const char *s, size_t n)
{
	size_t k = s ? strnlen(s, n) : 0;

	memset(p, ' ', n);
	if (k)
		memcpy(p, s, k);
}

/* The CDB length of each opcode group (SPC-3 4.3.1); 0: reserved or vendor. */
static size_t cdb_size(uint8_t op)
{
	static const uint8_t sizes[8] = { 6, 10, 10, 0, 16, 12, 0, 0 };

	return sizes[op >> 5];
}

void scsi_check(struct scsi_cmd *out, uint8_t key, uint16_t asc)
{
	out->action = SCSI_REPLY;
	out->status = SCSI_CHECK_CONDITION;
	out->data_len = 0;
	memset(out->sense, 0, sizeof(out->sense));
	out->sense[0] = 0x70;		/* current error, fixed format */
	out->sense[2] = key;
	out->sense[7] = SCSI_SENSE_LEN - 8;
	out->sense[12] = asc >> 8;
	out->sense[13] = asc & 0xff;
	out->sense_len = SCSI_SENSE_LEN;
}

static void invalid_cdb(struct scsi_cmd *out)
{
	scsi_check(out, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
}

/* GOOD with @len bytes of @buf, cut to the allocation length @alloc. */
static void reply(struct scsi_cmd *out, uint32_t len, uint32_t alloc)
{
	out->action = SCSI_REPLY;
	out->status = SCSI_GOOD;
	out->sense_len = 0;
	out->data_len = MIN(len, alloc);
}

bool scsi_wants_param(uint8_t op)
{
	return op == UNMAP || op == WRITE_SAME_10 || op == WRITE_SAME_16;
}

/* ---- INQUIRY ---- */

static uint32_t std_inquiry(const struct scsi_disk *d, uint8_t *b)
{
	memset(b, 0, 36);
	b[0] = d->cd ? 0x05 : 0x00;	/* peripheral device type */
	b[1] = d->cd ? 0x80 : 0x00;	/* RMB */
	b[2] = 0x05;			/* SPC-3 */
	b[3] = 0x12;			/* HiSup, response data format 2 */
	b[4] = 36 - 5;
	b[7] = 0x02;			/* CmdQue */
	put_str(b + 8, d->vendor ? d->vendor : "EMBER", 8);
	put_str(b + 16, d->product ? d->product : d->cd ? "EMBER CD-ROM" : "EMBER HARDDISK",
		16);
	put_str(b + 32, "1.0", 4);
	return 36;
}

static uint32_t vpd_pages(const struct scsi_disk *d, uint8_t *p)
{
	uint32_t n = 0;

	p[n++] = 0x00;
	if (d->serial)
		p[n++] = 0x80;
	p[n++] = 0x83;
	if (!d->cd) {
		p[n++] = 0xb0;
		p[n++] = 0xb1;
		p[n++] = 0xb2;
	}
	return n;
}

/* Fills page @page after its 4-byte header; returns its length, or -1 if there is none. */
static int vpd(const struct scsi_disk *d, uint8_t page, uint8_t *b)
{
	uint8_t *p = b + 4;
	size_t n;

	switch (page) {
	case 0x00:
		return vpd_pages(d, p);
	case 0x80:
		if (!d->serial)
			return -1;
		n = strnlen(d->serial, 252);
		memcpy(p, d->serial, n);
		return n;
	case 0x83:
		/* One T10 vendor ID designator: vendor, then the unit's name. */
		n = d->device_id ? strnlen(d->device_id, 64) : 0;
		p[0] = 0x02;			/* code set: ASCII */
		p[1] = 0x01;			/* LU association, T10 vendor ID */
		p[3] = 8 + n;
		put_str(p + 4, d->vendor ? d->vendor : "EMBER", 8);
		if (n)
			memcpy(p + 12, d->device_id, n);
		return 12 + n;
	}
	if (d->cd)
		return -1;
	switch (page) {
	case 0xb0:			/* Block Limits */
		memset(p, 0, 0x3c);
		p[0] = 0x01;			/* WSNZ: WRITE SAME of 0 blocks is refused */
		put16(p + 2, 1);		/* optimal transfer length granularity */
		put32(p + 4, SCSI_MAX_XFER_BLOCKS);
		if (d->discard) {
			put32(p + 16, SCSI_MAX_UNMAP_BLOCKS);	/* max unmap LBA count */
			put32(p + 20, 1);			/* descriptors per UNMAP */
			put32(p + 24, 1);			/* optimal unmap granularity */
		}
		put64(p + 32, SCSI_MAX_UNMAP_BLOCKS);		/* max WRITE SAME length */
		return 0x3c;
	case 0xb1:			/* Block Device Characteristics */
		memset(p, 0, 0x3c);
		put16(p, 1);			/* non-rotating */
		return 0x3c;
	case 0xb2:			/* Logical Block Provisioning */
		memset(p, 0, 4);
		if (d->discard) {
			p[1] = 0x80 | 0x40 | 0x20;	/* LBPU, LBPWS, LBPWS10 */
			p[2] = 0x02;			/* thin provisioned */
		}
		return 4;
	}
	return -1;
}

static void inquiry(const struct scsi_disk *d, const uint8_t *cdb, uint8_t *b,
		    struct scsi_cmd *out)
{
	uint32_t alloc = get16(cdb + 3);
	int n;

	if (cdb[1] & 0xfe) {
		invalid_cdb(out);	/* CmdDt and reserved bits */
		return;
	}
	if (!(cdb[1] & 1)) {
		if (cdb[2]) {
			invalid_cdb(out);
			return;
		}
		reply(out, std_inquiry(d, b), alloc);
		return;
	}
	memset(b, 0, 4);
	n = vpd(d, cdb[2], b);
	if (n < 0) {
		invalid_cdb(out);
		return;
	}
	b[0] = d->cd ? 0x05 : 0x00;
	b[1] = cdb[2];
	put16(b + 2, n);
	reply(out, 4 + n, alloc);
}

/* ---- MODE SENSE ---- */

/* MMC's capabilities page: reads CDs, no writing, no eject, a lockable tray. */
static uint32_t cd_capabilities(uint8_t pc, uint8_t *p)
{
	memset(p, 0, 22);
	p[0] = 0x2a;
	p[1] = 20;
	if (pc == 1)
		return 22;		/* changeable values: none */
	p[2] = 0x03;			/* reads CD-R and CD-RW media */
	p[4] = 0x70;			/* mode 2 form 1 and 2, multi-session */
	p[6] = 0x21;			/* tray, lockable */
	put16(p + 8, 50 * 176);		/* maximum read speed, kB/s */
	put16(p + 12, 512);		/* buffer, KiB */
	put16(p + 14, 50 * 176);	/* current read speed */
	return 22;
}

/* Page @page at @p; 0 if the unit has no such page. */
static uint32_t mode_page(const struct scsi_disk *d, uint8_t page, uint8_t pc, uint8_t *p)
{
	if (d->cd)
		return page == 0x2a ? cd_capabilities(pc, p) : 0;
	switch (page) {
	case 0x08:			/* caching */
		memset(p, 0, 20);
		p[0] = 0x08;
		p[1] = 18;
		if (pc != 1 && d->write_cache)
			p[2] = 0x04;	/* WCE; changeable values: none */
		return 20;
	case 0x0a:			/* control */
		memset(p, 0, 12);
		p[0] = 0x0a;
		p[1] = 10;
		if (pc != 1)
			p[3] = 0x10;	/* unrestricted reordering allowed */
		return 12;
	}
	return 0;
}

static void mode_sense(const struct scsi_disk *d, const uint8_t *cdb, bool ten, uint8_t *b,
		       struct scsi_cmd *out)
{
	uint8_t pc = cdb[2] >> 6, page = cdb[2] & 0x3f;
	bool dbd = cdb[1] & 0x08;
	uint32_t alloc = ten ? get16(cdb + 7) : cdb[4];
	uint32_t hdr = ten ? 8 : 4, n, k;

	if (pc == 3) {
		scsi_check(out, SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
		return;
	}
	if (cdb[3] && cdb[3] != 0xff) {		/* subpages: only 0 and "all" */
		invalid_cdb(out);
		return;
	}
	memset(b, 0, hdr);
	n = hdr;
	if (!dbd && !d->cd) {
		uint8_t *bd = b + n;

		/* SBC-3's short LBA block descriptor: blocks, then their length. */
		memset(bd, 0, 8);
		put32(bd, (uint32_t)MIN(d->blocks, (uint64_t)0xffffffff));
		put32(bd + 4, d->block_size & 0xffffff);
		n += 8;
	}
	if (page == 0x3f) {
		n += mode_page(d, d->cd ? 0x2a : 0x08, pc, b + n);
		n += mode_page(d, 0x0a, pc, b + n);
	} else {
		k = mode_page(d, page, pc, b + n);
		if (!k) {
			invalid_cdb(out);
			return;
		}
		n += k;
	}
	if (ten) {
		put16(b, n - 2);
		b[3] = d->ro ? 0x80 : 0;	/* WP */
		put16(b + 6, !dbd && !d->cd ? 8 : 0);
	} else {
		b[0] = n - 1;
		b[2] = d->ro ? 0x80 : 0;
		b[3] = !dbd && !d->cd ? 8 : 0;
	}
	reply(out, n, alloc);
}

/* ---- READ CAPACITY, REQUEST SENSE, MMC ---- */

static void read_capacity(const struct scsi_disk *d, const uint8_t *cdb, bool sixteen,
			  uint8_t *b, struct scsi_cmd *out)
{
	uint64_t last = d->blocks ? d->blocks - 1 : 0;

	if (!sixteen) {
		put32(b, (uint32_t)MIN(last, (uint64_t)0xffffffff));
		put32(b + 4, d->block_size);
		reply(out, 8, 8);
		return;
	}
	if ((cdb[1] & 0x1f) != SAI_READ_CAPACITY_16) {
		invalid_cdb(out);
		return;
	}
	memset(b, 0, 32);
	put64(b, last);
	put32(b + 8, d->block_size);
	if (d->discard)
		b[14] = 0x80;			/* LBPME */
	reply(out, 32, get32(cdb + 10));
}

static void request_sense(const uint8_t *cdb, uint16_t asc, uint8_t key, uint8_t *b,
			  struct scsi_cmd *out)
{
	struct scsi_cmd s;

	/* Sense went back with each command (autosense): nothing is pending. */
	scsi_check(&s, key, asc);
	memcpy(b, s.sense, SCSI_SENSE_LEN);
	reply(out, SCSI_SENSE_LEN, cdb[4]);
}

/* MSF of LBA @lba (2 seconds of pre-gap), as READ TOC gives it with MSF=1. */
static void put_msf(uint8_t *p, uint64_t lba)
{
	lba += 150;
	p[0] = 0;
	p[1] = lba / (75 * 60) > 255 ? 255 : lba / (75 * 60);
	p[2] = (lba / 75) % 60;
	p[3] = lba % 75;
}

static void toc_track(uint8_t *p, uint8_t track, uint64_t lba, bool msf)
{
	memset(p, 0, 8);
	p[1] = 0x14;			/* ADR 1, data track */
	p[2] = track;
	if (msf)
		put_msf(p + 4, lba);
	else
		put32(p + 4, (uint32_t)MIN(lba, (uint64_t)0xffffffff));
}

/* One data track from LBA 0 (format 0), or its session (format 1). */
static void read_toc(const struct scsi_disk *d, const uint8_t *cdb, uint8_t *b,
		     struct scsi_cmd *out)
{
	uint8_t format = cdb[2] & 0x0f, track = cdb[6];
	bool msf = cdb[1] & 0x02;
	uint32_t n;

	if (!format)
		format = cdb[9] >> 6;	/* the older place of the format */
	b[2] = b[3] = 1;		/* first and last track or session */
	if (format == 0) {
		if (track > 1 && track != 0xaa) {
			invalid_cdb(out);
			return;
		}
		n = 4;
		if (track <= 1) {
			toc_track(b + n, 1, 0, msf);
			n += 8;
		}
		toc_track(b + n, 0xaa, d->blocks, msf);	/* lead-out */
		n += 8;
	} else if (format == 1) {
		toc_track(b + 4, 1, 0, msf);
		n = 12;
	} else {
		invalid_cdb(out);
		return;
	}
	put16(b, n - 2);
	reply(out, n, get16(cdb + 7));
}

/* The feature header alone: the current profile is CD-ROM. */
static void get_configuration(const uint8_t *cdb, uint8_t *b, struct scsi_cmd *out)
{
	if ((cdb[1] & 0x03) == 3) {
		invalid_cdb(out);
		return;
	}
	memset(b, 0, 8);
	put32(b, 4);
	put16(b + 6, 0x0008);
	reply(out, 8, get16(cdb + 7));
}

/* ---- the data path ---- */

/* [lba, lba + n) inside the disk: the request in bytes; else LBA OUT OF RANGE. */
static bool io_range(const struct scsi_disk *d, uint64_t lba, uint64_t n, struct scsi_cmd *out)
{
	if (lba > d->blocks || n > d->blocks - lba) {
		scsi_check(out, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
		return false;
	}
	out->offset = lba * d->block_size;
	out->len = n * d->block_size;
	return true;
}

static void io(struct scsi_cmd *out, enum blk_op op)
{
	out->action = SCSI_IO;
	out->status = SCSI_GOOD;
	out->sense_len = 0;
	out->op = op;
	out->data_out = op == BLK_WRITE;
}

static bool writable(const struct scsi_disk *d, struct scsi_cmd *out)
{
	if (d->ro) {
		scsi_check(out, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED);
		return false;
	}
	return true;
}

static void rw(const struct scsi_disk *d, const uint8_t *cdb, struct scsi_cmd *out)
{
	uint8_t op = cdb[0];
	bool write = op == WRITE_6 || op == WRITE_10 || op == WRITE_12 || op == WRITE_16;
	uint64_t lba;
	uint32_t n;

	switch (op) {
	case READ_6:
	case WRITE_6:
		lba = (uint32_t)(cdb[1] & 0x1f) << 16 | get16(cdb + 2);
		n = cdb[4] ? cdb[4] : 256;
		break;
	case READ_10:
	case WRITE_10:
		lba = get32(cdb + 2);
		n = get16(cdb + 7);
		break;
	case READ_12:
	case WRITE_12:
		lba = get32(cdb + 2);
		n = get32(cdb + 6);
		break;
	default:
		lba = get64(cdb + 2);
		n = get32(cdb + 10);
		break;
	}
	if (write && !writable(d, out))
		return;
	if (!io_range(d, lba, n, out))
		return;
	if (!n) {
		reply(out, 0, 0);
		return;
	}
	io(out, write ? BLK_WRITE : BLK_READ);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* WRITE SAME of a zero block (or none, NDOB): zeroes, deallocated with UNMAP when it can. */
static void write_same(const struct scsi_disk *d, const uint8_t *cdb, const uint8_t *param,
		       size_t param_len, struct scsi_cmd *out)
{
	bool sixteen = cdb[0] == WRITE_SAME_16;
	bool ndob = sixteen && (cdb[1] & 0x01), unmap = cdb[1] & 0x08;
	uint64_t lba = sixteen ? get64(cdb + 2) : get32(cdb + 2);
	uint32_t n = sixteen ? get32(cdb + 10) : get16(cdb + 7);

	if (cdb[1] & 0xf6) {			/* ANCHOR, PBDATA, LBDATA, WRPROTECT */
		invalid_cdb(out);
		return;
	}
	if (!writable(d, out))
		return;
	if (!n || n > SCSI_MAX_UNMAP_BLOCKS) {	/* WSNZ, and the Block Limits page */
		invalid_cdb(out);
		return;
	}
	if (!io_range(d, lba, n, out))
		return;
	/* Only zeroes: a pattern would be one write per block. */
	if (!ndob && (param_len < d->block_size || !all_zero(param, d->block_size))) {
		invalid_cdb(out);
		return;
	}
	io(out, BLK_WRITE_ZEROES);
	out->unmap = unmap && d->discard;
}

/* UNMAP with one block descriptor (the Block Limits page says so). */
static void unmap(const struct scsi_disk *d, const uint8_t *cdb, const uint8_t *param,
		  size_t param_len, struct scsi_cmd *out)
{
	uint32_t len = get16(cdb + 7), descs, found = 0;
	uint64_t lba = 0, n = 0;

	if (!d->discard) {
		scsi_check(out, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
		return;
	}
	if (!writable(d, out))
		return;
	if (!len) {
		reply(out, 0, 0);
		return;
	}
	if (len < 8 || param_len < MIN(len, (uint32_t)SCSI_BUF_SIZE)) {
		scsi_check(out, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH);
		return;
	}
	descs = get16(param + 2);
	if (descs % 16 || descs + 8u > MIN(len, (uint32_t)param_len)) {
		scsi_check(out, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH);
		return;
	}
	for (uint32_t off = 8; off < 8 + descs; off += 16) {
		uint32_t k = get32(param + off + 8);

		if (!k)
			continue;
		if (found++) {
			scsi_check(out, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM);
			return;
		}
		lba = get64(param + off);
		n = k;
	}
	if (!found) {
		reply(out, 0, 0);
		return;
	}
	if (n > SCSI_MAX_UNMAP_BLOCKS) {
		scsi_check(out, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM);
		return;
	}
	if (!io_range(d, lba, n, out))
		return;
	io(out, BLK_DISCARD);
}

void scsi_disk_exec(const struct scsi_disk *d, const uint8_t *cdb, size_t cdb_len,
		    const uint8_t *param, size_t param_len, uint8_t *buf, struct scsi_cmd *out)
{
	uint8_t op;

	memset(out, 0, sizeof(*out));
	if (!cdb_len) {
		invalid_cdb(out);
		return;
	}
	op = cdb[0];
	if (!cdb_size(op)) {
		scsi_check(out, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
		return;
	}
	if (cdb_len < cdb_size(op)) {
		invalid_cdb(out);
		return;
	}
	switch (op) {
	case TEST_UNIT_READY:
	case START_STOP_UNIT:
	case PREVENT_ALLOW:
		reply(out, 0, 0);
		return;
	case REQUEST_SENSE:
		request_sense(cdb, ASC_NONE, SENSE_NO_SENSE, buf, out);
		return;
	case INQUIRY:
		inquiry(d, cdb, buf, out);
		return;
	case MODE_SENSE_6:
	case MODE_SENSE_10:
		mode_sense(d, cdb, op == MODE_SENSE_10, buf, out);
		return;
	case READ_CAPACITY_10:
		read_capacity(d, cdb, false, buf, out);
		return;
	case SERVICE_ACTION_IN_16:
		read_capacity(d, cdb, true, buf, out);
		return;
	case READ_6:
	case READ_10:
	case READ_12:
	case READ_16:
	case WRITE_6:
	case WRITE_10:
	case WRITE_12:
	case WRITE_16:
		rw(d, cdb, out);
		return;
	case VERIFY_10:
	case VERIFY_16:
		if (io_range(d, op == VERIFY_10 ? get32(cdb + 2) : get64(cdb + 2),
			     op == VERIFY_10 ? get16(cdb + 7) : get32(cdb + 10), out))
			reply(out, 0, 0);
		return;
	case SYNCHRONIZE_CACHE_10:
	case SYNCHRONIZE_CACHE_16:
		if (d->ro)
			reply(out, 0, 0);
		else
			io(out, BLK_FLUSH);
		return;
	}
	if (d->cd) {
		switch (op) {
		case READ_TOC:
			read_toc(d, cdb, buf, out);
			return;
		case GET_CONFIGURATION:
			get_configuration(cdb, buf, out);
			return;
		}
	} else {
		switch (op) {
		case WRITE_SAME_10:
		case WRITE_SAME_16:
			write_same(d, cdb, param, param_len, out);
			return;
		case UNMAP:
			unmap(d, cdb, param, param_len, out);
			return;
		}
	}
	scsi_check(out, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
}

void scsi_no_lun_exec(const uint8_t *cdb, size_t cdb_len, uint8_t *buf, struct scsi_cmd *out)
{
	memset(out, 0, sizeof(*out));
	if (cdb_len >= 6 && cdb[0] == INQUIRY) {
		if (cdb[1] & 0xfe) {
			invalid_cdb(out);
			return;
		}
		memset(buf, 0, 36);
		buf[0] = 0x7f;		/* qualifier 3: no device on this LUN */
		buf[2] = 0x05;
		buf[3] = 0x12;
		buf[4] = 36 - 5;
		reply(out, cdb[1] & 1 ? 4 : 36, get16(cdb + 3));
		return;
	}
	if (cdb_len >= 6 && cdb[0] == REQUEST_SENSE) {
		request_sense(cdb, ASC_LUN_NOT_SUPPORTED, SENSE_ILLEGAL_REQUEST, buf, out);
		return;
	}
	scsi_check(out, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
}

void scsi_report_luns(const uint8_t *cdb, size_t cdb_len, const uint16_t *luns, unsigned n,
		      uint8_t *buf, struct scsi_cmd *out)
{
	uint32_t alloc, len = 8;

	memset(out, 0, sizeof(*out));
	if (cdb_len < 12 || cdb[0] != REPORT_LUNS) {
		invalid_cdb(out);
		return;
	}
	alloc = get32(cdb + 6);
	if (cdb[2] > 2 || alloc < 16) {
		invalid_cdb(out);
		return;
	}
	memset(buf, 0, 8);
	for (unsigned i = 0; i < n && len + 8 <= SCSI_BUF_SIZE; i++, len += 8) {
		memset(buf + len, 0, 8);
		if (luns[i] < 256) {
			buf[len + 1] = luns[i];
		} else {
			buf[len] = 0x40 | (luns[i] >> 8 & 0x3f);
			buf[len + 1] = luns[i] & 0xff;
		}
	}
	put32(buf, len - 8);
	reply(out, len, alloc);
}
