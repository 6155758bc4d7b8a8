/*
 * SCSI command emulation (devices/scsi_disk.c) on hand-made CDBs, and the
 * virtio-scsi request parser (virtio/scsi_req.c) on hand-made chains.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "devices/scsi_disk.h"
#include "virtio/scsi.h"

static uint8_t buf[SCSI_BUF_SIZE];
static struct scsi_cmd out;

static struct scsi_disk hd = {
	.block_size = 512, .blocks = 2048, .discard = true, .write_cache = true,
	.vendor = "ACME", .product = "DISK", .serial = "SN-42", .device_id = "d0",
};
static struct scsi_disk cd = {
	.cd = true, .ro = true, .block_size = 2048, .blocks = 100, .device_id = "c0",
};

static void run(const struct scsi_disk *d, const uint8_t *cdb, size_t n)
{
	memset(buf, 0xee, sizeof(buf));
	scsi_disk_exec(d, cdb, n, NULL, 0, buf, &out);
}

static void run_param(const struct scsi_disk *d, const uint8_t *cdb, const uint8_t *p,
		      size_t plen)
{
	scsi_disk_exec(d, cdb, 16, p, plen, buf, &out);
}

/* CHECK CONDITION with fixed sense @key / @asc. */
static void expect_sense(uint8_t key, uint16_t asc)
{
	assert_int_equal(out.action, SCSI_REPLY);
	assert_int_equal(out.status, SCSI_CHECK_CONDITION);
	assert_int_equal(out.sense_len, 18);
	assert_int_equal(out.sense[0], 0x70);
	assert_int_equal(out.sense[2], key);
	assert_int_equal(out.sense[7], 10);
	assert_int_equal(out.sense[12], asc >> 8);
	assert_int_equal(out.sense[13], asc & 0xff);
}

static void expect_good(uint32_t len)
{
	assert_int_equal(out.status, SCSI_GOOD);
	assert_int_equal(out.action, SCSI_REPLY);
	assert_int_equal(out.data_len, len);
}

static void t_inquiry(void **state)
{
	uint8_t std[6] = { 0x12, 0, 0, 0, 96, 0 }, cmddt[6] = { 0x12, 2, 0, 0, 96, 0 };
	uint8_t page_no_evpd[6] = { 0x12, 0, 0x80, 0, 96, 0 };

	run(&hd, std, 6);
	expect_good(36);
	assert_int_equal(buf[0], 0);
	assert_int_equal(buf[2], 5);
	assert_memory_equal(buf + 8, "ACME    DISK            1.0 ", 28);
	std[4] = 5;			/* allocation length cuts the reply */
	run(&hd, std, 6);
	expect_good(5);
	run(&cd, std, 6);
	assert_int_equal(buf[0], 5);
	assert_int_equal(buf[1], 0x80);
	assert_memory_equal(buf + 16, "EMBER CD-ROM    ", 16);
	run(&hd, cmddt, 6);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
	run(&hd, page_no_evpd, 6);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
}

static void t_vpd(void **state)
{
	uint8_t cdb[6] = { 0x12, 1, 0, 0, 255, 0 };
	uint8_t list[] = { 0, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };

	run(&hd, cdb, 6);
	expect_good(4 + sizeof(list));
	assert_memory_equal(buf + 4, list, sizeof(list));
	cdb[2] = 0x80;
	run(&hd, cdb, 6);
	expect_good(9);
	assert_memory_equal(buf + 4, "SN-42", 5);
	cdb[2] = 0x83;
	run(&hd, cdb, 6);
	expect_good(4 + 12 + 2);
	assert_int_equal(buf[5], 0x01);
	assert_memory_equal(buf + 8, "ACME    d0", 10);
	cdb[2] = 0xb0;
	run(&hd, cdb, 6);
	expect_good(64);
	assert_int_equal(buf[4], 1);			/* WSNZ */
	assert_int_equal(buf[27], 1);			/* one UNMAP descriptor */
	cdb[2] = 0xb1;
	run(&hd, cdb, 6);
	assert_int_equal(buf[5], 1);			/* non-rotating */
	cdb[2] = 0xb2;
	run(&hd, cdb, 6);
	expect_good(8);
	assert_int_equal(buf[5], 0xe0);
	cdb[2] = 0x99;
	run(&hd, cdb, 6);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
	/* A CD-ROM has no block pages, nor a serial page without a serial. */
	cdb[2] = 0xb0;
	run(&cd, cdb, 6);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
	cdb[2] = 0x80;
	run(&cd, cdb, 6);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
}

static void t_capacity(void **state)
{
	uint8_t rc10[10] = { 0x25 }, rc16[16] = { 0x9e, 0x10 };
	struct scsi_disk big = hd;

	run(&hd, rc10, 10);
	expect_good(8);
	assert_memory_equal(buf, "\x00\x00\x07\xff\x00\x00\x02\x00", 8);
	rc16[13] = 32;
	run(&hd, rc16, 16);
	expect_good(32);
	assert_memory_equal(buf, "\0\0\0\0\0\0\x07\xff\0\0\x02\0", 12);
	assert_int_equal(buf[14], 0x80);		/* LBPME */
	big.blocks = 1ull << 33;
	run(&big, rc10, 10);
	assert_memory_equal(buf, "\xff\xff\xff\xff", 4);
	rc16[1] = 0x11;
	run(&hd, rc16, 16);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
}

static void t_rw(void **state)
{
	uint8_t r10[10] = { 0x28, 0, 0, 0, 0x07, 0xfe, 0, 0, 2, 0 };
	uint8_t w16[16] = { 0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 8, 0, 0 };
	uint8_t r6[6] = { 0x08, 0, 0, 0, 0, 0 };
	uint8_t w12[12] = { 0xaa, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0 };

	run(&hd, r10, 10);
	assert_int_equal(out.action, SCSI_IO);
	assert_int_equal(out.op, BLK_READ);
	assert_int_equal(out.offset, 2046 * 512);
	assert_int_equal(out.len, 1024);
	r10[8] = 3;			/* one block past the end */
	run(&hd, r10, 10);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	r10[8] = 0;			/* no blocks: GOOD without I/O */
	run(&hd, r10, 10);
	expect_good(0);
	run(&hd, w16, 16);
	assert_int_equal(out.action, SCSI_IO);
	assert_int_equal(out.op, BLK_WRITE);
	assert_true(out.data_out);
	assert_int_equal(out.offset, 16 * 512);
	assert_int_equal(out.len, 8 * 512);
	w16[2] = 0x80;			/* LBA 2^63: no overflow */
	run(&hd, w16, 16);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	run(&hd, r6, 6);		/* length 0 means 256 blocks */
	assert_int_equal(out.len, 256 * 512);
	run(&hd, w12, 12);
	expect_good(0);
	run(&cd, w12, 12);
	expect_sense(SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED);
	run(&hd, r10, 6);		/* shorter than its group */
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
}

static void t_sync_tur_misc(void **state)
{
	uint8_t sync10[10] = { 0x35 }, sync16[16] = { 0x91 }, tur[6] = { 0 };
	uint8_t ss[6] = { 0x1b, 0, 0, 0, 1, 0 }, rs[6] = { 0x03, 0, 0, 0, 252, 0 };
	uint8_t unknown[10] = { 0x3c }, vendor[6] = { 0xc0 };

	run(&hd, sync10, 10);
	assert_int_equal(out.action, SCSI_IO);
	assert_int_equal(out.op, BLK_FLUSH);
	run(&hd, sync16, 16);
	assert_int_equal(out.op, BLK_FLUSH);
	run(&hd, tur, 6);
	expect_good(0);
	run(&hd, ss, 6);
	expect_good(0);
	run(&hd, rs, 6);
	expect_good(18);
	assert_int_equal(buf[0], 0x70);
	assert_int_equal(buf[2], SENSE_NO_SENSE);
	run(&hd, unknown, 10);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
	run(&hd, vendor, 6);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
	run(&hd, tur, 0);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
}

static void t_mode_sense(void **state)
{
	uint8_t ms6[6] = { 0x1a, 0, 0x08, 0, 255, 0 }, ms10[10] = { 0x5a, 0x08, 0x3f, 0, 0, 0, 0, 1, 0, 0 };
	struct scsi_disk ro = hd;

	run(&hd, ms6, 6);
	expect_good(4 + 8 + 20);
	assert_int_equal(buf[0], 31);
	assert_int_equal(buf[3], 8);			/* block descriptor */
	assert_memory_equal(buf + 4, "\0\0\x08\0\0\0\x02\0", 8);
	assert_int_equal(buf[12 + 0], 0x08);
	assert_int_equal(buf[12 + 2], 0x04);		/* WCE */
	ms6[2] = 0x0a;
	run(&hd, ms6, 6);
	assert_int_equal(buf[12], 0x0a);
	ms6[2] = 0x48;					/* changeable: no WCE */
	run(&hd, ms6, 6);
	assert_int_equal(buf[12 + 2], 0);
	ms6[2] = 0xc8;					/* saved */
	run(&hd, ms6, 6);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_SAVING_NOT_SUPPORTED);
	ms6[2] = 0x1c;
	run(&hd, ms6, 6);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
	ro.ro = true;
	run(&ro, ms10, 10);				/* DBD, all pages */
	expect_good(8 + 20 + 12);
	assert_int_equal(buf[1], 38);
	assert_int_equal(buf[3], 0x80);			/* WP */
	assert_int_equal(buf[7], 0);
	ms10[7] = 0;
	ms10[8] = 4;
	run(&ro, ms10, 10);
	expect_good(4);
	/* A CD-ROM: the capabilities page only, no block descriptor. */
	ms10[1] = 0;
	ms10[2] = 0x2a;
	ms10[8] = 255;
	run(&cd, ms10, 10);
	expect_good(8 + 22);
	assert_int_equal(buf[7], 0);
	assert_int_equal(buf[8], 0x2a);
	assert_int_equal(buf[8 + 6], 0x21);		/* tray, lockable, no eject */
	ms10[2] = 0x08;
	run(&cd, ms10, 10);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
	ms6[2] = 0x2a;
	run(&hd, ms6, 6);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
}

static void t_write_same_unmap(void **state)
{
	uint8_t ws16[16] = { 0x93, 0x08, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 16, 0, 0 };
	uint8_t ws10[10] = { 0x41, 0, 0, 0, 0, 8, 0, 0, 16, 0 };
	uint8_t um[10] = { 0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0 };
	uint8_t zero[512] = { 0 }, one[512] = { 1 };
	uint8_t list[40] = { 0, 22, 0, 16, 0, 0, 0, 0,
			     0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 10, 0, 0, 0, 0 };
	struct scsi_disk ro = hd;

	run_param(&hd, ws16, zero, sizeof(zero));
	assert_int_equal(out.action, SCSI_IO);
	assert_int_equal(out.op, BLK_WRITE_ZEROES);
	assert_true(out.unmap);
	assert_int_equal(out.offset, 8 * 512);
	assert_int_equal(out.len, 16 * 512);
	run_param(&hd, ws10, one, sizeof(one));		/* a pattern: refused */
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
	run_param(&hd, ws10, zero, 100);		/* less than a block */
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
	ws16[1] = 0x01;					/* NDOB */
	run_param(&hd, ws16, NULL, 0);
	assert_int_equal(out.op, BLK_WRITE_ZEROES);
	assert_false(out.unmap);
	ws16[13] = 0;					/* WSNZ */
	run_param(&hd, ws16, NULL, 0);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);

	run_param(&hd, um, list, 24);
	assert_int_equal(out.action, SCSI_IO);
	assert_int_equal(out.op, BLK_DISCARD);
	assert_int_equal(out.offset, 100 * 512);
	assert_int_equal(out.len, 10 * 512);
	run_param(&hd, um, list, 10);			/* shorter than it says */
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH);
	list[3] = 32;					/* two descriptors */
	list[24 + 11] = 1;
	um[8] = 40;
	run_param(&hd, um, list, 40);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM);
	list[3] = 16;
	list[8] = 0xff;					/* past the end */
	um[8] = 24;
	run_param(&hd, um, list, 24);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	ro.ro = true;
	run_param(&ro, um, list, 24);
	expect_sense(SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED);
	ro.ro = false;
	ro.discard = false;
	run_param(&ro, um, list, 24);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
}

static void t_cd(void **state)
{
	uint8_t toc[10] = { 0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0 };
	uint8_t gc[10] = { 0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0 };

	run(&cd, toc, 10);
	expect_good(20);
	assert_memory_equal(buf, "\x00\x12\x01\x01", 4);
	assert_int_equal(buf[4 + 2], 1);
	assert_int_equal(buf[12 + 2], 0xaa);
	assert_memory_equal(buf + 12 + 4, "\0\0\0\x64", 4);	/* lead-out at 100 */
	toc[1] = 2;						/* MSF */
	run(&cd, toc, 10);
	assert_memory_equal(buf + 12 + 4, "\0\0\x03\x19", 4);	/* 250 = 0:03:25 */
	toc[2] = 5;
	run(&cd, toc, 10);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
	run(&cd, gc, 10);
	expect_good(8);
	assert_memory_equal(buf + 6, "\x00\x08", 2);
	run(&hd, gc, 10);				/* not a disk's command */
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
}

static void t_luns(void **state)
{
	uint8_t rl[12] = { 0xa0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0 };
	uint8_t inq[6] = { 0x12, 0, 0, 0, 36, 0 }, tur[6] = { 0 };
	uint16_t luns[] = { 0, 1, 300 };

	scsi_report_luns(rl, 12, luns, 3, buf, &out);
	expect_good(32);
	assert_memory_equal(buf, "\0\0\0\x18\0\0\0\0", 8);
	assert_int_equal(buf[8 + 8 + 1], 1);
	assert_int_equal(buf[8 + 16], 0x41);
	assert_int_equal(buf[8 + 16 + 1], 300 & 0xff);
	rl[9] = 8;
	rl[8] = 0;
	scsi_report_luns(rl, 12, luns, 3, buf, &out);	/* allocation length under 16 */
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
	scsi_no_lun_exec(inq, 32, buf, &out);
	expect_good(36);
	assert_int_equal(buf[0], 0x7f);
	scsi_no_lun_exec(tur, 32, buf, &out);
	expect_sense(SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
}

/* ---- the virtio-scsi request parser ---- */

static struct virtq_elem el;

static void add(void *p, size_t len, bool in)
{
	el.iov[el.out_num + el.in_num] = (struct iovec){ p, len };
	if (in) {
		el.in_num++;
		el.in_len += len;
	} else {
		el.out_num++;
		el.out_len += len;
	}
}

static void t_parse_cmd(void **state)
{
	struct virtio_scsi_cmd_req req = { .lun = { 1, 7, 0x40, 3 }, .tag = htole64(99) };
	uint8_t wr[4096], resp_and_data[108 + 100], more[50];
	struct iovec data[VIRTQ_MAX_IOV];
	struct vscsi_cmd c;

	req.cdb[0] = 0x28;
	memset(&el, 0, sizeof(el));
	/* The header split across two descriptors, data-out after it. */
	add(&req, 20, false);
	add((uint8_t *)&req + 20, sizeof(req) - 20, false);
	add(wr, sizeof(wr), false);
	add(resp_and_data, sizeof(resp_and_data), true);
	add(more, sizeof(more), true);
	assert_int_equal(vscsi_parse_cmd(&el, &c, data), 0);
	assert_true(c.lun_ok);
	assert_int_equal(c.target, 7);
	assert_int_equal(c.lun, 3);
	assert_int_equal(c.tag, 99);
	assert_int_equal(c.cdb[0], 0x28);
	assert_int_equal(c.dout_num, 1);
	assert_int_equal(c.dout_len, sizeof(wr));
	assert_ptr_equal(data[0].iov_base, wr);
	assert_int_equal(c.din_num, 2);
	assert_int_equal(c.din_len, 150);
	assert_ptr_equal(data[1].iov_base, resp_and_data + 108);
	assert_int_equal(data[1].iov_len, 100);
	assert_int_equal(vscsi_iov_fill(data + 1, 2, wr, 4096), 150);

	/* No room for the response. */
	memset(&el, 0, sizeof(el));
	add(&req, sizeof(req), false);
	add(resp_and_data, 107, true);
	assert_int_equal(vscsi_parse_cmd(&el, &c, data), -EINVAL);
	/* A short header. */
	memset(&el, 0, sizeof(el));
	add(&req, sizeof(req) - 1, false);
	add(resp_and_data, 108, true);
	assert_int_equal(vscsi_parse_cmd(&el, &c, data), -EINVAL);
	/* A LUN field of another form. */
	memset(&el, 0, sizeof(el));
	req.lun[0] = 2;
	add(&req, sizeof(req), false);
	add(resp_and_data, 108, true);
	assert_int_equal(vscsi_parse_cmd(&el, &c, data), 0);
	assert_false(c.lun_ok);
}

static bool only_0_0(void *opaque, uint8_t target, uint16_t lun)
{
	return !target && !lun;
}

static void t_ctrl(void **state)
{
	struct virtio_scsi_ctrl_tmf_req tmf = { .type = 0, .lun = { 1, 0, 0x40, 0 } };
	struct virtio_scsi_ctrl_an_req an = { .type = htole32(1), .lun = { 1, 0, 0x40, 0 } };
	uint8_t resp[8];

	memset(&el, 0, sizeof(el));
	add(&tmf, sizeof(tmf), false);
	add(resp, sizeof(resp), true);
	memset(resp, 0xee, sizeof(resp));
	assert_int_equal(vscsi_ctrl(&el, only_0_0, NULL), 1);
	assert_int_equal(resp[0], 0);			/* FUNCTION COMPLETE */
	tmf.subtype = htole32(2);			/* CLEAR ACA */
	vscsi_ctrl(&el, only_0_0, NULL);
	assert_int_equal(resp[0], VIRTIO_SCSI_S_FUNCTION_REJECTED);
	tmf.lun[1] = 4;
	vscsi_ctrl(&el, only_0_0, NULL);
	assert_int_equal(resp[0], VIRTIO_SCSI_S_BAD_TARGET);

	memset(&el, 0, sizeof(el));
	add(&an, sizeof(an), false);
	add(resp, sizeof(resp), true);
	memset(resp, 0xee, sizeof(resp));
	assert_int_equal(vscsi_ctrl(&el, only_0_0, NULL), 5);
	assert_memory_equal(resp, "\0\0\0\0\0", 5);

	memset(&el, 0, sizeof(el));
	add(&an, 3, false);				/* too short for a type */
	add(resp, sizeof(resp), true);
	vscsi_ctrl(&el, only_0_0, NULL);
	assert_int_equal(resp[0], VIRTIO_SCSI_S_FAILURE);
	memset(&el, 0, sizeof(el));
	add(&an, sizeof(an), false);			/* no room for an answer */
	assert_int_equal(vscsi_ctrl(&el, only_0_0, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_inquiry),
		cmocka_unit_test(t_vpd),
		cmocka_unit_test(t_capacity),
		cmocka_unit_test(t_rw),
		cmocka_unit_test(t_sync_tur_misc),
		cmocka_unit_test(t_mode_sense),
		cmocka_unit_test(t_write_same_unmap),
		cmocka_unit_test(t_cd),
		cmocka_unit_test(t_luns),
		cmocka_unit_test(t_parse_cmd),
		cmocka_unit_test(t_ctrl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
