/*
 * virtio-blk: the request parser on hand-made chains, then whole devices
 * through the virtio-mmio registers with a split ring in fake guest RAM,
 * a real image, io_uring and the event loop. The PCI transport is stubbed:
 * only what virtio-blk-pci hands it is checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/block.h"
#include "backends/object.h"
#include "devices/device.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/ratelimit.h"
#include "lib/util.h"
#include "virtio/blk.h"
#include "virtio/reqq.h"
#include "virtio/virtio.h"
#include "mmio_guest.h"

/* ---- the parser ---- */

static struct virtq_elem el;
static struct virtio_blk_outhdr hdr;
static uint8_t status_buf[8], data[3][8192];
static const struct blk_limits lim = {
	.capacity = 2048, .block_size = 512, .discard = true, .write_zeroes = true,
};

static void chain_reset(void)
{
	memset(&el, 0, sizeof(el));
	memset(data, 0x11, sizeof(data));
	status_buf[0] = 0xee;
}

static void add(void *p, size_t len, bool write)
{
	el.iov[el.out_num + el.in_num] = (struct iovec){ p, len };
	if (write) {
		el.in_num++;
		el.in_len += len;
	} else {
		assert_int_equal(el.in_num, 0);
		el.out_num++;
		el.out_len += len;
	}
}

static void set_hdr(uint32_t type, uint64_t sector)
{
	hdr = (struct virtio_blk_outhdr){ .type = htole32(type), .sector = htole64(sector) };
}

/* A standard request: header, one data buffer, a status byte. */
static int std_req(uint32_t type, uint64_t sector, size_t len, bool write_data,
		   const struct blk_limits *l, struct blk_parsed *p)
{
	chain_reset();
	set_hdr(type, sector);
	add(&hdr, sizeof(hdr), false);
	if (len)
		add(data[0], len, write_data);
	add(status_buf, 1, true);
	return blk_parse(&el, l, p);
}

static uint8_t status_of(uint32_t type, uint64_t sector, size_t len, bool write_data,
			 const struct blk_limits *l)
{
	struct blk_parsed p;

	assert_int_equal(std_req(type, sector, len, write_data, l, &p), 0);
	assert_ptr_equal(p.status_byte, status_buf);
	return p.status;
}

/* Slots are taken as first needed and freed ones reused: the rest stay untouched. */
static void t_reqq_pool(void **state)
{
	struct slot { uint64_t tag; struct reqq_slot rs; } sl[4];
	struct reqq q = { 0 };
	struct reqq_slot *a, *b;

	memset(sl, 0xa5, sizeof(sl));
	reqq_pool(&q, sl, 4, sizeof(sl[0]), offsetof(struct slot, rs));
	a = reqq_slot_peek(&q);
	assert_ptr_equal(a, &sl[0].rs);
	assert_ptr_equal(reqq_slot_peek(&q), a);	/* peeking takes nothing */
	q.free = a->next;				/* in flight */
	for (int i = 1; i < 4; i++)
		assert_int_equal(sl[i].tag, 0xa5a5a5a5a5a5a5a5ull);
	assert_int_equal(q.pool_left, 3);
	reqq_slot_free(&q, a);
	assert_ptr_equal(reqq_slot_peek(&q), a);	/* reused before a new one */
	for (int i = 0; i < 4; i++) {
		b = reqq_slot_peek(&q);
		assert_non_null(b);
		q.free = b->next;
	}
	assert_int_equal(q.pool_left, 0);
	assert_null(reqq_slot_peek(&q));		/* all four in flight */
}

static void t_parse_in_out(void **state)
{
	struct blk_parsed p;

	assert_int_equal(std_req(VIRTIO_BLK_T_IN, 8, 4096, true, &lim, &p), 0);
	assert_int_equal(p.status, VIRTIO_BLK_S_OK);
	assert_int_equal(p.op, BLK_READ);
	assert_int_equal(p.offset, 8 * 512);
	assert_int_equal(p.len, 4096);
	assert_int_equal(p.iov_first, 1);
	assert_int_equal(p.iov_count, 1);
	assert_int_equal(p.head_skip, 0);
	assert_int_equal(p.tail_trim, 0);
	assert_int_equal(p.in_data, 4096);

	assert_int_equal(std_req(VIRTIO_BLK_T_OUT, 2047, 512, false, &lim, &p), 0);
	assert_int_equal(p.status, VIRTIO_BLK_S_OK);
	assert_int_equal(p.op, BLK_WRITE);
	assert_int_equal(p.offset, 2047 * 512);
	assert_int_equal(p.len, 512);
	assert_int_equal(p.iov_first, 1);
	assert_int_equal(p.iov_count, 1);

	/* Zero-length data is valid and does nothing. */
	assert_int_equal(std_req(VIRTIO_BLK_T_IN, 2048, 0, true, &lim, &p), 0);
	assert_int_equal(p.status, VIRTIO_BLK_S_OK);
	assert_int_equal(p.len, 0);
}

/* No framing: header, data and status may share or split descriptors. */
static void t_parse_any_layout(void **state)
{
	static uint8_t out[16 + 1024], in[2048 + 1];
	struct virtio_blk_outhdr *h = (void *)out;
	struct blk_parsed p;

	/* Header and data in one readable buffer, status after data. */
	chain_reset();
	*h = (struct virtio_blk_outhdr){ .type = htole32(VIRTIO_BLK_T_OUT), .sector = htole64(4) };
	add(out, sizeof(out), false);
	add(status_buf, 1, true);
	assert_int_equal(blk_parse(&el, &lim, &p), 0);
	assert_int_equal(p.status, VIRTIO_BLK_S_OK);
	assert_int_equal(p.len, 1024);
	assert_int_equal(p.iov_first, 0);
	assert_int_equal(p.head_skip, 16);
	blk_trim_iov(&el, &p);
	assert_ptr_equal(el.iov[0].iov_base, out + 16);
	assert_int_equal(el.iov[0].iov_len, 1024);

	/* Header split 5 + 5 + 6 + data; data and status in one writable buffer. */
	chain_reset();
	set_hdr(VIRTIO_BLK_T_IN, 6);
	add(&hdr, 5, false);
	add((uint8_t *)&hdr + 5, 5, false);
	add((uint8_t *)&hdr + 10, 6, false);
	add(data[0], 1024, true);
	add(in, sizeof(in), true);
	assert_int_equal(blk_parse(&el, &lim, &p), 0);
	assert_int_equal(p.status, VIRTIO_BLK_S_OK);
	assert_int_equal(p.offset, 6 * 512);
	assert_int_equal(p.len, 3072);
	assert_int_equal(p.iov_first, 3);
	assert_int_equal(p.iov_count, 2);
	assert_int_equal(p.tail_trim, 1);
	assert_ptr_equal(p.status_byte, in + 2048);
	blk_trim_iov(&el, &p);
	assert_int_equal(el.iov[4].iov_len, 2048);

	/* A header straddling into data: 10 bytes, then 6 + 512. */
	chain_reset();
	set_hdr(VIRTIO_BLK_T_OUT, 0);
	memcpy(out, (uint8_t *)&hdr + 10, 6);
	add(&hdr, 10, false);
	add(out, 6 + 512, false);
	add(status_buf, 1, true);
	assert_int_equal(blk_parse(&el, &lim, &p), 0);
	assert_int_equal(p.status, VIRTIO_BLK_S_OK);
	assert_int_equal(p.iov_first, 1);
	assert_int_equal(p.head_skip, 6);
	assert_int_equal(p.len, 512);
}

static void t_parse_malformed(void **state)
{
	struct blk_limits ro = lim;
	struct blk_parsed p;

	ro.ro = true;
	/* Short header: an error for this request only. */
	chain_reset();
	add(&hdr, 15, false);
	add(status_buf, 1, true);
	assert_int_equal(blk_parse(&el, &lim, &p), 0);
	assert_int_equal(p.status, VIRTIO_BLK_S_IOERR);
	chain_reset();
	add(status_buf, 1, true);
	assert_int_equal(blk_parse(&el, &lim, &p), 0);
	assert_int_equal(p.status, VIRTIO_BLK_S_IOERR);
	/* Nowhere to put a status: the driver broke the protocol. */
	chain_reset();
	add(&hdr, sizeof(hdr), false);
	assert_int_equal(blk_parse(&el, &lim, &p), -EINVAL);
	chain_reset();
	add(&hdr, sizeof(hdr), false);
	add(status_buf, 1, false);	/* the "status" is device-readable */
	assert_int_equal(blk_parse(&el, &lim, &p), -EINVAL);
	chain_reset();
	add(&hdr, sizeof(hdr), false);
	add(status_buf, 0, true);	/* only an empty writable segment */
	assert_int_equal(blk_parse(&el, &lim, &p), -EINVAL);

	/* Ranges. */
	assert_int_equal(status_of(VIRTIO_BLK_T_IN, 2048, 512, true, &lim), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(VIRTIO_BLK_T_IN, 2047, 1024, true, &lim), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(VIRTIO_BLK_T_OUT, 1ull << 60, 512, false, &lim),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(VIRTIO_BLK_T_OUT, UINT64_MAX, 512, false, &lim),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(VIRTIO_BLK_T_IN, 0, 1000, true, &lim), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(VIRTIO_BLK_T_OUT, 0, 513, false, &lim), VIRTIO_BLK_S_IOERR);
	/* Types. */
	assert_int_equal(status_of(42, 0, 512, true, &lim), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(status_of(VIRTIO_BLK_T_SCSI_CMD, 0, 512, true, &lim),
			 VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(status_of(VIRTIO_BLK_T_SECURE_ERASE, 0, 16, false, &lim),
			 VIRTIO_BLK_S_UNSUPP);
	/* Read-only: writes fail, reads and flushes do not. */
	assert_int_equal(status_of(VIRTIO_BLK_T_OUT, 0, 512, false, &ro), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(VIRTIO_BLK_T_IN, 0, 512, true, &ro), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(VIRTIO_BLK_T_FLUSH, 0, 0, false, &ro), VIRTIO_BLK_S_OK);
}

static void t_parse_block_size(void **state)
{
	struct blk_limits l = lim;

	l.block_size = 4096;
	assert_int_equal(status_of(VIRTIO_BLK_T_IN, 8, 4096, true, &l), VIRTIO_BLK_S_OK);
	assert_int_equal(status_of(VIRTIO_BLK_T_IN, 1, 4096, true, &l), VIRTIO_BLK_S_IOERR);
	assert_int_equal(status_of(VIRTIO_BLK_T_IN, 8, 512, true, &l), VIRTIO_BLK_S_IOERR);
}

static void t_parse_flush_get_id(void **state)
{
	static char id[40];
	struct blk_parsed p;

	assert_int_equal(std_req(VIRTIO_BLK_T_FLUSH, 99, 0, false, &lim, &p), 0);
	assert_int_equal(p.status, VIRTIO_BLK_S_OK);
	assert_int_equal(p.op, BLK_FLUSH);

	/* Shorter serials are NUL-padded to 20 bytes. */
	assert_int_equal(std_req(VIRTIO_BLK_T_GET_ID, 0, 20, true, &lim, &p), 0);
	assert_int_equal(p.status, VIRTIO_BLK_S_OK);
	blk_trim_iov(&el, &p);
	assert_int_equal(blk_write_id(&el, &p, "SN-1"), 20);
	assert_memory_equal(data[0], "SN-1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	assert_int_equal(data[0][20], 0x11);
	/* Exactly 20: no terminator. */
	assert_int_equal(std_req(VIRTIO_BLK_T_GET_ID, 0, 40, true, &lim, &p), 0);
	blk_trim_iov(&el, &p);
	assert_int_equal(blk_write_id(&el, &p, "ABCDEFGHIJKLMNOPQRST"), 20);
	assert_memory_equal(data[0], "ABCDEFGHIJKLMNOPQRST", 20);
	assert_int_equal(data[0][20], 0x11);
	/* A smaller buffer gets what fits; no serial reads as zeroes. */
	assert_int_equal(std_req(VIRTIO_BLK_T_GET_ID, 0, 7, true, &lim, &p), 0);
	blk_trim_iov(&el, &p);
	assert_int_equal(blk_write_id(&el, &p, NULL), 7);
	assert_int_equal(data[0][6], 0);
	assert_int_equal(data[0][7], 0x11);
	/* Split across two buffers, the status sharing the second. */
	chain_reset();
	set_hdr(VIRTIO_BLK_T_GET_ID, 0);
	add(&hdr, sizeof(hdr), false);
	add(id, 8, true);
	add(id + 8, 13, true);
	assert_int_equal(blk_parse(&el, &lim, &p), 0);
	assert_ptr_equal(p.status_byte, id + 20);
	blk_trim_iov(&el, &p);
	assert_int_equal(blk_write_id(&el, &p, "0123456789abcdefghijk"), 20);
	assert_memory_equal(id, "0123456789abcdefghij", 20);
}

/* DISCARD / WRITE_ZEROES: one segment after the header. */
static uint8_t dwz(uint32_t type, uint64_t sector, uint32_t num, uint32_t flags,
		   unsigned nseg, size_t extra, const struct blk_limits *l, struct blk_parsed *p)
{
	static struct virtio_blk_discard_write_zeroes seg[2];

	chain_reset();
	set_hdr(type, 0);
	for (unsigned i = 0; i < 2; i++)
		seg[i] = (struct virtio_blk_discard_write_zeroes){
			.sector = htole64(sector), .num_sectors = htole32(num),
			.flags = htole32(flags) };
	add(&hdr, sizeof(hdr), false);
	if (nseg || extra)
		add(seg, nseg * sizeof(seg[0]) + extra, false);
	add(status_buf, 1, true);
	assert_int_equal(blk_parse(&el, l, p), 0);
	return p->status;
}

static void t_parse_discard_write_zeroes(void **state)
{
	const uint32_t D = VIRTIO_BLK_T_DISCARD, W = VIRTIO_BLK_T_WRITE_ZEROES;
	const uint32_t UNMAP = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	struct blk_limits off = lim, ro = lim;
	struct blk_parsed p;

	off.discard = off.write_zeroes = false;
	ro.ro = true;
	assert_int_equal(dwz(D, 16, 32, 0, 1, 0, &lim, &p), VIRTIO_BLK_S_OK);
	assert_int_equal(p.op, BLK_DISCARD);
	assert_int_equal(p.offset, 16 * 512);
	assert_int_equal(p.len, 32 * 512);
	assert_int_equal(p.iov_count, 0);
	assert_int_equal(dwz(W, 0, 2048, UNMAP, 1, 0, &lim, &p), VIRTIO_BLK_S_OK);
	assert_int_equal(p.op, BLK_WRITE_ZEROES);
	assert_true(p.unmap);
	assert_int_equal(dwz(W, 0, 8, 0, 1, 0, &lim, &p), VIRTIO_BLK_S_OK);
	assert_false(p.unmap);
	/* Zero sectors: nothing to do. */
	assert_int_equal(dwz(D, 0, 0, 0, 1, 0, &lim, &p), VIRTIO_BLK_S_OK);
	assert_int_equal(p.len, 0);

	assert_int_equal(dwz(D, 0, 8, UNMAP, 1, 0, &lim, &p), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(W, 0, 8, 2, 1, 0, &lim, &p), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(D, 0, 8, 0, 1, 0, &off, &p), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(W, 0, 8, 0, 1, 0, &off, &p), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(D, 0, 8, 0, 1, 0, &ro, &p), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(W, 0, 8, 0, 1, 0, &ro, &p), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(D, 0, 8, 0, 2, 0, &lim, &p), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(D, 0, 8, 0, 0, 0, &lim, &p), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(D, 0, 8, 0, 1, 4, &lim, &p), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(D, 0, 8, 0, 0, 8, &lim, &p), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(D, 2047, 2, 0, 1, 0, &lim, &p), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(W, UINT64_MAX - 1, 8, 0, 1, 0, &lim, &p), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(W, 0, VIRTIO_BLK_MAX_DWZ_SECTORS + 1, 0, 1, 0, &lim, &p),
			 VIRTIO_BLK_S_IOERR);
}

/* ---- whole devices ---- */

#define IMG_SIZE	(1 * MiB)

static char dir[256], img[300];

static void put_hdr(uint64_t gpa, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { .type = htole32(type), .sector = htole64(sector) };

	memcpy(ram + gpa, &h, sizeof(h));
}

/* A request in the usual three descriptors; returns the status byte's gpa. */
static uint64_t request(uint32_t type, uint64_t sector, uint64_t data_gpa, uint32_t len,
			bool write_data)
{
	static unsigned n;
	uint64_t hgpa = BUF_GPA + (n % 8) * 32, sgpa = hgpa + 16;
	struct seg s[3] = { { hgpa, 16, false }, { data_gpa, len, write_data }, { sgpa, 1, true } };

	n++;
	put_hdr(hgpa, type, sector);
	ram[sgpa] = 0xee;
	if (len)
		post(s, 3);
	else
		post((struct seg[]){ s[0], s[2] }, 2);
	return sgpa;
}

static int setup_dev(void **state)
{
	const char *tmp = getenv("TMPDIR");
	uint8_t buf[4096];
	int fd;

	guest_setup();

	snprintf(dir, sizeof(dir), "%s/ember-vblk-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	for (unsigned i = 0; i < IMG_SIZE / sizeof(buf); i++) {
		memset(buf, i, sizeof(buf));
		assert_int_equal(write(fd, buf, sizeof(buf)), sizeof(buf));
	}
	close(fd);
	return 0;
}

static int teardown_dev(void **state)
{
	char cmd[300];

	device_destroy_all(&pf);
	object_cleanup_all();
	guest_teardown();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static int blockdev(const char *extra)
{
	char o[512];

	snprintf(o, sizeof(o), "driver=raw,node-name=d0,file.driver=file,file.filename=%s%s",
		 img, extra);
	return object_create(OBJ_BLOCKDEV, o, loop);
}

static uint32_t cfg32(unsigned off)
{
	uint32_t v;

	assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_CONFIG + off, &v, 4));
	return le32toh(v);
}

/* A request (header + segments + status) must fit a small ring. */
static void t_seg_max_small_queue(void **state)
{
	assert_int_equal(blockdev(""), 0);
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0,queue-size=16"), 0);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, seg_max)), 14);
}

static void t_config(void **state)
{
	uint64_t f;
	uint16_t nq;

	assert_int_equal(blockdev(",discard=unmap"), 0);
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0,num-queues=2,"
				       "logical_block_size=4096"), 0);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	f = dev_features();
	assert_true(f & 1ull << VIRTIO_BLK_F_SEG_MAX);
	assert_true(f & 1ull << VIRTIO_BLK_F_BLK_SIZE);
	assert_true(f & 1ull << VIRTIO_BLK_F_FLUSH);
	assert_true(f & 1ull << VIRTIO_BLK_F_MQ);
	assert_true(f & 1ull << VIRTIO_BLK_F_DISCARD);
	assert_true(f & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	assert_false(f & 1ull << VIRTIO_BLK_F_RO);
	assert_false(f & 1ull << VIRTIO_BLK_F_CONFIG_WCE);
	assert_true(f & 1ull << VIRTIO_F_VERSION_1);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, capacity)), IMG_SIZE / 512);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, capacity) + 4), 0);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, seg_max)), VIRTQ_MAX_IOV - 2);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, blk_size)), 4096);
	assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_CONFIG +
			     offsetof(struct virtio_blk_config, num_queues), &nq, 2));
	assert_int_equal(nq, 2);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, max_discard_sectors)),
			 VIRTIO_BLK_MAX_DWZ_SECTORS);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, max_discard_seg)), 1);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, discard_sector_alignment)), 8);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, max_write_zeroes_sectors)),
			 VIRTIO_BLK_MAX_DWZ_SECTORS);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, max_write_zeroes_seg)), 1);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, write_zeroes_may_unmap)) & 0xff,
			 1);
	/* Past the end of the config space reads as zero. */
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, max_secure_erase_sectors)), 0);
}

/* write-cache=off (QEMU's; -drive cache=writethrough): no FLUSH, so Linux says write through. */
static void t_config_write_through(void **state)
{
	assert_int_equal(blockdev(""), 0);
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0,write-cache=off"), 0);
	assert_false(dev_features() & 1ull << VIRTIO_BLK_F_FLUSH);
	assert_false(dev_features() & 1ull << VIRTIO_BLK_F_CONFIG_WCE);
}

static void t_config_write_cache_bad(void **state)
{
	assert_int_equal(blockdev(""), 0);
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0,write-cache=maybe"),
			 -EINVAL);
	assert_string_equal(log_last(), "-device virtio-blk-device: write-cache=maybe: expected "
			    "on, off or auto");
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0,write-cache=auto"), 0);
	assert_true(dev_features() & 1ull << VIRTIO_BLK_F_FLUSH);
}

static void t_config_read_only(void **state)
{
	uint64_t f;

	assert_int_equal(blockdev(",read-only=on"), 0);
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0"), 0);
	f = dev_features();
	assert_true(f & 1ull << VIRTIO_BLK_F_RO);
	assert_false(f & 1ull << VIRTIO_BLK_F_MQ);
	assert_false(f & 1ull << VIRTIO_BLK_F_DISCARD);
	assert_false(f & 1ull << VIRTIO_BLK_F_WRITE_ZEROES);
	assert_int_equal(cfg32(offsetof(struct virtio_blk_config, blk_size)), 512);
}

static void t_io(void **state)
{
	const uint64_t D = 0x20000, S = 0x40000;	/* data buffers */
	uint64_t st, st2;
	int fd;
	uint8_t disk[4096];

	assert_int_equal(blockdev(",discard=unmap"), 0);
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0,serial=EMBER-SN"), 0);
	driver_start(~0ull);

	/* Read sector 8 (the image's second 4 KiB holds 0x01). */
	st = request(VIRTIO_BLK_T_IN, 8, D, 4096, true);
	kick_wait(1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_int_equal(ram[D], 1);
	assert_int_equal(ram[D + 4095], 1);
	assert_int_equal(used_elem(used_seen[0] - 1).len, 4097);
	assert_true(irqs >= 1);

	/* Write two blocks, flush, and find them in the file. */
	memset(ram + S, 0x5a, 8192);
	st = request(VIRTIO_BLK_T_OUT, 16, S, 8192, false);
	st2 = request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	kick_wait(2);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_int_equal(ram[st2], VIRTIO_BLK_S_OK);
	fd = open(img, O_RDONLY);
	assert_int_equal(pread(fd, disk, sizeof(disk), 16 * 512), sizeof(disk));
	assert_int_equal(disk[0], 0x5a);
	assert_int_equal(disk[4095], 0x5a);
	close(fd);

	/* GET_ID. */
	memset(ram + D, 0xff, 64);
	st = request(VIRTIO_BLK_T_GET_ID, 0, D, 20, true);
	kick_wait(1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_memory_equal(ram + D, "EMBER-SN\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	assert_int_equal(used_elem(used_seen[0] - 1).len, 21);

	/* Errors come back as statuses; the device keeps going. */
	st = request(VIRTIO_BLK_T_IN, IMG_SIZE / 512, D, 512, true);
	st2 = request(77, 0, D, 512, true);
	kick_wait(2);
	assert_int_equal(ram[st], VIRTIO_BLK_S_IOERR);
	assert_int_equal(ram[st2], VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(used_elem(used_seen[0] - 1).len, 1);

	/* WRITE_ZEROES with unmap, then read back. */
	{
		struct virtio_blk_discard_write_zeroes seg = {
			.sector = htole64(16), .num_sectors = htole32(8),
			.flags = htole32(VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) };

		memcpy(ram + S, &seg, sizeof(seg));
		st = request(VIRTIO_BLK_T_WRITE_ZEROES, 0, S, sizeof(seg), false);
		kick_wait(1);
		assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
		st = request(VIRTIO_BLK_T_IN, 16, D, 4096, true);
		kick_wait(1);
		assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
		assert_int_equal(ram[D], 0);
		assert_int_equal(ram[D + 4095], 0);
	}
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

/* Many requests in flight at once, the ring wrapping around. */
static void t_io_many(void **state)
{
	const uint64_t D = 0x20000;
	enum { N = QSIZE / 2 };

	assert_int_equal(blockdev(""), 0);
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0,queue-size=16"), 0);
	driver_start(~0ull);
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < N; i++) {
			/* Header, then data and status in one writable buffer. */
			uint64_t h = BUF_GPA + i * 32, d = D + i * 8192;
			struct seg s[2] = { { h, 16, false }, { d, 4097, true } };

			put_hdr(h, VIRTIO_BLK_T_IN, (round * N + i) % 256 * 8);
			ram[d + 4096] = 0xee;
			post(s, 2);
		}
		kick_wait(N);
		for (int i = 0; i < N; i++) {
			uint64_t d = D + i * 8192;

			assert_int_equal(ram[d + 4096], VIRTIO_BLK_S_OK);
			assert_int_equal(ram[d], (round * N + i) % 256);
			assert_int_equal(used_elem(used_seen[0] - N + i).len, 4097);
		}
	}
}

static void t_io_read_only(void **state)
{
	const uint64_t D = 0x20000;
	uint64_t st;

	assert_int_equal(blockdev(",read-only=on"), 0);
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0"), 0);
	driver_start(~0ull);
	memset(ram + D, 0x77, 512);
	st = request(VIRTIO_BLK_T_OUT, 0, D, 512, false);
	kick_wait(1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_IOERR);
	st = request(VIRTIO_BLK_T_IN, 0, D, 512, true);
	kick_wait(1);
	assert_int_equal(ram[st], VIRTIO_BLK_S_OK);
	assert_int_equal(ram[D], 0);	/* the write did not land */
}

/* A chain with no status byte breaks the device, and only the device. */
static void t_io_broken(void **state)
{
	struct seg s = { BUF_GPA, 16, false };

	assert_int_equal(blockdev(""), 0);
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0"), 0);
	driver_start(~0ull);
	put_hdr(BUF_GPA, VIRTIO_BLK_T_IN, 0);
	post(&s, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* A reset brings it back. */
	driver_start(~0ull);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	kick_wait(1);
	/* A descriptor outside RAM: the virtqueue layer refuses the chain. */
	s = (struct seg){ RAM_SIZE + 0x1000, 16, false };
	post(&s, 1);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

/* A reset while reads are in flight: their completions are dropped. */
static void t_io_reset_in_flight(void **state)
{
	const uint64_t D = 0x20000;

	assert_int_equal(blockdev(""), 0);
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0"), 0);
	driver_start(~0ull);
	for (int i = 0; i < 4; i++)
		request(VIRTIO_BLK_T_IN, i * 8, D + i * 4096, 4096, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	driver_start(~0ull);	/* resets first */
	for (int i = 0; i < 50; i++) {
		struct itimerspec its = { .it_value = { 0, 1000000 } };

		timerfd_settime(timer_fd, 0, &its, NULL);
		loop_run(loop);
	}
	assert_int_equal(used_idx(), 0);
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	kick_wait(1);
}

static void t_props(void **state)
{
	assert_int_equal(blockdev(""), 0);
	expect_dev_error("virtio-blk-pci,drive=x",
			 "-device virtio-blk-pci: no -blockdev with node-name 'x'");
	expect_dev_error("virtio-blk-device", "property 'drive' is required");
	expect_dev_error("virtio-blk-device,drive=d0,queue-size=100", "queue-size=100 is not a power of 2");
	expect_dev_error("virtio-blk-device,drive=d0,queue-size=2048", "out of range");
	expect_dev_error("virtio-blk-device,drive=d0,num-queues=65", "out of range");
	expect_dev_error("virtio-blk-device,drive=d0,num-queues=0", "out of range");
	expect_dev_error("virtio-blk-device,drive=d0,logical_block_size=1024x", "not a number");
	expect_dev_error("virtio-blk-device,drive=d0,logical_block_size=1536", "not a power of 2");
	expect_dev_error("virtio-blk-device,drive=d0,serial=123456789012345678901", "longer than 20");
	expect_dev_error("virtio-blk-pci,drive=d0,addr=20", "addr=20");
	expect_dev_error("virtio-blk-pci,drive=d0,addr=4.8", "addr=4.8");
	expect_dev_error("virtio-blk-pci,drive=d0,addr=zz", "addr=zz");
	expect_dev_error("virtio-blk-pci,drive=d0,addr=-1", "addr=-1");
	expect_dev_error("virtio-blk-pci,drive=d0,addr=4.", "addr=4.");
	expect_dev_error("virtio-blk-device,drive=d0,addr=4", "unknown property 'addr'");

	expect_pci("virtio-blk-pci,drive=d0,addr=0x4,bus=pci.0", 4, 0, "pci.0");
	expect_dev_error("virtio-blk-device,drive=d0", "already used by -device virtio-blk-pci");
	device_destroy_all(&pf);
	assert_null(pci_dev);

	expect_pci("virtio-blk-pci,drive=d0,addr=1f.7", 31, 7, NULL);
	device_destroy_all(&pf);
	expect_pci("virtio-blk-pci,drive=d0,addr=10", 16, 0, NULL);
	device_destroy_all(&pf);
	expect_pci("virtio-blk-pci,drive=d0", -1, 0, NULL);
}

/* A frozen clock: tokens never refill, so what throttling holds back stays. */
static uint64_t frozen_clock(void)
{
	return 1000000000ull;
}

/* A reset drops the requests throttling.* holds back; they never run. */
static void t_io_reset_throttled(void **state)
{
	const uint64_t D = 0x20000;

	/* 100 kB/s, 10 kB burst, and time stands still: after the first 32 KiB
	 * read, the others wait for good. */
	ratelimit_set_clock(frozen_clock);
	assert_int_equal(blockdev(",throttling.bps-total=100000"), 0);
	assert_int_equal(device_create(&pf, "virtio-blk-device,drive=d0"), 0);
	driver_start(~0ull);
	for (int i = 0; i < 4; i++)
		request(VIRTIO_BLK_T_IN, i * 64, D + i * 32768, 32768, true);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	driver_start(~0ull);	/* resets first */
	/* A flush queues behind what waits: it completes only if that was
	 * dropped by the reset. */
	request(VIRTIO_BLK_T_FLUSH, 0, 0, 0, false);
	kick_wait(1);
	assert_int_equal(used_elem(0).len, 1);
	ratelimit_set_clock(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_reqq_pool),
		cmocka_unit_test(t_parse_in_out),
		cmocka_unit_test(t_parse_any_layout),
		cmocka_unit_test(t_parse_malformed),
		cmocka_unit_test(t_parse_block_size),
		cmocka_unit_test(t_parse_flush_get_id),
		cmocka_unit_test(t_parse_discard_write_zeroes),
		cmocka_unit_test_setup_teardown(t_config, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_seg_max_small_queue, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_config_read_only, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_config_write_through, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_config_write_cache_bad, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_io, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_io_many, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_io_read_only, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_io_broken, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_io_reset_in_flight, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_io_reset_throttled, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_props, setup_dev, teardown_dev),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
