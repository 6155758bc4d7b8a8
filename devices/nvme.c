/*
 * NVMe controller on pci.0 (NVM Express base 1.4): "-device nvme" with its
 * first namespace from drive=, "-device nvme-ns" for more. BAR 0 holds the
 * registers and doorbells, BAR 4 the MSI-X table.
 *
 * Threads: register writes come on vCPU threads under n->lock; a doorbell
 * write only stores the new value and kicks an eventfd, so queues are
 * processed on the loop thread (under n->lock), where the block layer's
 * completions come back too. Nothing the guest wrote is trusted: doorbell
 * values are checked there, commands and PRPs go through nvme_cmd.c, the
 * queues' memory through gmem when they are created.
 *
 * Every request slot is the controller's (not a queue's), so a queue
 * deleted or a controller reset while requests are in flight leaves their
 * completions a slot to come back to; a generation per SQ drops them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "backends/block.h"
#include "backends/block_batch.h"
#include "devices/device.h"
#include "devices/nvme.h"
#include "devices/pci.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"

#define REG_CAP		0x00
#define REG_VS		0x08
#define REG_INTMS	0x0c
#define REG_INTMC	0x10
#define REG_CC		0x14
#define REG_CSTS	0x1c
#define REG_AQA		0x24
#define REG_ASQ		0x28
#define REG_ACQ		0x30
#define REG_DB		0x1000

#define CC_EN		BIT(0)
#define CC_SHN(cc)	(((cc) >> 14) & 3)
#define CSTS_RDY	1u
#define CSTS_CFS	2u
#define CSTS_SHST_DONE	(2u << 2)

#define BAR_SIZE	0x4000
#define MSIX_BAR	4
#define QUEUE_DEPTH	256		/* CAP.MQES + 1 */
#define MAX_QUEUES	64		/* I/O queue pairs */
#define MAX_AER		4		/* AERL + 1 */
#define NS_RINGS	64		/* dirty bits per namespace */

struct nvme_ctrl;

struct nvme_ns {
	struct nvme_ctrl *n;
	uint32_t nsid;
	struct blk *blk;
	struct nvme_ns_geom g;
	bool discard;
	uint64_t dirty;			/* rings with requests to flush */
};

struct nvme_slot {
	struct blk_req req;
	struct nvme_ctrl *n;
	struct nvme_ns *ns;
	struct nvme_slot *next;		/* free or waiting list */
	uint32_t gen;			/* of its SQ at submission */
	uint16_t sqid, cid, status;
	uint8_t opcode;
	bool fua;
	unsigned ring, range, nranges;
	union {
		struct iovec iov[NVME_MAX_IOV];
		struct nvme_dsm_range ranges[NVME_DSM_MAX_RANGES];
	};
};

struct nvme_sq {
	bool live;
	uint16_t cqid;
	uint32_t size, head;
	uint32_t tail_db;		/* the guest's doorbell; vCPUs store it */
	uint32_t *db, *ei;		/* tail_db, or the shadow doorbell and its EventIdx */
	uint32_t gen;
	struct nvme_sqe *ring;
};

struct nvme_cq {
	bool live, ien, phase, irq;
	uint16_t iv;
	uint32_t size, tail, head;
	uint32_t head_db;		/* the guest's doorbell; vCPUs store it */
	uint32_t *db, *ei;		/* head_db, or the shadow doorbell and its EventIdx */
	unsigned nsq;			/* SQs completing here */
	struct nvme_cqe *ring;
	struct nvme_slot *wait, **wait_tail;	/* completions waiting for room */
};

struct nvme_ctrl {
	struct pci_dev pci;		/* first: the PCI hooks get it */
	struct platform *pf;
	char owner[64], serial[21];
	unsigned nq;			/* I/O queue pairs offered */
	pthread_mutex_t lock;
	int kick_fd;
	bool looped;

	uint32_t cc, csts, aqa, intms;
	uint64_t asq, acq;
	struct nvme_sq sq[MAX_QUEUES + 1];
	struct nvme_cq cq[MAX_QUEUES + 1];
	struct nvme_ns *ns[NVME_MAX_NS + 1];	/* by nsid */
	struct nvme_slot *slots, *free;
	unsigned nslots;
	bool stalled, intx;
	uint16_t aer[MAX_AER];
	unsigned naer;
	uint32_t feat[0x10];
	uint32_t *dbbuf_db, *dbbuf_ei;	/* Doorbell Buffer Config's pages, or NULL */
	bool bar_mapped;		/* BAR 0 decodes at bar_addr */
	uint64_t bar_addr;
	bool db_kvm;			/* I/O doorbells are KVM ioeventfds at db_addr */
	uint64_t db_addr;
	uint64_t io_kicks, io_cmds;	/* I/O SQ doorbell writes (exits), commands */
	uint64_t cq_kicks;		/* I/O CQ doorbell writes (exits) */
	uint64_t sgl_cmds;		/* I/O commands with an SGL */
	uint64_t units_read, units_written, reads, writes;	/* bytes, commands */
};

struct nvme_state {
	char *serial, *drive, *bus, *addr;
	uint32_t num_queues;
	struct nvme_ctrl *n;
	struct nvme_ns ns1;
};

struct nvme_ns_state {
	char *drive, *bus;
	uint32_t nsid;
	struct nvme_ns ns;
	bool attached;
};

/* ---- completions and interrupts (loop thread, n->lock) ---- */

static void slot_free(struct nvme_ctrl *n, struct nvme_slot *s)
{
	s->next = n->free;
	n->free = s;
}

static void cq_take_head(struct nvme_cq *cq)
{
	uint32_t h = __atomic_load_n(cq->db, __ATOMIC_ACQUIRE);

	if (h < cq->size)
		cq->head = h;
	else
		warn_once("nvme: CQ head doorbell %u past the queue's %u entries: ignored", h,
			  cq->size);
}

static bool post(struct nvme_ctrl *n, uint16_t cqid, uint16_t sqid, uint16_t cid,
		 uint16_t status, uint32_t dw0)
{
	struct nvme_cq *cq = &n->cq[cqid];
	struct nvme_cqe *e;
	uint32_t dw3;

	if ((cq->tail + 1) % cq->size == cq->head) {
		cq_take_head(cq);
		if (cq->ei && (cq->tail + 1) % cq->size == cq->head) {
			/* Full: the guest's next head update must ring the doorbell. */
			__atomic_store_n(cq->ei, cq->head, __ATOMIC_SEQ_CST);
			cq_take_head(cq);
		}
		if ((cq->tail + 1) % cq->size == cq->head)
			return false;
	}
	e = &cq->ring[cq->tail];
	e->dw0 = dw0;
	e->dw1 = 0;
	e->sq_head = n->sq[sqid].head;
	e->sq_id = sqid;
	/* The phase tag goes last: the guest owns the entry once it flips. */
	dw3 = cid | (uint32_t)((status << 1) | cq->phase) << 16;
	__atomic_store_n((uint32_t *)&e->cid, dw3, __ATOMIC_RELEASE);
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase = !cq->phase;
	}
	cq->irq = true;
	return true;
}

static bool slot_stale(struct nvme_ctrl *n, struct nvme_slot *s)
{
	return s->gen != n->sq[s->sqid].gen || !n->sq[s->sqid].live;
}

/* A finished I/O command: posted now, or queued until its CQ has room. */
static void finish(struct nvme_ctrl *n, struct nvme_slot *s, uint16_t status)
{
	struct nvme_cq *cq = &n->cq[n->sq[s->sqid].cqid];

	s->status = status;
	if (!cq->wait && post(n, n->sq[s->sqid].cqid, s->sqid, s->cid, status, 0)) {
		slot_free(n, s);
		return;
	}
	s->next = NULL;
	*cq->wait_tail = s;
	cq->wait_tail = &s->next;
}

static void drain_waiting(struct nvme_ctrl *n, uint16_t cqid)
{
	struct nvme_cq *cq = &n->cq[cqid];
	struct nvme_slot *s;

	while ((s = cq->wait)) {
		if (!slot_stale(n, s) && !post(n, cqid, s->sqid, s->cid, s->status, 0))
			return;
		cq->wait = s->next;
		if (!cq->wait)
			cq->wait_tail = &cq->wait;
		slot_free(n, s);
	}
}

static void intx_update(struct nvme_ctrl *n)
{
	bool level = false;

	if (pci_msix_enabled(&n->pci))
		return;
	for (unsigned q = 0; q <= n->nq; q++)
		if (n->cq[q].live && n->cq[q].ien && n->cq[q].head != n->cq[q].tail)
			level = true;
	level = level && !(n->intms & 1);
	if (level != n->intx) {
		n->intx = level;
		pci_intx_set(&n->pci, level);
	}
}

static void send_irqs(struct nvme_ctrl *n)
{
	bool msix = pci_msix_enabled(&n->pci);

	for (unsigned q = 0; q <= n->nq; q++) {
		struct nvme_cq *cq = &n->cq[q];

		if (!cq->irq)
			continue;
		cq->irq = false;
		if (cq->ien && msix)
			pci_msix_notify(&n->pci, cq->iv);
	}
	if (!msix)
		intx_update(n);
}

/* ---- I/O commands ---- */

static void on_done(struct blk_req *r, int result);

static void submit(struct nvme_ctrl *n, struct nvme_slot *s)
{
	int ret;

	s->req.done = on_done;
	s->req.opaque = s;
	ret = blk_submit(s->ns->blk, s->ring, &s->req);
	if (ret) {
		finish(n, s, ret == -EROFS ? NVME_SC_READ_ONLY | NVME_DNR : NVME_SC_INTERNAL);
		return;
	}
	s->ns->dirty |= BIT(s->ring);
}

/* DSM: the next range with blocks in it, or done. */
static void next_range(struct nvme_ctrl *n, struct nvme_slot *s)
{
	while (s->range < s->nranges) {
		struct nvme_dsm_range *r = &s->ranges[s->range++];
		uint64_t off, len;

		nvme_decode_range(r, &s->ns->g, &off, &len);	/* checked before */
		if (!len)
			continue;
		s->req = (struct blk_req){ .op = BLK_DISCARD, .offset = off, .len = len };
		submit(n, s);
		return;
	}
	finish(n, s, 0);
}

static uint16_t start_dsm(struct nvme_ctrl *n, struct nvme_slot *s, const struct nvme_sqe *c)
{
	unsigned nr = (c->cdw10 & 0xff) + 1;
	uint64_t off, len;
	uint16_t st;

	if (!(c->cdw11 & BIT(2)))	/* only deallocate does anything */
		return 0;
	st = nvme_copy_prp(n->pf->mem, c, s->ranges, nr * sizeof(s->ranges[0]), false);
	if (st)
		return st;
	for (unsigned i = 0; i < nr; i++)
		if ((st = nvme_decode_range(&s->ranges[i], &s->ns->g, &off, &len)))
			return st;
	if (!s->ns->discard)
		return 0;
	s->range = 0;
	s->nranges = nr;
	next_range(n, s);
	return 0xffff;
}

/* Returns a status to post now, or 0xffff when the block layer has it. */
static uint16_t start_io(struct nvme_ctrl *n, struct nvme_slot *s, const struct nvme_sqe *c)
{
	struct nvme_rw rw;
	unsigned niov;
	uint16_t st;

	if (c->nsid == 0 || c->nsid > NVME_MAX_NS || !n->ns[c->nsid])
		return NVME_SC_INVALID_NS | NVME_DNR;
	s->ns = n->ns[c->nsid];
	switch (c->opcode) {
	case NVME_CMD_FLUSH:
		s->req = (struct blk_req){ .op = BLK_FLUSH };
		break;
	case NVME_CMD_READ:
	case NVME_CMD_WRITE:
		if ((st = nvme_decode_rw(c, &s->ns->g, &rw)))
			return st;
		if ((st = nvme_map_prp(n->pf->mem, c, rw.len, s->iov, &niov)))
			return st;
		s->fua = rw.fua && c->opcode == NVME_CMD_WRITE;
		s->req = (struct blk_req){
			.op = c->opcode == NVME_CMD_READ ? BLK_READ : BLK_WRITE,
			.offset = rw.offset, .iov = s->iov, .iovcnt = niov,
		};
		break;
	case NVME_CMD_WRITE_ZEROES:
		if ((st = nvme_decode_rw(c, &s->ns->g, &rw)))
			return st;
		s->fua = rw.fua;
		s->req = (struct blk_req){ .op = BLK_WRITE_ZEROES, .offset = rw.offset,
					   .len = rw.len, .unmap = rw.deallocate && s->ns->discard };
		break;
	case NVME_CMD_DSM:
		if (s->ns->g.ro)
			return NVME_SC_READ_ONLY | NVME_DNR;
		return start_dsm(n, s, c);
	default:
		return NVME_SC_INVALID_OPCODE | NVME_DNR;
	}
	submit(n, s);
	return 0xffff;
}

static void on_done(struct blk_req *r, int result)
{
	struct nvme_slot *s = r->opaque;
	struct nvme_ctrl *n = s->n;

	pthread_mutex_lock(&n->lock);
	if (slot_stale(n, s) || n->ns[s->ns->nsid] != s->ns) {
		slot_free(n, s);	/* the queue or namespace went away meanwhile */
		goto out;
	}
	if (result < 0) {
		finish(n, s, (r->op == BLK_READ ? NVME_SC_READ_ERROR : NVME_SC_WRITE_FAULT));
		goto out;
	}
	if (r->op == BLK_READ) {
		n->units_read += (uint64_t)result;
		n->reads++;
	} else if (r->op == BLK_WRITE) {
		n->units_written += (uint64_t)result;
		n->writes++;
	}
	if (s->fua && r->op != BLK_FLUSH) {
		/* Force unit access: durable before it completes. */
		s->req = (struct blk_req){ .op = BLK_FLUSH };
		submit(n, s);
		blk_flush_queue(s->ns->blk, s->ring);
		goto out;
	}
	if (s->opcode == NVME_CMD_DSM && s->range < s->nranges) {
		next_range(n, s);
		blk_flush_queue(s->ns->blk, s->ring);
		goto out;
	}
	finish(n, s, 0);
out:
	pthread_mutex_unlock(&n->lock);
}

/* ---- admin commands ---- */

#define DEFERRED 0xffff

static void pad_copy(char *dst, const char *src, size_t len)
{
	size_t l = strlen(src);

	memset(dst, ' ', len);
	memcpy(dst, src, MIN(l, len));
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void identify_ctrl(struct nvme_ctrl *n, uint8_t *b)
{
	char nqn[256];

	put16(b + 0, 0x1b36);			/* VID */
	put16(b + 2, 0x1af4);			/* SSVID */
	pad_copy((char *)b + 4, n->serial, 20);
	pad_copy((char *)b + 24, "ember NVMe Ctrl", 40);
	pad_copy((char *)b + 64, "1.0", 8);
	b[72] = 6;				/* RAB */
	b[77] = NVME_MDTS;
	put16(b + 78, 0);			/* CNTLID */
	put32(b + 80, 0x00010400);		/* VER */
	b[111] = 1;				/* CNTRLTYPE: I/O controller */
	put16(b + 256, BIT(8));			/* OACS: Doorbell Buffer Config */
	b[258] = 3;				/* ACL */
	b[259] = MAX_AER - 1;			/* AERL */
	b[260] = 0x03;				/* FRMW: one slot, read-only */
	b[262] = 0;				/* ELPE */
	put16(b + 266, 0x0157);			/* WCTEMP */
	put16(b + 268, 0x0175);			/* CCTEMP */
	b[512] = 0x66;				/* SQES */
	b[513] = 0x44;				/* CQES */
	put32(b + 516, NVME_MAX_NS);		/* NN */
	put16(b + 520, BIT(2) | BIT(3));	/* ONCS: DSM, write zeroes */
	b[525] = 0x01 | (2 << 1);		/* VWC present; no broadcast flush */
	put32(b + 536, 1);			/* SGLS: SGLs for I/O, any alignment */
	snprintf(nqn, sizeof(nqn), "nqn.2026-12.org.ember:nvme:%s", n->serial);
	memcpy(b + 768, nqn, strlen(nqn));
	put16(b + 2048, 2500);			/* PSD0 MP: 25 W */
}

static void identify_ns(struct nvme_ns *ns, uint8_t *b)
{
	put64(b + 0, ns->g.nlbas);		/* NSZE */
	put64(b + 8, ns->g.nlbas);		/* NCAP */
	put64(b + 16, ns->g.nlbas);		/* NUSE */
	b[25] = 0;				/* NLBAF: one format */
	b[33] = ns->discard ? 0x09 : 0;		/* DLFEAT: reads zeroes, WZ deallocates */
	put32(b + 128, (uint32_t)ns->g.lbads << 16);	/* LBAF0 */
}

static uint16_t identify(struct nvme_ctrl *n, const struct nvme_sqe *c)
{
	uint8_t b[4096] = { 0 };
	uint8_t cns = c->cdw10 & 0xff;
	unsigned k = 0;

	switch (cns) {
	case 0:		/* namespace */
		if (!c->nsid || c->nsid > NVME_MAX_NS)
			return NVME_SC_INVALID_NS | NVME_DNR;
		if (n->ns[c->nsid])
			identify_ns(n->ns[c->nsid], b);
		break;
	case 1:
		identify_ctrl(n, b);
		break;
	case 2:		/* active namespaces after nsid */
		if (c->nsid >= 0xfffffffe)
			return NVME_SC_INVALID_NS | NVME_DNR;
		for (uint32_t i = c->nsid + 1; i <= NVME_MAX_NS; i++)
			if (n->ns[i])
				put32(b + 4 * k++, i);
		break;
	case 3:		/* descriptors: none (no EUI64, NGUID or UUID) */
		if (!c->nsid || c->nsid > NVME_MAX_NS || !n->ns[c->nsid])
			return NVME_SC_INVALID_NS | NVME_DNR;
		break;
	default:
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	return nvme_copy_prp(n->pf->mem, c, b, sizeof(b), true);
}

static uint16_t get_log(struct nvme_ctrl *n, const struct nvme_sqe *c)
{
	uint8_t b[4096] = { 0 };
	uint8_t lid = c->cdw10 & 0xff;
	uint64_t numd = (c->cdw10 >> 16) | (uint64_t)(c->cdw11 & 0xffff) << 16;
	uint64_t len = (numd + 1) * 4, off = c->cdw12 | (uint64_t)c->cdw13 << 32;
	uint8_t page[512] = { 0 };
	size_t size;

	if (len > sizeof(b) || off & 3)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	switch (lid) {
	case 1:		/* error information: no errors */
		size = 64;
		break;
	case 2:		/* SMART / health */
		size = 512;
		put16(page + 1, 0x0134);	/* composite temperature, K */
		page[3] = 100;			/* available spare */
		page[4] = 10;			/* its threshold */
		put64(page + 32, n->units_read / 512000);
		put64(page + 48, n->units_written / 512000);
		put64(page + 64, n->reads);
		put64(page + 80, n->writes);
		break;
	case 3:		/* firmware slots */
		size = 512;
		page[0] = 1;
		pad_copy((char *)page + 8, "1.0", 8);
		break;
	default:
		return NVME_SC_INVALID_LOG_PAGE | NVME_DNR;
	}
	if (off < size)
		memcpy(b, page + off, MIN(size - off, len));
	return nvme_copy_prp(n->pf->mem, c, b, len, true);
}

static uint16_t features(struct nvme_ctrl *n, const struct nvme_sqe *c, bool set,
			 uint32_t *dw0)
{
	uint8_t fid = c->cdw10 & 0xff;
	uint32_t v = c->cdw11;

	if (set && (c->cdw10 & BIT(31)))
		return NVME_SC_FEAT_NOT_SAVEABLE | NVME_DNR;
	switch (fid) {
	case 0x01: case 0x04: case 0x05: case 0x08: case 0x0a: case 0x0b:
		break;		/* arbitration, temperature, error recovery, coalescing, ... */
	case 0x02:		/* power management: state 0 only */
		if (set && (v & 0x1f))
			return NVME_SC_INVALID_FIELD | NVME_DNR;
		break;
	case 0x06:		/* volatile write cache */
		v &= 1;
		break;
	case 0x07:		/* number of queues, answered with what was granted */
		if (set) {
			if ((v & 0xffff) == 0xffff || (v >> 16) == 0xffff)
				return NVME_SC_INVALID_FIELD | NVME_DNR;
			v = (n->nq - 1) | (n->nq - 1) << 16;
		}
		break;
	case 0x09:		/* interrupt vector configuration */
		if ((c->cdw11 & 0xffff) > n->nq)
			return NVME_SC_INVALID_FIELD | NVME_DNR;
		*dw0 = c->cdw11 & 0x1ffff;
		return 0;
	default:
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	if (set)
		n->feat[fid] = v;
	*dw0 = n->feat[fid];
	return 0;
}

static void *queue_mem(struct nvme_ctrl *n, uint64_t gpa, uint64_t bytes)
{
	if (gpa & (NVME_PAGE_SIZE - 1))
		return NULL;
	return gmem_ptr(n->pf->mem, gpa, bytes);
}

/*
 * Where queue @qid's doorbells are read: the shadow doorbell buffer once
 * the guest gave one (I/O queues only, as Linux uses it), else the values
 * of the guest's register writes.
 */
static void shadow(struct nvme_ctrl *n, unsigned qid)
{
	struct nvme_sq *sq = &n->sq[qid];
	struct nvme_cq *cq = &n->cq[qid];
	bool on = n->dbbuf_db && qid;

	sq->db = on ? &n->dbbuf_db[2 * qid] : &sq->tail_db;
	sq->ei = on ? &n->dbbuf_ei[2 * qid] : NULL;
	cq->db = on ? &n->dbbuf_db[2 * qid + 1] : &cq->head_db;
	cq->ei = on ? &n->dbbuf_ei[2 * qid + 1] : NULL;
}

/*
 * With shadow doorbells an I/O queue's doorbell value is in RAM, so its
 * register write need only wake the loop: KVM signals the kick eventfd
 * itself (length 0: any width), and the vCPU does not exit to ember.
 * Follows BAR 0 and the shadow pages; a refusal leaves the writes trapped.
 */
static void db_eventfds(struct nvme_ctrl *n)
{
	struct platform *pf = n->pf;
	bool want = n->looped && pf->ioeventfd && n->bar_mapped && n->dbbuf_db;

	if (n->db_kvm && (!want || n->db_addr != n->bar_addr + REG_DB)) {
		for (unsigned i = 8; i < 8 * (n->nq + 1); i += 4)
			pf->ioeventfd(pf->kvm_opaque, n->db_addr + i, 0, 0, n->kick_fd, 0, 0, 1);
		n->db_kvm = false;
	}
	if (!want || n->db_kvm)
		return;
	n->db_addr = n->bar_addr + REG_DB;
	for (unsigned i = 8; i < 8 * (n->nq + 1); i += 4)
		if (pf->ioeventfd(pf->kvm_opaque, n->db_addr + i, 0, 0, n->kick_fd, 0, 0, 0)) {
			while ((i -= 4) >= 8)
				pf->ioeventfd(pf->kvm_opaque, n->db_addr + i, 0, 0, n->kick_fd, 0, 0, 1);
			return;
		}
	n->db_kvm = true;
}

/* BAR 0 started or stopped decoding (under the host's lock). */
static void bar_map(struct pci_dev *d, int bar, bool mapped, uint64_t addr)
{
	struct nvme_ctrl *n = d->opaque;

	if (bar)
		return;
	pthread_mutex_lock(&n->lock);
	n->bar_mapped = mapped;
	n->bar_addr = addr;
	db_eventfds(n);
	pthread_mutex_unlock(&n->lock);
}

/* Doorbell Buffer Config (NVMe 1.3): PRP1 the shadow doorbells, PRP2 their EventIdx. */
static uint16_t dbbuf_config(struct nvme_ctrl *n, const struct nvme_sqe *c)
{
	uint32_t *db, *ei;

	if ((c->prp1 | c->prp2) & (NVME_PAGE_SIZE - 1) || !c->prp1 || !c->prp2)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	db = gmem_ptr(n->pf->mem, c->prp1, NVME_PAGE_SIZE);
	ei = gmem_ptr(n->pf->mem, c->prp2, NVME_PAGE_SIZE);
	if (!db || !ei)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	n->dbbuf_db = db;
	n->dbbuf_ei = ei;
	for (unsigned q = 1; q <= n->nq; q++) {
		/* Queues already there start from where they are. */
		if (n->sq[q].live)
			__atomic_store_n(&db[2 * q], __atomic_load_n(n->sq[q].db, __ATOMIC_RELAXED),
					 __ATOMIC_RELAXED);
		if (n->cq[q].live)
			__atomic_store_n(&db[2 * q + 1], n->cq[q].head, __ATOMIC_RELAXED);
		shadow(n, q);
	}
	db_eventfds(n);
	debug_msg("%s: shadow doorbells at %#llx, EventIdx at %#llx%s", n->owner,
		  (unsigned long long)c->prp1, (unsigned long long)c->prp2,
		  n->db_kvm ? "; I/O doorbells are ioeventfds" : "");
	return 0;
}

static uint16_t create_cq(struct nvme_ctrl *n, const struct nvme_sqe *c)
{
	uint16_t qid = c->cdw10 & 0xffff, iv = c->cdw11 >> 16;
	uint32_t size = (c->cdw10 >> 16) + 1;
	struct nvme_cq *cq;
	void *ring;

	if (!qid || qid > n->nq || n->cq[qid].live)
		return NVME_SC_QID_INVALID | NVME_DNR;
	if (size < 2 || size > QUEUE_DEPTH)
		return NVME_SC_QUEUE_SIZE | NVME_DNR;
	if (!(c->cdw11 & 1))	/* CAP.CQR: physically contiguous only */
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	if (iv > n->nq)
		return NVME_SC_INVALID_VECTOR | NVME_DNR;
	if (c->prp1 & (NVME_PAGE_SIZE - 1))
		return NVME_SC_PRP_OFFSET_INVALID | NVME_DNR;
	if (!(ring = queue_mem(n, c->prp1, (uint64_t)size * sizeof(struct nvme_cqe))))
		return NVME_SC_DATA_XFER_ERROR | NVME_DNR;
	cq = &n->cq[qid];
	*cq = (struct nvme_cq){ .live = true, .ien = c->cdw11 & 2, .phase = true, .iv = iv,
				.size = size, .ring = ring };
	cq->wait_tail = &cq->wait;
	__atomic_store_n(&cq->head_db, 0, __ATOMIC_RELAXED);
	shadow(n, qid);
	return 0;
}

static uint16_t create_sq(struct nvme_ctrl *n, const struct nvme_sqe *c)
{
	uint16_t qid = c->cdw10 & 0xffff, cqid = c->cdw11 >> 16;
	uint32_t size = (c->cdw10 >> 16) + 1;
	struct nvme_sq *sq;
	void *ring;

	if (!cqid || cqid > n->nq || !n->cq[cqid].live)
		return NVME_SC_CQ_INVALID | NVME_DNR;
	if (!qid || qid > n->nq || n->sq[qid].live)
		return NVME_SC_QID_INVALID | NVME_DNR;
	if (size < 2 || size > QUEUE_DEPTH)
		return NVME_SC_QUEUE_SIZE | NVME_DNR;
	if (!(c->cdw11 & 1))
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	if (c->prp1 & (NVME_PAGE_SIZE - 1))
		return NVME_SC_PRP_OFFSET_INVALID | NVME_DNR;
	if (!(ring = queue_mem(n, c->prp1, (uint64_t)size * sizeof(struct nvme_sqe))))
		return NVME_SC_DATA_XFER_ERROR | NVME_DNR;
	sq = &n->sq[qid];
	sq->live = true;
	sq->cqid = cqid;
	sq->size = size;
	sq->head = 0;
	sq->ring = ring;
	sq->gen++;
	__atomic_store_n(&sq->tail_db, 0, __ATOMIC_RELAXED);
	n->cq[cqid].nsq++;
	shadow(n, qid);
	return 0;
}

static uint16_t delete_sq(struct nvme_ctrl *n, uint16_t qid)
{
	if (!qid || qid > n->nq || !n->sq[qid].live)
		return NVME_SC_QID_INVALID | NVME_DNR;
	/* Requests in flight finish in the background; their completions are dropped. */
	n->sq[qid].live = false;
	n->sq[qid].gen++;
	n->cq[n->sq[qid].cqid].nsq--;
	return 0;
}

static void cq_drop_waiting(struct nvme_ctrl *n, struct nvme_cq *cq)
{
	struct nvme_slot *s;

	while ((s = cq->wait)) {
		cq->wait = s->next;
		slot_free(n, s);
	}
	cq->wait_tail = &cq->wait;
}

static uint16_t delete_cq(struct nvme_ctrl *n, uint16_t qid)
{
	if (!qid || qid > n->nq || !n->cq[qid].live)
		return NVME_SC_QID_INVALID | NVME_DNR;
	if (n->cq[qid].nsq)
		return NVME_SC_INVALID_QUEUE_DELETION | NVME_DNR;
	cq_drop_waiting(n, &n->cq[qid]);
	n->cq[qid].live = false;
	return 0;
}

static uint16_t admin(struct nvme_ctrl *n, const struct nvme_sqe *c, uint32_t *dw0)
{
	if (c->flags & 0xc3)	/* fused, or SGLs */
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	switch (c->opcode) {
	case NVME_ADM_IDENTIFY:
		return identify(n, c);
	case NVME_ADM_GET_LOG:
		return get_log(n, c);
	case NVME_ADM_SET_FEATURES:
		return features(n, c, true, dw0);
	case NVME_ADM_GET_FEATURES:
		return features(n, c, false, dw0);
	case NVME_ADM_CREATE_CQ:
		return create_cq(n, c);
	case NVME_ADM_CREATE_SQ:
		return create_sq(n, c);
	case NVME_ADM_DELETE_SQ:
		return delete_sq(n, c->cdw10 & 0xffff);
	case NVME_ADM_DELETE_CQ:
		return delete_cq(n, c->cdw10 & 0xffff);
	case NVME_ADM_DBBUF:
		return dbbuf_config(n, c);
	case NVME_ADM_ABORT:
		*dw0 = 1;	/* not aborted: commands are not held back */
		return 0;
	case NVME_ADM_AER:
		if (n->naer >= MAX_AER)
			return NVME_SC_AER_LIMIT | NVME_DNR;
		n->aer[n->naer++] = c->cid;	/* no event to report: kept */
		return DEFERRED;
	default:
		return NVME_SC_INVALID_OPCODE | NVME_DNR;
	}
}

/* ---- queue processing (loop thread, n->lock) ---- */

static bool sq_next(struct nvme_sq *sq, struct nvme_sqe *c)
{
	uint32_t tail = __atomic_load_n(sq->db, __ATOMIC_ACQUIRE);

	if (tail == sq->head && sq->ei) {
		/* Past EventIdx the guest rings again; a tail it wrote meanwhile is seen here. */
		__atomic_store_n(sq->ei, tail, __ATOMIC_SEQ_CST);
		tail = __atomic_load_n(sq->db, __ATOMIC_SEQ_CST);
	}
	if (tail >= sq->size) {
		warn_once("nvme: SQ tail doorbell %u past the queue's %u entries: ignored", tail,
			  sq->size);
		return false;
	}
	if (sq->head == tail)
		return false;
	memcpy(c, &sq->ring[sq->head], sizeof(*c));
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	sq->head = (sq->head + 1) % sq->size;
	return true;
}

static void process_admin(struct nvme_ctrl *n)
{
	struct nvme_cq *cq = &n->cq[0];
	struct nvme_sqe c;

	/* Admin commands answer at once: fetch only what the CQ can take. */
	while (n->sq[0].live && (cq_take_head(cq), (cq->tail + 1) % cq->size != cq->head) &&
	       sq_next(&n->sq[0], &c)) {
		uint32_t dw0 = 0;
		uint16_t st = admin(n, &c, &dw0);

		if (st != DEFERRED)
			post(n, 0, 0, c.cid, st, dw0);
	}
}

static void process_io(struct nvme_ctrl *n, uint16_t qid)
{
	struct nvme_sq *sq = &n->sq[qid];
	struct nvme_sqe c;

	while (sq->live) {
		struct nvme_slot *s = n->free;
		uint16_t st;

		if (!s) {
			n->stalled = true;	/* a completion restarts us */
			return;
		}
		if (!sq_next(sq, &c))
			return;
		n->io_cmds++;
		n->sgl_cmds += (c.flags >> 6) != 0;
		n->free = s->next;
		s->sqid = qid;
		s->cid = c.cid;
		s->gen = sq->gen;
		s->opcode = c.opcode;
		s->fua = false;
		s->range = s->nranges = 0;
		s->ring = (qid - 1) % n->nq;
		/* Fused operations are not offered; PSDT is nvme_map_prp's. */
		st = (c.flags & 0x03) ? NVME_SC_INVALID_FIELD | NVME_DNR : start_io(n, s, &c);
		if (st != 0xffff)
			finish(n, s, st);
	}
}

static void flush_rings(struct nvme_ctrl *n)
{
	for (unsigned i = 1; i <= NVME_MAX_NS; i++) {
		struct nvme_ns *ns = n->ns[i];

		for (unsigned r = 0; ns && ns->dirty && r < NS_RINGS; r++)
			if (ns->dirty & BIT(r)) {
				ns->dirty &= ~BIT(r);
				blk_flush_queue(ns->blk, r);
			}
	}
}

static void process(struct nvme_ctrl *n)
{
	if (!(n->csts & CSTS_RDY))
		return;
	n->stalled = false;
	for (unsigned q = 0; q <= n->nq; q++)
		if (n->cq[q].live) {
			cq_take_head(&n->cq[q]);
			drain_waiting(n, q);
		}
	process_admin(n);
	for (unsigned q = 1; q <= n->nq; q++)
		process_io(n, q);
	flush_rings(n);
	send_irqs(n);
}

static void on_kick(void *opaque, uint32_t events)
{
	struct nvme_ctrl *n = opaque;
	uint64_t v;

	(void)events;
	if (read(n->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		warn_once("%s: doorbell eventfd: %s", n->owner, strerror(errno));
	pthread_mutex_lock(&n->lock);
	process(n);
	pthread_mutex_unlock(&n->lock);
}

static void on_batch(void *opaque, unsigned ring)
{
	struct nvme_ns *ns = opaque;
	struct nvme_ctrl *n = ns->n;

	(void)ring;
	pthread_mutex_lock(&n->lock);
	if (n->stalled || n->cq[0].wait || n->dbbuf_db)
		process(n);
	else {
		for (unsigned q = 0; q <= n->nq; q++)
			if (n->cq[q].wait)
				drain_waiting(n, q);
		send_irqs(n);
	}
	pthread_mutex_unlock(&n->lock);
}

/* ---- registers (vCPU threads) ---- */

static void ctrl_reset(struct nvme_ctrl *n)
{
	for (unsigned q = 0; q <= n->nq; q++) {
		n->sq[q].live = false;
		n->sq[q].gen++;
		cq_drop_waiting(n, &n->cq[q]);
		n->cq[q].live = false;
	}
	n->dbbuf_db = n->dbbuf_ei = NULL;
	db_eventfds(n);
	for (unsigned q = 0; q <= n->nq; q++)
		shadow(n, q);
	n->naer = 0;
	n->csts = 0;
	memset(n->feat, 0, sizeof(n->feat));
	n->feat[0x04] = 0x0157;
	n->feat[0x06] = 1;
	n->feat[0x07] = (n->nq - 1) | (n->nq - 1) << 16;
	if (n->intx) {
		n->intx = false;
		pci_intx_set(&n->pci, false);
	}
}

static void enable(struct nvme_ctrl *n)
{
	uint32_t sqs = (n->aqa & 0xfff) + 1, cqs = ((n->aqa >> 16) & 0xfff) + 1;
	void *sring = queue_mem(n, n->asq, (uint64_t)sqs * sizeof(struct nvme_sqe));
	void *cring = queue_mem(n, n->acq, (uint64_t)cqs * sizeof(struct nvme_cqe));

	/* CSS NVM, MPS 4 KiB, entry sizes 64/16: anything else is a fatal status. */
	if (!sring || !cring || sqs < 2 || cqs < 2 || ((n->cc >> 4) & 7) ||
	    ((n->cc >> 7) & 0xf)) {
		warn_once("%s: the guest enabled the controller with bad admin queues or CC "
			  "%#x: controller fatal status", n->owner, n->cc);
		n->csts = CSTS_CFS;
		return;
	}
	n->sq[0] = (struct nvme_sq){ .live = true, .size = sqs, .ring = sring,
				     .gen = n->sq[0].gen + 1 };
	n->cq[0] = (struct nvme_cq){ .live = true, .ien = true, .phase = true, .size = cqs,
				     .ring = cring };
	n->cq[0].wait_tail = &n->cq[0].wait;
	n->sq[0].cqid = 0;
	n->cq[0].nsq = 1;
	shadow(n, 0);
	n->csts = CSTS_RDY;
}

static void cc_write(struct nvme_ctrl *n, uint32_t v)
{
	uint32_t old = n->cc;

	n->cc = v;
	if (!(old & CC_EN) && (v & CC_EN))
		enable(n);
	else if ((old & CC_EN) && !(v & CC_EN))
		ctrl_reset(n);
	/* Writes go straight to the back end: a shutdown has nothing left to do. */
	if (CC_SHN(v) && (n->csts & CSTS_RDY))
		n->csts |= CSTS_SHST_DONE;
	else if (!CC_SHN(v))
		n->csts &= ~(3u << 2);
}

static uint64_t reg64(struct nvme_ctrl *n, uint64_t off)
{
	switch (off) {
	case REG_CAP:
		/* MQES, CQR, TO 7.5 s, CSS NVM; MPSMIN = MPSMAX = 4 KiB, DSTRD 0 */
		return (QUEUE_DEPTH - 1) | BIT(16) | (15ull << 24) | BIT(37);
	case REG_VS:
		return 0x00010400 | (uint64_t)n->intms << 32;
	case REG_INTMC:
		return n->intms | (uint64_t)n->cc << 32;
	case 0x18:
		return (uint64_t)n->csts << 32;
	case 0x20:
		return (uint64_t)n->aqa << 32;
	case REG_ASQ:
		return n->asq;
	case REG_ACQ:
		return n->acq;
	default:
		return 0;
	}
}

static void bar_read(void *opaque, uint64_t off, void *data, unsigned len)
{
	struct nvme_ctrl *n = opaque;
	uint64_t v;

	memset(data, 0, len);
	if (off >= REG_DB || (off & (len - 1)))
		return;		/* doorbells are write-only */
	pthread_mutex_lock(&n->lock);
	v = reg64(n, off & ~7ull) >> (8 * (off & 7));
	pthread_mutex_unlock(&n->lock);
	memcpy(data, &v, len);
}

static void doorbell(struct nvme_ctrl *n, uint64_t off, uint32_t v)
{
	unsigned idx = off / 4, qid = idx / 2;
	uint64_t one = 1;

	if (off & 3 || qid > n->nq)
		return;
	if (idx & 1)
		__atomic_store_n(&n->cq[qid].head_db, v, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&n->sq[qid].tail_db, v, __ATOMIC_RELEASE);
	if (qid)
		__atomic_fetch_add(idx & 1 ? &n->cq_kicks : &n->io_kicks, 1, __ATOMIC_RELAXED);
	if (n->looped) {
		if (write(n->kick_fd, &one, sizeof(one)) < 0)
			return;		/* saturated: a kick is pending anyway */
	} else {
		pthread_mutex_lock(&n->lock);	/* no loop (unit tests): at once */
		process(n);
		pthread_mutex_unlock(&n->lock);
	}
}

static void set_half(uint64_t *reg, uint64_t off, uint64_t v, unsigned len)
{
	if (len == 8)
		*reg = v;
	else if (off & 4)
		*reg = (*reg & 0xffffffffull) | (v & 0xffffffffull) << 32;
	else
		*reg = (*reg & ~0xffffffffull) | (v & 0xffffffffull);
}

static void bar_write(void *opaque, uint64_t off, const void *data, unsigned len)
{
	struct nvme_ctrl *n = opaque;
	uint64_t v = 0;

	memcpy(&v, data, MIN(len, 8u));
	if (off >= REG_DB) {
		if (len == 4)
			doorbell(n, off - REG_DB, v);
		return;
	}
	if (len < 4 || (off & (len - 1)))
		return;
	pthread_mutex_lock(&n->lock);
	switch (off) {
	case REG_INTMS:
		n->intms |= v;
		break;
	case REG_INTMC:
		n->intms &= ~v;
		break;
	case REG_CC:
		cc_write(n, v);
		break;
	case REG_AQA:
		n->aqa = v & 0x0fff0fff;
		break;
	case REG_ASQ: case REG_ASQ + 4:
		set_half(&n->asq, off, v, len);
		break;
	case REG_ACQ: case REG_ACQ + 4:
		set_half(&n->acq, off, v, len);
		break;
	}
	if (off == REG_INTMS || off == REG_INTMC)
		intx_update(n);
	pthread_mutex_unlock(&n->lock);
}

static const struct bus_ops bar_ops = { .read = bar_read, .write = bar_write };

/* ---- namespaces ---- */

static int ns_attach(struct nvme_ctrl *n, struct nvme_ns *ns, const char *drive, uint32_t nsid,
		     const char *owner)
{
	uint64_t size;
	int ret;

	if (!nsid) {
		for (nsid = 1; nsid <= NVME_MAX_NS && n->ns[nsid]; nsid++)
			;
	}
	if (nsid > NVME_MAX_NS) {
		err_msg("%s: nsid %u: %s has namespaces 1 to %u", owner, nsid, n->owner,
			NVME_MAX_NS);
		return -EINVAL;
	}
	if (n->ns[nsid]) {
		err_msg("%s: namespace %u of %s is already there", owner, nsid, n->owner);
		return -EEXIST;
	}
	ns->blk = blk_find(drive);
	if (!ns->blk) {
		err_msg("%s: no -blockdev with node-name '%s'", owner, drive);
		return -ENOENT;
	}
	ret = blk_attach(ns->blk, owner, n->nq, QUEUE_DEPTH);
	if (ret) {
		ns->blk = NULL;
		return ret;
	}
	blk_set_batch_end(ns->blk, on_batch, ns);
	size = blk_size(ns->blk);
	ns->n = n;
	ns->nsid = nsid;
	ns->g = (struct nvme_ns_geom){ .nlbas = size >> 9, .lbads = 9,
				       .ro = blk_read_only(ns->blk) };
	ns->discard = blk_discard_supported(ns->blk) && !ns->g.ro;
	if (!ns->g.nlbas)
		warn_msg("%s: drive '%s' is smaller than one block: the guest sees no data",
			 owner, drive);
	pthread_mutex_lock(&n->lock);
	n->ns[nsid] = ns;
	pthread_mutex_unlock(&n->lock);
	return 0;
}

static void ns_detach(struct nvme_ctrl *n, struct nvme_ns *ns)
{
	if (!ns->blk)
		return;
	pthread_mutex_lock(&n->lock);
	if (ns->nsid && n->ns[ns->nsid] == ns)
		n->ns[ns->nsid] = NULL;
	pthread_mutex_unlock(&n->lock);
	blk_detach(ns->blk);
	ns->blk = NULL;
}

/* ---- the controller device ---- */

static void nvme_unrealize(struct device *dev, struct platform *pf)
{
	struct nvme_state *st = dev->state;
	struct nvme_ctrl *n = st->n;

	(void)pf;
	if (!n)
		return;
	debug_msg("%s: %llu I/O commands (%llu with SGLs), %llu I/O submission and %llu "
		  "completion doorbell writes", n->owner, (unsigned long long)n->io_cmds,
		  (unsigned long long)n->sgl_cmds,
		  (unsigned long long)__atomic_load_n(&n->io_kicks, __ATOMIC_RELAXED),
		  (unsigned long long)__atomic_load_n(&n->cq_kicks, __ATOMIC_RELAXED));
	if (n->pci.host)
		pci_dev_unregister(&n->pci);
	pci_dev_destroy(&n->pci);
	if (n->looped)
		loop_del(n->pf->loop, n->kick_fd);
	if (n->kick_fd >= 0)
		close(n->kick_fd);
	ns_detach(n, &st->ns1);
	/* Completions still due free their slots; the slots stay until exit. */
	pthread_mutex_destroy(&n->lock);
	st->n = NULL;
}

/* What can be told before the machine exists: the serial and addr=. */
static int nvme_check(void *state)
{
	struct nvme_state *st = state;
	int slot, function;

	if (!st->serial || !st->serial[0] || strlen(st->serial) > 20) {
		err_msg("-device nvme: serial='%s': 1 to 20 characters", st->serial ? st->serial : "");
		return -EINVAL;
	}
	return pci_parse_addr(st->addr, &slot, &function, "-device nvme");
}

static int nvme_realize(struct device *dev, struct platform *pf)
{
	struct nvme_state *st = dev->state;
	struct nvme_ctrl *n;
	int slot, function, ret;
	char owner[64];

	snprintf(owner, sizeof(owner), "-device nvme%s%s", dev->id ? ",id=" : "",
		 dev->id ? dev->id : "");
	if (!pf->pci) {
		err_msg("%s: this machine has no PCI bus (add -M pci)", owner);
		return -ENODEV;
	}
	if ((ret = nvme_check(st)))
		return ret;
	if ((ret = pci_parse_addr(st->addr, &slot, &function, owner)))
		return ret;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	st->n = n;
	n->pf = pf;
	n->kick_fd = -1;
	n->nq = st->num_queues;
	snprintf(n->owner, sizeof(n->owner), "%s", owner);
	snprintf(n->serial, sizeof(n->serial), "%s", st->serial);
	pthread_mutex_init(&n->lock, NULL);
	n->nslots = n->nq * QUEUE_DEPTH;
	n->slots = calloc(n->nslots, sizeof(*n->slots));
	if (!n->slots) {
		ret = -ENOMEM;
		goto fail;
	}
	for (unsigned i = n->nslots; i-- > 0;) {
		n->slots[i].n = n;
		slot_free(n, &n->slots[i]);
	}
	ctrl_reset(n);
	if (st->drive && (ret = ns_attach(n, &st->ns1, st->drive, 1, owner)))
		goto fail;

	pci_dev_init(&n->pci, pf, 0x1b36, 0x0010, 0x010802, 2, 0x1af4, 0x1100, PCI_CFG_SIZE);
	snprintf(n->pci.owner, sizeof(n->pci.owner), "%s", owner);
	n->pci.opaque = n;
	n->pci.bar_map = bar_map;
	if ((ret = pci_bar_init(&n->pci, 0, PCI_BAR_MEM64, BAR_SIZE, false, &bar_ops, n)))
		goto fail;
	ret = pci_msix_init(&n->pci, n->nq + 1, MSIX_BAR);
	if (ret < 0)
		goto fail;
	if (pf->loop) {
		n->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (n->kick_fd < 0 || loop_add(pf->loop, n->kick_fd, EPOLLIN, on_kick, n)) {
			ret = -errno;
			err_msg("%s: doorbell eventfd: %s", owner, strerror(errno));
			goto fail;
		}
		n->looped = true;
	}
	if ((ret = pci_dev_register(pf->pci, &n->pci, st->bus, slot, function, owner)))
		goto fail;
	return 0;
fail:
	nvme_unrealize(dev, pf);
	free(n->slots);
	free(n);
	return ret;
}

static void nvme_free(struct device *dev, struct platform *pf)
{
	struct nvme_state *st = dev->state;
	struct nvme_ctrl *n = st->n;

	nvme_unrealize(dev, pf);
	if (n) {
		free(n->slots);
		free(n);
	}
}

/* Machine reset: as CC.EN = 0, then every read still running lands before RAM is rewritten. */
static void nvme_reset(struct device *dev, struct platform *pf)
{
	struct nvme_state *st = dev->state;
	struct nvme_ctrl *n = st->n;

	(void)pf;
	pthread_mutex_lock(&n->lock);
	ctrl_reset(n);
	n->cc = n->aqa = n->intms = 0;
	n->asq = n->acq = 0;
	pthread_mutex_unlock(&n->lock);
	for (unsigned i = 1; i <= NVME_MAX_NS; i++)
		if (n->ns[i])
			blk_drain(n->ns[i]->blk);
}

static const struct prop nvme_props[] = {
	{ "serial", PROP_STR, offsetof(struct nvme_state, serial), NULL,
	  "controller serial number (1 to 20 characters)", .required = 1 },
	{ "drive", PROP_STR, offsetof(struct nvme_state, drive), NULL,
	  "node-name of the -blockdev for namespace 1" },
	{ "num_queues", PROP_U32, offsetof(struct nvme_state, num_queues), "4",
	  "I/O queue pairs", .min = 1, .max = MAX_QUEUES },
	{ "bus", PROP_STR, offsetof(struct nvme_state, bus), NULL, "PCI bus (pci.0)" },
	{ "addr", PROP_STR, offsetof(struct nvme_state, addr), NULL,
	  "PCI slot[.function], hex (default: first free slot)" },
	{ NULL }
};

static const struct device_type nvme_type = {
	.name = "nvme",
	.bus = "pci",
	.child_bus = "nvme-bus",
	.desc = "NVMe controller (namespace 1 from drive=)",
	.state_size = sizeof(struct nvme_state),
	.props = nvme_props,
	.realize = nvme_realize,
	.unrealize = nvme_free,
	.reset = nvme_reset,
	.check = nvme_check,
};
DEVICE_TYPE(nvme_type)

/* ---- more namespaces ---- */

static int nvme_ns_realize(struct device *dev, struct platform *pf)
{
	struct nvme_ns_state *st = dev->state;
	char owner[64], bus[80];
	struct device *parent;
	const char *b = st->bus;
	int ret;

	snprintf(owner, sizeof(owner), "-device nvme-ns,drive=%s", st->drive);
	/* QEMU names the bus after the controller's id; ember's are ID.0: both do. */
	if (b && (strlen(b) < 2 || strcmp(b + strlen(b) - 2, ".0"))) {
		parent = device_find(pf, b);
		if (!parent || parent->type != &nvme_type) {
			err_msg("%s: bus '%s': no -device nvme with id=%s before it", owner, b, b);
			return -ENOENT;
		}
		snprintf(bus, sizeof(bus), "%s.0", b);
		b = bus;
	}
	ret = device_find_parent(pf, dev->type, b, owner, &parent);
	if (ret)
		return ret;
	ret = ns_attach(((struct nvme_state *)parent->state)->n, &st->ns, st->drive, st->nsid,
			owner);
	st->attached = !ret;
	return ret;
}

static void nvme_ns_unrealize(struct device *dev, struct platform *pf)
{
	struct nvme_ns_state *st = dev->state;

	(void)pf;
	if (st->attached)
		ns_detach(st->ns.n, &st->ns);
	st->attached = false;
}

static const struct prop nvme_ns_props[] = {
	{ "drive", PROP_STR, offsetof(struct nvme_ns_state, drive), NULL,
	  "node-name of the -blockdev", .required = 1 },
	{ "bus", PROP_STR, offsetof(struct nvme_ns_state, bus), NULL,
	  "the controller's id (default: the last -device nvme)" },
	{ "nsid", PROP_U32, offsetof(struct nvme_ns_state, nsid), "0",
	  "namespace id (0: the first free)", .max = NVME_MAX_NS },
	{ NULL }
};

static const struct device_type nvme_ns_type = {
	.name = "nvme-ns",
	.bus = "nvme-bus",
	.desc = "another namespace of an NVMe controller",
	.state_size = sizeof(struct nvme_ns_state),
	.props = nvme_ns_props,
	.realize = nvme_ns_realize,
	.unrealize = nvme_ns_unrealize,
};
DEVICE_TYPE(nvme_ns_type)
