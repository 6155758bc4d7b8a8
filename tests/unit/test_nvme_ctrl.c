/*
 * The NVMe controller (devices/nvme.c, included here for its internals)
 * driven the way a guest driver drives it: registers, an admin queue and
 * I/O queues in synthetic guest RAM, doorbells (processed at once: no event
 * loop), and a fake block layer whose requests the test completes by hand.
 * Each admin command a Linux guest sends, each status a bad command must
 * get, the I/O path (FUA, DSM, write zeroes), resets with requests in
 * flight, INTx, and the shadow doorbells.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../devices/nvme.c"

/* ---- a fake block layer ---- */

static int fake_blk_storage;
static struct blk *const fake_blk = (struct blk *)&fake_blk_storage;
static struct blk_req *reqs[64];
static unsigned nreqs;

struct blk *blk_find(const char *node_name)
{
	return strcmp(node_name, "d0") ? NULL : fake_blk;
}
int blk_attach(struct blk *b, const char *owner, unsigned queues, unsigned depth)
{
	(void)b; (void)owner; (void)queues; (void)depth;
	return 0;
}
void blk_detach(struct blk *b) { (void)b; }
uint64_t blk_size(const struct blk *b) { (void)b; return 1 << 20; }
bool blk_read_only(const struct blk *b) { (void)b; return false; }
bool blk_discard_supported(const struct blk *b) { (void)b; return true; }
void blk_set_batch_end(struct blk *b, blk_batch_fn fn, void *opaque)
{
	(void)b; (void)fn; (void)opaque;
}
int blk_submit(struct blk *b, unsigned queue, struct blk_req *r)
{
	(void)b; (void)queue;
	assert_true(nreqs < 64);
	reqs[nreqs++] = r;
	return 0;
}
void blk_flush_queue(struct blk *b, unsigned queue) { (void)b; (void)queue; }
void blk_drain(struct blk *b) { (void)b; }

/* Completes the oldest request; the controller may submit the next step. */
static struct blk_req *complete(int result)
{
	struct blk_req *r;

	assert_true(nreqs > 0);
	r = reqs[0];
	memmove(reqs, reqs + 1, --nreqs * sizeof(reqs[0]));
	r->done(r, result);
	return r;
}

/* ---- the machine ---- */

#define RAM_SIZE	(4u << 20)
#define ASQ		0x10000ull
#define ACQ		0x11000ull
#define IOSQ		0x12000ull
#define IOCQ		0x13000ull
#define BUF		0x20000ull
#define LIST		0x30000ull
#define DBS		0x40000ull
#define EIS		0x41000ull

static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static struct gmem mem;
static struct platform pf;
static struct device dev;
static struct nvme_state *st;
static struct nvme_ctrl *n;
static int irq_level[64];
static uint16_t asq_tail, acq_head, iosq_tail, iocq_head;
static bool acq_phase, iocq_phase;

static void fake_irq_set(void *opaque, unsigned gsi, int level)
{
	(void)opaque;
	if (gsi < 64)
		irq_level[gsi] = level;
}

static void w32(uint64_t off, uint32_t v) { bar_write(n, off, &v, 4); }
static void w64(uint64_t off, uint64_t v) { bar_write(n, off, &v, 8); }
static uint32_t r32(uint64_t off)
{
	uint32_t v;

	bar_read(n, off, &v, 4);
	return v;
}

static void ctrl_enable(void)
{
	w32(REG_AQA, 7 << 16 | 7);
	w64(REG_ASQ, ASQ);
	w64(REG_ACQ, ACQ);
	w32(REG_CC, 1 | 6 << 16 | 4 << 20);
	asq_tail = acq_head = iosq_tail = iocq_head = 0;
	acq_phase = iocq_phase = true;
}

static int setup(void **state)
{
	(void)state;
	memset(ram, 0, sizeof(ram));
	memset(&mem, 0, sizeof(mem));
	memset(&pf, 0, sizeof(pf));
	memset(irq_level, 0, sizeof(irq_level));
	nreqs = 0;
	log_set_quiet(1);
	gmem_add(&mem, 0, RAM_SIZE, ram, -1, 0);
	bus_init(&pf.pio, "pio");
	bus_init(&pf.mmio, "mmio");
	pf.mem = &mem;
	pf.irq_set = fake_irq_set;
	assert_int_equal(pci_host_create(&pf, 0xe0000000, 0xc0000000, 1 << 28, 0, 0), 0);
	st = calloc(1, sizeof(*st));
	assert_int_equal(props_set_defaults(nvme_props, st, "nvme"), 0);
	st->serial = strdup("SN1");
	st->drive = strdup("d0");
	st->num_queues = 2;
	dev = (struct device){ .type = &nvme_type, .state = st };
	assert_int_equal(nvme_realize(&dev, &pf), 0);
	n = st->n;
	ctrl_enable();
	assert_int_equal(r32(REG_CSTS) & CSTS_RDY, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nvme_free(&dev, &pf);
	props_free(nvme_props, st);
	free(st);
	pci_host_destroy(&pf);
	bus_destroy(&pf.pio);
	bus_destroy(&pf.mmio);
	return 0;
}

/* Submits @c on the admin queue; returns the status of its completion. */
static uint16_t admin_cmd(struct nvme_sqe c, uint32_t *dw0)
{
	struct nvme_cqe *e = (struct nvme_cqe *)(ram + ACQ) + acq_head;

	c.cid = 0x100 + asq_tail;
	memcpy(ram + ASQ + 64 * asq_tail, &c, 64);
	asq_tail = (asq_tail + 1) % 8;
	w32(REG_DB, asq_tail);
	if ((e->status & 1) != acq_phase)
		return 0xdead;		/* no completion */
	assert_int_equal(e->cid, c.cid);
	assert_int_equal(e->sq_id, 0);
	assert_int_equal(e->sq_head, asq_tail);
	if (dw0)
		*dw0 = e->dw0;
	if (++acq_head == 8) {
		acq_head = 0;
		acq_phase = !acq_phase;
	}
	w32(REG_DB + 4, acq_head);
	return e->status >> 1;
}

static void io_submit(struct nvme_sqe c)
{
	c.cid = 0x200 + iosq_tail;
	memcpy(ram + IOSQ + 64 * iosq_tail, &c, 64);
	iosq_tail = (iosq_tail + 1) % 16;
	w32(REG_DB + 8, iosq_tail);
}

/* The next I/O completion's status, or 0xdead when there is none. */
static uint16_t io_reap(void)
{
	struct nvme_cqe *e = (struct nvme_cqe *)(ram + IOCQ) + iocq_head;

	if ((e->status & 1) != iocq_phase)
		return 0xdead;
	assert_int_equal(e->sq_id, 1);
	if (++iocq_head == 16) {
		iocq_head = 0;
		iocq_phase = !iocq_phase;
	}
	w32(REG_DB + 12, iocq_head);
	return e->status >> 1;
}

static void io_queues(void)
{
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_CREATE_CQ,
			 .prp1 = IOCQ, .cdw10 = 15 << 16 | 1, .cdw11 = 1 << 16 | 3 }, NULL), 0);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_CREATE_SQ,
			 .prp1 = IOSQ, .cdw10 = 15 << 16 | 1, .cdw11 = 1 << 16 | 1 }, NULL), 0);
}

/* ---- tests ---- */

static void t_registers(void **state)
{
	uint64_t cap;

	(void)state;
	bar_read(n, REG_CAP, &cap, 8);
	assert_int_equal(cap & 0xffff, QUEUE_DEPTH - 1);
	assert_true(cap & BIT(37));
	assert_int_equal(r32(REG_VS), 0x00010400);
	w32(REG_CC, r32(REG_CC) | 1 << 14);		/* normal shutdown */
	assert_int_equal(r32(REG_CSTS) & 0xc, CSTS_SHST_DONE);
	w32(REG_CC, 0);
	assert_int_equal(r32(REG_CSTS), 0);
	/* Admin queues outside RAM: fatal status, nothing runs. */
	w64(REG_ASQ, 0x7000000000ull);
	w32(REG_CC, 1 | 6 << 16 | 4 << 20);
	assert_int_equal(r32(REG_CSTS), CSTS_CFS);
	w32(REG_DB, 1);
	w32(REG_CC, 0);
	ctrl_enable();
	assert_int_equal(r32(REG_CSTS), CSTS_RDY);
}

static void t_identify(void **state)
{
	uint8_t *b = ram + BUF;
	uint64_t nsze;
	uint32_t v;

	(void)state;
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_IDENTIFY, .prp1 = BUF,
						     .cdw10 = 1 }, NULL), 0);
	assert_int_equal(b[0] | b[1] << 8, 0x1b36);
	assert_memory_equal(b + 4, "SN1                 ", 20);
	assert_int_equal(b[77], NVME_MDTS);
	assert_int_equal(b[512], 0x66);
	assert_true(b[256] == 0 && b[257] == 1);	/* OACS: Doorbell Buffer Config */
	memcpy(&v, b + 516, 4);
	assert_int_equal(v, NVME_MAX_NS);
	memset(b, 0xff, 4096);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_IDENTIFY, .nsid = 1,
						     .prp1 = BUF + 0x800, .prp2 = BUF + 0x1000 },
				   NULL), 0);
	memcpy(&nsze, b + 0x800, 8);
	assert_int_equal(nsze, 2048);
	assert_int_equal(b[0x800 + 128 + 2], 9);	/* LBAF0: 512-byte blocks */
	/* An inactive namespace reads as zeroes; one past NN is refused. */
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_IDENTIFY, .nsid = 2,
						     .prp1 = BUF }, NULL), 0);
	assert_int_equal(b[0] | b[8] | b[128 + 2], 0);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_IDENTIFY, .nsid = 33,
						     .prp1 = BUF }, NULL), NVME_SC_INVALID_NS | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_IDENTIFY, .prp1 = BUF,
						     .cdw10 = 2 }, NULL), 0);
	memcpy(&v, b, 4);
	assert_int_equal(v, 1);
	memcpy(&v, b + 4, 4);
	assert_int_equal(v, 0);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_IDENTIFY, .nsid = 1,
						     .prp1 = BUF, .cdw10 = 3 }, NULL), 0);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_IDENTIFY, .nsid = 2,
						     .prp1 = BUF, .cdw10 = 3 }, NULL),
			 NVME_SC_INVALID_NS | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_IDENTIFY, .prp1 = BUF,
						     .cdw10 = 9 }, NULL), NVME_SC_INVALID_FIELD | NVME_DNR);
	/* Bad buffers: misaligned, outside RAM, an SGL. */
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_IDENTIFY, .prp1 = BUF + 2,
						     .cdw10 = 1 }, NULL),
			 NVME_SC_PRP_OFFSET_INVALID | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_IDENTIFY,
						     .prp1 = RAM_SIZE, .cdw10 = 1 }, NULL),
			 NVME_SC_DATA_XFER_ERROR | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_IDENTIFY, .flags = 0x40,
						     .prp1 = BUF, .cdw10 = 1 }, NULL),
			 NVME_SC_INVALID_FIELD | NVME_DNR);
}

static void t_queues(void **state)
{
	struct nvme_sqe cq = { .opcode = NVME_ADM_CREATE_CQ, .prp1 = IOCQ,
			       .cdw10 = 15 << 16 | 1, .cdw11 = 1 << 16 | 3 };
	struct nvme_sqe c;

	(void)state;
	c = cq; c.cdw10 = 15 << 16;
	assert_int_equal(admin_cmd(c, NULL), NVME_SC_QID_INVALID | NVME_DNR);
	c = cq; c.cdw10 = 15 << 16 | 3;			/* only 2 pairs */
	assert_int_equal(admin_cmd(c, NULL), NVME_SC_QID_INVALID | NVME_DNR);
	c = cq; c.cdw10 = 1;				/* one entry */
	assert_int_equal(admin_cmd(c, NULL), NVME_SC_QUEUE_SIZE | NVME_DNR);
	c = cq; c.cdw10 = 4096u << 16 | 1;
	assert_int_equal(admin_cmd(c, NULL), NVME_SC_QUEUE_SIZE | NVME_DNR);
	c = cq; c.cdw11 = 1 << 16 | 2;			/* not contiguous */
	assert_int_equal(admin_cmd(c, NULL), NVME_SC_INVALID_FIELD | NVME_DNR);
	c = cq; c.cdw11 = 5 << 16 | 3;
	assert_int_equal(admin_cmd(c, NULL), NVME_SC_INVALID_VECTOR | NVME_DNR);
	c = cq; c.prp1 = IOCQ + 0x100;
	assert_int_equal(admin_cmd(c, NULL), NVME_SC_PRP_OFFSET_INVALID | NVME_DNR);
	c = cq; c.prp1 = RAM_SIZE;			/* past RAM */
	assert_int_equal(admin_cmd(c, NULL), NVME_SC_DATA_XFER_ERROR | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_CREATE_SQ,
			 .prp1 = IOSQ, .cdw10 = 15 << 16 | 1, .cdw11 = 1 << 16 | 1 }, NULL),
			 NVME_SC_CQ_INVALID | NVME_DNR);
	io_queues();
	assert_int_equal(admin_cmd(cq, NULL), NVME_SC_QID_INVALID | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_DELETE_CQ, .cdw10 = 1 },
				   NULL), NVME_SC_INVALID_QUEUE_DELETION | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_DELETE_SQ, .cdw10 = 1 },
				   NULL), 0);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_DELETE_SQ, .cdw10 = 1 },
				   NULL), NVME_SC_QID_INVALID | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_DELETE_CQ, .cdw10 = 1 },
				   NULL), 0);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_DELETE_CQ, .cdw10 = 0 },
				   NULL), NVME_SC_QID_INVALID | NVME_DNR);
}

static void t_features_logs(void **state)
{
	uint32_t dw0 = 0;

	(void)state;
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_SET_FEATURES,
			 .cdw10 = 7, .cdw11 = 63 << 16 | 63 }, &dw0), 0);
	assert_int_equal(dw0, 1 << 16 | 1);		/* two pairs granted */
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_GET_FEATURES,
			 .cdw10 = 6 }, &dw0), 0);
	assert_int_equal(dw0, 1);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_SET_FEATURES,
			 .cdw10 = 6, .cdw11 = 0 }, NULL), 0);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_GET_FEATURES,
			 .cdw10 = 6 }, &dw0), 0);
	assert_int_equal(dw0, 0);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_SET_FEATURES,
			 .cdw10 = 8, .cdw11 = 0x0a05 }, NULL), 0);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_GET_FEATURES,
			 .cdw10 = 8 }, &dw0), 0);
	assert_int_equal(dw0, 0x0a05);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_GET_FEATURES,
			 .cdw10 = 0x77 }, NULL), NVME_SC_INVALID_FIELD | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_SET_FEATURES,
			 .cdw10 = BIT(31) | 6 }, NULL), NVME_SC_FEAT_NOT_SAVEABLE | NVME_DNR);
	/* SMART, 512 bytes; an unknown log page. */
	memset(ram + BUF, 0xff, 4096);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_GET_LOG, .prp1 = BUF,
			 .cdw10 = 127 << 16 | 2 }, NULL), 0);
	assert_int_equal(ram[BUF + 3], 100);
	assert_int_equal(ram[BUF + 0], 0);
	assert_int_equal(ram[BUF + 512], 0xff);	/* nothing past the length */
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_GET_LOG, .prp1 = BUF,
			 .cdw10 = 127 << 16 | 0x55 }, NULL), NVME_SC_INVALID_LOG_PAGE | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_GET_LOG, .prp1 = BUF,
			 .cdw10 = 0xffffu << 16 | 2, .cdw11 = 0xffff }, NULL),
			 NVME_SC_INVALID_FIELD | NVME_DNR);
}

static void t_aer_abort(void **state)
{
	uint32_t dw0 = 0;

	(void)state;
	for (unsigned i = 0; i < MAX_AER; i++)
		assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_AER }, NULL),
				 0xdead);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_AER }, NULL),
			 NVME_SC_AER_LIMIT | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_ABORT }, &dw0), 0);
	assert_int_equal(dw0, 1);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = 0xff }, NULL),
			 NVME_SC_INVALID_OPCODE | NVME_DNR);
}

static struct nvme_sqe io(uint8_t op, uint64_t slba, uint16_t nlb0, uint64_t prp1)
{
	return (struct nvme_sqe){ .opcode = op, .nsid = 1, .prp1 = prp1, .cdw10 = (uint32_t)slba,
				  .cdw11 = slba >> 32, .cdw12 = nlb0 };
}

static void t_io(void **state)
{
	struct nvme_sqe c;
	struct blk_req *r;
	struct nvme_dsm_range ranges[2] = { { .nlb = 8, .slba = 16 }, { .nlb = 0 } };

	(void)state;
	io_queues();
	io_submit(io(NVME_CMD_READ, 0, 7, BUF));
	assert_int_equal(nreqs, 1);
	assert_int_equal(reqs[0]->op, BLK_READ);
	assert_int_equal(reqs[0]->iovcnt, 1);
	assert_ptr_equal(reqs[0]->iov[0].iov_base, ram + BUF);
	assert_int_equal(reqs[0]->iov[0].iov_len, 4096);
	assert_int_equal(io_reap(), 0xdead);
	complete(4096);
	assert_int_equal(io_reap(), 0);
	/* Refused at once, nothing reaches the block layer. */
	io_submit(io(NVME_CMD_READ, 2047, 1, BUF));
	assert_int_equal(io_reap(), NVME_SC_LBA_RANGE | NVME_DNR);
	c = io(NVME_CMD_READ, 0, 0, BUF);
	c.nsid = 5;
	io_submit(c);
	assert_int_equal(io_reap(), NVME_SC_INVALID_NS | NVME_DNR);
	io_submit(io(NVME_CMD_WRITE, 0, 15, BUF + 0x10));
	assert_int_equal(io_reap(), 0xdead);
	complete(8192);
	assert_int_equal(io_reap(), 0);
	io_submit(io(NVME_CMD_WRITE, 0, 0, BUF + 1));
	assert_int_equal(io_reap(), NVME_SC_PRP_OFFSET_INVALID | NVME_DNR);
	io_submit(io(0x7f, 0, 0, BUF));
	assert_int_equal(io_reap(), NVME_SC_INVALID_OPCODE | NVME_DNR);
	assert_int_equal(nreqs, 0);
	/* An SGL data block at an odd address (SGLS: any alignment). */
	c = io(NVME_CMD_READ, 0, 0, BUF + 3);
	c.flags = 1 << 6;
	c.prp2 = 512;
	io_submit(c);
	assert_int_equal(nreqs, 1);
	assert_ptr_equal(reqs[0]->iov[0].iov_base, ram + BUF + 3);
	complete(512);
	assert_int_equal(io_reap(), 0);
	c.flags = 0x01;				/* fused */
	io_submit(c);
	assert_int_equal(io_reap(), NVME_SC_INVALID_FIELD | NVME_DNR);
	/* FUA: the write, then a flush, then the completion. */
	c = io(NVME_CMD_WRITE, 8, 7, BUF);
	c.cdw12 |= BIT(30);
	io_submit(c);
	r = complete(4096);
	assert_int_equal(r->op, BLK_FLUSH);	/* the same slot, reused */
	assert_int_equal(io_reap(), 0xdead);
	complete(0);
	assert_int_equal(io_reap(), 0);
	/* A failed read is a media error. */
	io_submit(io(NVME_CMD_READ, 0, 0, BUF));
	complete(-EIO);
	assert_int_equal(io_reap(), NVME_SC_READ_ERROR);
	/* Write zeroes with deallocate; DSM deallocate of two ranges (one empty). */
	c = io(NVME_CMD_WRITE_ZEROES, 100, 99, 0);
	c.cdw12 |= BIT(25);
	io_submit(c);
	assert_int_equal(reqs[0]->op, BLK_WRITE_ZEROES);
	assert_int_equal(reqs[0]->len, 100 * 512);
	assert_true(reqs[0]->unmap);
	complete(0);
	assert_int_equal(io_reap(), 0);
	memcpy(ram + LIST, ranges, sizeof(ranges));
	c = (struct nvme_sqe){ .opcode = NVME_CMD_DSM, .nsid = 1, .prp1 = LIST, .cdw10 = 1,
			       .cdw11 = BIT(2) };
	io_submit(c);
	assert_int_equal(reqs[0]->op, BLK_DISCARD);
	assert_int_equal(reqs[0]->offset, 16 * 512);
	assert_int_equal(reqs[0]->len, 8 * 512);
	complete(0);
	assert_int_equal(nreqs, 0);
	assert_int_equal(io_reap(), 0);
	ranges[1] = (struct nvme_dsm_range){ .nlb = 8, .slba = 2044 };
	memcpy(ram + LIST, ranges, sizeof(ranges));
	io_submit(c);
	assert_int_equal(io_reap(), NVME_SC_LBA_RANGE | NVME_DNR);
	assert_int_equal(nreqs, 0);
}

static void t_reset_in_flight(void **state)
{
	unsigned nfree = 0;

	(void)state;
	io_queues();
	io_submit(io(NVME_CMD_READ, 0, 7, BUF));
	io_submit(io(NVME_CMD_READ, 8, 7, BUF));
	assert_int_equal(nreqs, 2);
	/* SQ deleted with a request in flight; then the controller is reset. */
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_DELETE_SQ, .cdw10 = 1 },
				   NULL), 0);
	complete(4096);
	w32(REG_CC, 0);
	complete(4096);
	assert_int_equal(io_reap(), 0xdead);
	for (struct nvme_slot *s = n->free; s; s = s->next)
		nfree++;
	assert_int_equal(nfree, n->nslots);
	/* A hostile tail, a doorbell for no queue: ignored. */
	ctrl_enable();
	io_queues();
	w32(REG_DB + 8, 1000);
	w32(REG_DB + 8 * 40, 1);
	assert_int_equal(nreqs, 0);
	io_submit(io(NVME_CMD_READ, 0, 0, BUF));
	assert_int_equal(nreqs, 1);
	complete(512);
	assert_int_equal(io_reap(), 0);
}

static void t_intx(void **state)
{
	unsigned gsi = n->pci.intx_gsi;
	struct nvme_sqe c = { .opcode = NVME_ADM_ABORT, .cid = 7 };

	(void)state;
	memcpy(ram + ASQ, &c, 64);
	w32(REG_DB, 1);
	assert_int_equal(irq_level[gsi], 1);
	w32(REG_INTMS, 1);
	assert_int_equal(irq_level[gsi], 0);
	w32(REG_INTMC, 1);
	assert_int_equal(irq_level[gsi], 1);
	w32(REG_DB + 4, 1);			/* the guest took the entry */
	assert_int_equal(irq_level[gsi], 0);
}

static void t_shadow(void **state)
{
	uint32_t *db = (uint32_t *)(ram + DBS), *ei = (uint32_t *)(ram + EIS);
	struct nvme_sqe c;

	(void)state;
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_DBBUF, .prp1 = DBS + 8,
						     .prp2 = EIS }, NULL),
			 NVME_SC_INVALID_FIELD | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_DBBUF, .prp1 = DBS,
						     .prp2 = RAM_SIZE }, NULL),
			 NVME_SC_INVALID_FIELD | NVME_DNR);
	assert_int_equal(admin_cmd((struct nvme_sqe){ .opcode = NVME_ADM_DBBUF, .prp1 = DBS,
						     .prp2 = EIS }, NULL), 0);
	io_queues();
	/* The tail goes to the shadow page; one register write, and a second
	 * command found there without one. */
	c = io(NVME_CMD_READ, 0, 0, BUF);
	memcpy(ram + IOSQ, &c, 64);
	db[2] = 1;
	w32(REG_DB + 8, 0xffff);		/* its value is the shadow's */
	assert_int_equal(nreqs, 1);
	assert_int_equal(ei[2], 1);		/* caught up to 1 */
	c.cdw10 = 1;
	memcpy(ram + IOSQ + 64, &c, 64);
	db[2] = 2;
	complete(512);				/* the loop looks again on each completion */
	on_batch(&st->ns1, 0);
	assert_int_equal(nreqs, 1);
	assert_int_equal(reqs[0]->offset, 512);
	assert_int_equal(ei[2], 2);
	complete(512);
	assert_int_equal(io_reap(), 0);
	assert_int_equal(io_reap(), 0);
	/* A reset forgets the shadow pages. */
	w32(REG_CC, 0);
	assert_null(n->dbbuf_db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(t_identify, setup, teardown),
		cmocka_unit_test_setup_teardown(t_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(t_features_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(t_aer_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(t_io, setup, teardown),
		cmocka_unit_test_setup_teardown(t_reset_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(t_intx, setup, teardown),
		cmocka_unit_test_setup_teardown(t_shadow, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
