/*
 * virtio-net (virtio 1.2 section 5.1) over a -netdev tap: the device types
 * "virtio-net-device" (virtio-mmio) and "virtio-net-pci".
 *
 * Queues: rx0, tx0, rx1, tx1, ..., then the control queue. Each queue pair
 * has its tap fd and its io_uring, whose completions the loop serves under
 * vdev->lock. Transmit: a chain's header is checked (net_hdr.c) and the
 * whole chain, header and frame, is written to the tap, which takes the
 * vnet header. Receive: one read per pair is kept in flight into as many
 * guest chains as hold the largest packet; the chains it filled go back
 * with num_buffers set (net_rx.c), the rest wait for the next packet.
 * Everything is allocated at realize: nothing per packet.
 *
 * With vhost=on the kernel's vhost-net serves each pair's rings straight
 * from the tap (one /dev/vhost-net per pair); only the control queue stays
 * here. Over a -netdev vhost-user a daemon serves every pair's rings the
 * same way (vhost_user_dev.c): ember keeps the config space and the control
 * queue, whose queue-pair command turns the pairs' rings on and off at the
 * daemon (SET_VRING_ENABLE).
 *
 * Over a -netdev user (libslirp) there is no fd and one pair: a frame the
 * guest sends is copied out of its chain and handed to the back end, and
 * the back end's frames are copied into held chains, all on the loop. That
 * back end takes plain Ethernet frames, so no checksum or segmentation
 * offload is offered in either direction.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>
#include <linux/vhost.h>

#include "backends/net.h"
#include "backends/uring.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/ratelimit.h"
#include "lib/util.h"
#include "virtio/net.h"
#include "virtio/transport.h"
#include "virtio/vhost.h"
#include "virtio/vhost_user_dev.h"
#include "virtio/virtio.h"

/* Chains held for one read: 64 of Linux's smallest mergeable buffers > 64 KiB. */
#define RX_HOLD		64
#define RX_IOV		1024	/* UIO_MAXIOV */
#define TX_SLOTS	128
#define RING_DEPTH	256

/* io_uring user data: what completed, and for tx which slot. */
enum { OP_TX = 1, OP_RX_READ, OP_RX_POLL, OP_CANCEL };
#define OP(kind, idx)	((uint64_t)(kind) << 32 | (idx))

struct vnet;

struct tx_slot {
	struct tx_slot *next;
	struct virtq_elem elem;
};

struct vnet_pair {
	struct vnet *vn;
	unsigned index;
	int fd;
	struct uring u;
	bool ring_ok;
	struct vhost vh;		/* vhost=on */
	bool backend;			/* the tap is bound to vh */

	/* Receive: held chains are held[(head + i) % RX_HOLD], i < count. */
	struct virtq_elem *held;
	unsigned head, count;
	uint32_t held_cap, held_iovs;	/* writable bytes and iovecs of the held chains */
	struct iovec *riov;		/* the current read's iovecs */
	unsigned riovcnt, rchains;	/* ... and how many held chains they cover */
	bool reading, polling, rx_dead, rx_pushed;
	bool rx_limited, tx_limited;	/* waiting for the rate limiter's resume */

	/* Transmit. */
	uint8_t *tx_buf;		/* -netdev user: one frame, copied out of its chain */
	struct tx_slot *slots, *free;
	unsigned tx_fresh;		/* slots[] handed out so far (tx_one) */
	unsigned tx_inflight;
	bool tx_stalled, tx_pushed;
};

struct vnet {
	/* Properties. */
	char *netdev_id, *mac_str;
	bool mq;
	uint32_t queue_size;
	struct virtio_link link;	/* bus=, addr=; on which transport */

	/* Guest-visible state; over vhost-user vud.vdev is vdev. */
	union {
		struct virtio_dev vdev;
		struct vhost_user_dev vud;
	};
	struct virtio_net_config cfg;
	struct vnet_ctrl_state ctrl;
	uint64_t features;
	bool mrg;

	struct platform *pf;
	struct netdev *nd;
	struct netdev_user *user;	/* -netdev user: frames through calls, not a tap */
	const struct netdev_vu *vu;	/* -netdev vhost-user: the rings are a daemon's */
	unsigned npairs;
	bool claimed, vhost;
	struct vnet_pair *pairs;
	/* The netdev's limits, for the whole device (all pairs). */
	struct ratelimit rx_rl, tx_rl;
	bool rl_ok;
	uint64_t tx_dropped, rx_filtered;
	struct virtq_elem ctrl_elem;
	uint8_t ctrl_buf[VNET_CTRL_MAX];
};

_Static_assert(offsetof(struct vhost_user_dev, vdev) == 0, "vud.vdev is vdev");

static struct vnet *to_vnet(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vnet, vdev);
}

static unsigned ctrl_queue(const struct vnet *vn)
{
	return 2 * vn->npairs;
}

static bool live(struct vnet *vn, unsigned qi)
{
	uint8_t st = __atomic_load_n(&vn->vdev.status, __ATOMIC_ACQUIRE);

	return !vn->link.dying && vn->vdev.vqs[qi].enabled &&
	       (st & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

static unsigned tun_offloads(uint64_t off)
{
	unsigned f = 0;

	if (!(off & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	f |= TUN_F_CSUM;
	if (off & BIT(VIRTIO_NET_F_GUEST_TSO4))
		f |= TUN_F_TSO4;
	if (off & BIT(VIRTIO_NET_F_GUEST_TSO6))
		f |= TUN_F_TSO6;
	if ((off & BIT(VIRTIO_NET_F_GUEST_ECN)) && (f & (TUN_F_TSO4 | TUN_F_TSO6)))
		f |= TUN_F_TSO_ECN;
	if (off & BIT(VIRTIO_NET_F_GUEST_UFO))
		f |= TUN_F_UFO;
	return f;
}

static bool guest_gso(const struct vnet *vn)
{
	return vn->ctrl.offloads & (BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
				    BIT(VIRTIO_NET_F_GUEST_UFO));
}

/* ---- receive (loop thread, or activate on a vCPU; under vdev->lock) ---- */

static struct virtq_elem *held(struct vnet_pair *p, unsigned i)
{
	return &p->held[(p->head + i) % RX_HOLD];
}

static bool rx_enough(struct vnet_pair *p, uint32_t need)
{
	return p->count && (!p->vn->mrg || p->held_cap >= need || p->count == RX_HOLD ||
			    p->held_iovs >= RX_IOV);
}

/* Pops chains until one read can take the largest packet. false: not yet. */
static bool rx_fill(struct vnet_pair *p, struct virtq *vq)
{
	uint32_t need = vnet_rx_need(p->vn->mrg, guest_gso(p->vn));

	while (!rx_enough(p, need)) {
		struct virtq_elem *e = held(p, p->count);
		int ret = virtq_pop(vq, e);

		if (ret < 0) {
			virtio_needs_reset(&p->vn->vdev, vq->why);
			return false;
		}
		if (!ret)
			return false;
		if (e->in_len < VNET_HDR_LEN) {
			/* No room for a header: nothing can go there. */
			warn_once("%s: receive buffer of %u bytes is smaller than the header",
				  p->vn->vdev.name, e->in_len);
			virtq_push(vq, e, 0);
			p->rx_pushed = true;
			continue;
		}
		p->count++;
		p->held_cap += e->in_len;
		p->held_iovs += e->in_num;
	}
	return true;
}

/* The held chains' writable iovecs, in order, as one packet's. */
static void rx_iovs(struct vnet_pair *p)
{
	unsigned n = p->vn->mrg ? p->count : 1;

	p->riovcnt = p->rchains = 0;
	for (unsigned i = 0; i < n; i++) {
		struct virtq_elem *e = held(p, i);

		if (p->riovcnt + e->in_num > RX_IOV)
			break;
		memcpy(&p->riov[p->riovcnt], &e->iov[e->out_num], e->in_num * sizeof(*p->riov));
		p->riovcnt += e->in_num;
		p->rchains++;
	}
}

static void rx_arm(struct vnet_pair *p)
{
	struct io_uring_sqe *sqe = uring_sqe(&p->u);

	if (!sqe)
		return;		/* the ring is full of tx: a completion retries */
	rx_iovs(p);
	io_uring_prep_readv(sqe, p->fd, p->riov, p->riovcnt, 0);
	io_uring_sqe_set_data64(sqe, OP(OP_RX_READ, 0));
	p->reading = true;
}

static void rx_start(struct vnet_pair *p)
{
	struct vnet *vn = p->vn;
	unsigned qi = 2 * p->index;

	if (p->reading || p->polling || p->rx_dead || p->rx_limited ||
	    p->index >= vn->ctrl.pairs || !live(vn, qi))
		return;
	if (!ratelimit_ready(&vn->rx_rl)) {
		p->rx_limited = true;
		return;
	}
	if (rx_fill(p, &vn->vdev.vqs[qi]))
		rx_arm(p);
}

/* A packet of @len bytes is in the first chains of the read: give them back. */
static void rx_deliver(struct vnet_pair *p, uint32_t len)
{
	struct virtq *vq = &p->vn->vdev.vqs[2 * p->index];
	uint32_t cap[RX_HOLD], used[RX_HOLD];
	unsigned k;

	for (unsigned i = 0; i < p->rchains; i++)
		cap[i] = held(p, i)->in_len;
	k = vnet_rx_split(cap, p->rchains, len, used);
	vnet_rx_set_buffers(p->riov, p->riovcnt, k);
	for (unsigned i = 0; i < k; i++) {
		struct virtq_elem *e = held(p, i);

		virtq_push(vq, e, used[i]);
		p->held_cap -= e->in_len;
		p->held_iovs -= e->in_num;
	}
	p->head = (p->head + k) % RX_HOLD;
	p->count -= k;
	p->rx_pushed = true;
	ratelimit_charge(&p->vn->rx_rl, len - MIN(len, (uint32_t)VNET_HDR_LEN));
}

static uint32_t riov_cap(const struct vnet_pair *p)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < p->riovcnt; i++)
		t += p->riov[i].iov_len;
	return (uint32_t)MIN(t, (uint64_t)UINT32_MAX);
}

static void rx_done(struct vnet_pair *p, int res)
{
	struct vnet *vn = p->vn;
	struct io_uring_sqe *sqe;
	uint8_t dst[6];

	p->reading = false;
	if (!live(vn, 2 * p->index))
		return;
	if (res == -EAGAIN || res == 0) {
		/* Nothing there: wait until the tap has a packet. */
		sqe = uring_sqe(&p->u);
		if (sqe) {
			io_uring_prep_poll_add(sqe, p->fd, POLLIN);
			io_uring_sqe_set_data64(sqe, OP(OP_RX_POLL, 0));
			p->polling = true;
		}
		return;
	}
	if (res == -EINTR || res == -ECANCELED)
		return;
	if (res < 0) {
		warn_msg("%s: reading the tap failed: %s; receive stops on queue %u",
			 vn->vdev.name, strerror(-res), p->index);
		p->rx_dead = true;
		return;
	}
	/* The tap reports the whole packet even when it had to cut it. */
	res = MIN((uint32_t)res, riov_cap(p));
	if ((uint32_t)res >= VNET_HDR_LEN + 6 &&
	    iov_read(p->riov, p->riovcnt, VNET_HDR_LEN, dst, 6) == 6 &&
	    !vnet_rx_accept(&vn->ctrl, dst)) {
		vn->rx_filtered++;	/* the same chains take the next packet */
		return;
	}
	rx_deliver(p, res);
}

/* ---- transmit (loop thread, under vdev->lock) ---- */

/* A chain whose header breaks what was negotiated goes back unsent. */
static bool tx_refused(struct vnet_pair *p, struct virtq *vq, struct virtq_elem *e)
{
	struct virtio_net_hdr_v1 hdr;
	const char *why;

	if (!vnet_tx_check(e, p->vn->vdev.guest_features, &hdr, &why))
		return false;
	p->vn->tx_dropped++;
	warn_once("%s: dropping transmitted frames the driver got wrong: %s",
		  p->vn->vdev.name, why);
	virtq_push(vq, e, 0);
	p->tx_pushed = true;
	return true;
}

/* 1: a chain was handled; 0: the ring is empty; -1: stalled or broken. */
static int tx_one(struct vnet_pair *p, struct virtq *vq)
{
	struct vnet *vn = p->vn;
	struct tx_slot *s;
	struct io_uring_sqe *sqe;
	int ret;

	/*
	 * A slot is taken from the array when the free list is empty, not all
	 * threaded at start: each holds a chain's iovecs (4 KiB), and touching
	 * all 128 made 512 KiB of every NIC resident (scripts/bench/scale).
	 */
	if (!p->free && p->tx_fresh < TX_SLOTS) {
		p->free = &p->slots[p->tx_fresh++];
		p->free->next = NULL;
	}
	s = p->free;
	if (!s) {
		p->tx_stalled = true;	/* a completion restarts us */
		return -1;
	}
	if (!ratelimit_ready(&vn->tx_rl)) {
		p->tx_limited = true;	/* the limiter's resume restarts us */
		return -1;
	}
	ret = virtq_pop(vq, &s->elem);
	if (ret < 0) {
		virtio_needs_reset(&vn->vdev, vq->why);
		return -1;
	}
	if (!ret)
		return 0;
	if (tx_refused(p, vq, &s->elem))
		return 1;
	sqe = uring_sqe(&p->u);
	if (!sqe) {
		/* Cannot happen (the ring has room for every slot); never lose the chain. */
		virtq_push(vq, &s->elem, 0);
		p->tx_pushed = true;
		return 1;
	}
	ratelimit_charge(&vn->tx_rl, s->elem.out_len - VNET_HDR_LEN);
	io_uring_prep_writev(sqe, p->fd, s->elem.iov, s->elem.out_num, 0);
	io_uring_sqe_set_data64(sqe, OP(OP_TX, s - p->slots));
	p->free = s->next;
	p->tx_inflight++;
	return 1;
}

static int user_tx_one(struct vnet_pair *p, struct virtq *vq);

static void tx_process(struct vnet_pair *p)
{
	struct virtq *vq = &p->vn->vdev.vqs[2 * p->index + 1];
	int (*one)(struct vnet_pair *, struct virtq *) = p->vn->user ? user_tx_one : tx_one;
	int ret;

	p->tx_stalled = p->tx_limited = false;
	for (;;) {
		virtq_set_notification(vq, false);
		while ((ret = one(p, vq)) > 0)
			;
		if (ret < 0)
			break;		/* kicks stay off until we are restarted */
		virtq_set_notification(vq, true);
		/* A chain the driver added before it saw the flag gets no kick. */
		if (one(p, vq) <= 0)
			break;
	}
}

/* ---- completions ---- */

static void notify(struct vnet_pair *p)
{
	struct vnet *vn = p->vn;

	if (p->rx_pushed) {
		p->rx_pushed = false;
		virtio_notify(&vn->vdev, 2 * p->index);
	}
	if (p->tx_pushed) {
		p->tx_pushed = false;
		virtio_notify(&vn->vdev, 2 * p->index + 1);
	}
}

/* One completion. @quiet: the device is going away or resetting, push nothing. */
static void complete(struct vnet_pair *p, uint64_t data, int res, bool quiet)
{
	unsigned kind = data >> 32, idx = (uint32_t)data;
	struct vnet *vn = p->vn;

	switch (kind) {
	case OP_TX:
		if (idx >= TX_SLOTS)
			return;
		if (!quiet) {
			virtq_push(&vn->vdev.vqs[2 * p->index + 1], &p->slots[idx].elem, 0);
			p->tx_pushed = true;
		}
		p->slots[idx].next = p->free;
		p->free = &p->slots[idx];
		p->tx_inflight--;
		break;
	case OP_RX_READ:
		if (quiet)
			p->reading = false;
		else
			rx_done(p, res);
		break;
	case OP_RX_POLL:
		p->polling = false;
		break;
	default:
		break;
	}
}

static unsigned reap(struct vnet_pair *p, bool quiet)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;

	while (io_uring_peek_cqe(&p->u.ring, &cqe) == 0) {
		uint64_t data = io_uring_cqe_get_data64(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&p->u.ring, cqe);
		complete(p, data, res, quiet);
		n++;
	}
	return n;
}

static void submit(struct vnet_pair *p)
{
	int ret;

	if (!io_uring_sq_ready(&p->u.ring))
		return;
	ret = uring_submit(&p->u);
	if (ret < 0)
		warn_once("%s: io_uring_submit: %s", p->vn->vdev.name, strerror(-ret));
}

/*
 * Reaps, refills and submits until the ring is quiet (bounded, so other
 * pairs get their turn): the tap's reads and writes mostly complete inside
 * the submit, so one wake-up moves many packets and raises one interrupt.
 */
static void pump(struct vnet_pair *p)
{
	struct vnet *vn = p->vn;

	for (int i = 0; i < 64; i++) {
		unsigned n = reap(p, false);
		bool queued;

		if (p->tx_stalled && live(vn, 2 * p->index + 1))
			tx_process(p);
		rx_start(p);
		queued = io_uring_sq_ready(&p->u.ring);
		submit(p);
		if (!n && !queued)
			break;
	}
	notify(p);
}

static void on_ring(void *opaque)
{
	struct vnet_pair *p = opaque;
	struct vnet *vn = p->vn;

	pthread_mutex_lock(&vn->vdev.lock);
	if (vn->link.dying)
		reap(p, true);
	else
		pump(p);
	pthread_mutex_unlock(&vn->vdev.lock);
}

/* After a reset: the driver took its buffers back. */
static void forget(struct vnet_pair *p)
{
	p->head = p->count = 0;
	p->held_cap = p->held_iovs = 0;
	p->rx_pushed = p->tx_pushed = p->tx_stalled = false;
	p->rx_limited = p->tx_limited = false;
}

/*
 * Waits until nothing of @p is in flight: reads into guest buffers must not
 * land after the driver reset the device and took its memory back.
 */
static void drain(struct vnet_pair *p)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;

	if (!p->ring_ok)
		return;
	reap(p, true);
	if (p->reading || p->polling) {
		sqe = uring_sqe(&p->u);
		if (sqe) {
			io_uring_prep_cancel64(sqe, OP(p->reading ? OP_RX_READ : OP_RX_POLL, 0), 0);
			io_uring_sqe_set_data64(sqe, OP(OP_CANCEL, 0));
		}
	}
	uring_submit(&p->u);
	while (p->reading || p->polling || p->tx_inflight) {
		int ret = io_uring_wait_cqe(&p->u.ring, &cqe);

		if (ret == -EINTR)
			continue;
		if (ret < 0) {
			warn_msg("%s: cannot wait for the tap: %s", p->vn->vdev.name,
				 strerror(-ret));
			break;
		}
		reap(p, true);
	}
	forget(p);
}

/* The rate limiter has tokens again: restart what it held back. */
static void on_limit(void *opaque)
{
	struct vnet *vn = opaque;

	pthread_mutex_lock(&vn->vdev.lock);
	for (unsigned i = 0; i < vn->npairs && !vn->link.dying; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		if (p->tx_limited && live(vn, 2 * i + 1)) {
			p->tx_limited = false;
			tx_process(p);
		}
		p->rx_limited = false;
		pump(p);
	}
	pthread_mutex_unlock(&vn->vdev.lock);
}

/* ---- -netdev user (loop thread, under vdev->lock) ---- */

/* 1: a chain was handed to the back end; 0: the ring is empty; -1: broken. */
static int user_tx_one(struct vnet_pair *p, struct virtq *vq)
{
	struct virtq_elem *e = &p->slots[0].elem;
	uint32_t len;
	int ret;

	ret = virtq_pop(vq, e);
	if (ret < 0) {
		virtio_needs_reset(&p->vn->vdev, vq->why);
		return -1;
	}
	if (!ret)
		return 0;
	if (tx_refused(p, vq, e))
		return 1;
	/* Without offloads a frame is at most the MTU the guest set. */
	len = MIN(e->out_len - VNET_HDR_LEN, (uint32_t)VNET_MAX_FRAME);
	iov_read(e->iov, e->out_num, VNET_HDR_LEN, p->tx_buf, len);
	virtq_push(vq, e, 0);
	p->tx_pushed = true;
	netdev_user_send(p->vn->user, p->tx_buf, len);
	return 1;
}

/* The back end's frames into held chains, until either runs out. */
static void user_rx(struct vnet_pair *p)
{
	static const uint8_t no_offload[VNET_HDR_LEN];
	struct vnet *vn = p->vn;
	const uint8_t *f;
	size_t len;

	while (live(vn, 0) && (f = netdev_user_peek(vn->user, &len))) {
		uint32_t n;

		if (len >= 6 && !vnet_rx_accept(&vn->ctrl, f)) {
			vn->rx_filtered++;
			netdev_user_pop(vn->user);
			continue;
		}
		if (!rx_fill(p, &vn->vdev.vqs[0]))
			break;		/* no room: the frame waits in the back end */
		rx_iovs(p);
		n = (uint32_t)MIN(VNET_HDR_LEN + len, (size_t)riov_cap(p));
		iov_write(p->riov, p->riovcnt, 0, no_offload, VNET_HDR_LEN);
		iov_write(p->riov, p->riovcnt, VNET_HDR_LEN, f, n - VNET_HDR_LEN);
		rx_deliver(p, n);
		netdev_user_pop(vn->user);
	}
}

/* The back end queued a frame from outside a send (a socket, a timer). */
static void on_user_ready(void *opaque)
{
	struct vnet_pair *p = opaque;

	pthread_mutex_lock(&p->vn->vdev.lock);
	if (!p->vn->link.dying) {
		user_rx(p);
		notify(p);
	}
	pthread_mutex_unlock(&p->vn->vdev.lock);
}

/* ---- control queue ---- */

static void apply_pairs(struct vnet *vn)
{
	for (unsigned i = 0; i < vn->npairs; i++)
		netdev_enable_queue(vn->nd, i, i < vn->ctrl.pairs);
}

/* The rings of the pairs the driver uses on at the daemon, the others off. */
static int vu_pairs(struct vnet *vn)
{
	int ret = 0;

	for (unsigned q = 0; q < 2 * vn->npairs && q < vn->vud.started && !ret; q++)
		if (vn->vdev.vqs[q].enabled)
			ret = vhost_user_set_vring(&vn->vud.vu, VHOST_USER_SET_VRING_ENABLE, q,
						   q / 2 < vn->ctrl.pairs);
	return ret;
}

static void ctrl_process(struct vnet *vn)
{
	struct virtq *vq = &vn->vdev.vqs[ctrl_queue(vn)];
	struct virtq_elem *e = &vn->ctrl_elem;
	bool pushed = false;
	int ret;

	while ((ret = virtq_pop(vq, e)) > 0) {
		uint8_t ack = VIRTIO_NET_ERR;
		unsigned chg = 0;

		if (e->out_len <= VNET_CTRL_MAX) {
			iov_read(e->iov, e->out_num, 0, vn->ctrl_buf, e->out_len);
			ack = vnet_ctrl_apply(&vn->ctrl, vn->vdev.guest_features, vn->npairs,
					      vn->ctrl_buf, e->out_len, &chg);
		}
		/* The ack is the chain's writable part; without one nothing is said. */
		virtq_push(vq, e, iov_write(&e->iov[e->out_num], e->in_num, 0, &ack, 1));
		pushed = true;
		if (chg & VNET_CHG_MAC)
			memcpy(vn->cfg.mac, vn->ctrl.mac, 6);
		if (vn->vu) {
			if (chg & VNET_CHG_PAIRS)
				vu_pairs(vn);
			continue;
		}
		if ((chg & VNET_CHG_OFFLOADS) && !vn->user)
			netdev_set_offload(vn->nd, tun_offloads(vn->ctrl.offloads));
		if ((chg & VNET_CHG_PAIRS) && !vn->user) {
			apply_pairs(vn);
			for (unsigned i = 0; i < vn->npairs && !vn->vhost; i++) {
				/* A queue read while it was detached failed: try again. */
				vn->pairs[i].rx_dead = false;
				pump(&vn->pairs[i]);
			}
		}
	}
	if (ret < 0)
		virtio_needs_reset(&vn->vdev, vq->why);
	if (pushed)
		virtio_notify(&vn->vdev, ctrl_queue(vn));
}

/* ---- virtio_dev_ops (under vdev->lock) ---- */

static void vnet_queue_notify(struct virtio_dev *vdev, unsigned qi)
{
	struct vnet *vn = to_vnet(vdev);
	struct vnet_pair *p;

	if (!live(vn, qi))
		return;
	if (qi == ctrl_queue(vn)) {
		ctrl_process(vn);
		return;
	}
	if (vn->vhost || vn->vu)
		return;		/* the kernel's or the daemon's (their eventfd has the kick) */
	p = &vn->pairs[qi / 2];
	if (vn->user) {
		if (qi & 1)
			tx_process(p);
		user_rx(p);	/* new buffers, or the replies to what was sent */
		notify(p);
		return;
	}
	if (qi & 1)
		tx_process(p);
	pump(p);
}

static uint64_t vnet_get_features(struct virtio_dev *vdev)
{
	return to_vnet(vdev)->features;
}

static void vnet_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	memcpy(data, (uint8_t *)&to_vnet(vdev)->cfg + off, len);
}

static int set_backend(struct vnet_pair *p, int fd)
{
	for (unsigned k = 0; k < 2; k++) {
		struct vhost_vring_file f = { .index = k, .fd = fd };

		if (ioctl(p->vh.fd, VHOST_NET_SET_BACKEND, &f) < 0) {
			int e = errno;

			err_msg("%s: /dev/vhost-net: cannot %s the tap: %s", p->vh.owner,
				fd < 0 ? "unbind" : "bind", strerror(e));
			return -e;
		}
	}
	p->backend = fd >= 0;
	return 0;
}

static void vhost_down(struct vnet *vn)
{
	for (unsigned i = 0; i < vn->npairs; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		if (p->backend)
			set_backend(p, -1);
		vhost_stop(&p->vh, &vn->vdev);
	}
}

/* Each pair's rx and tx rings to its own vhost-net, bound to its tap queue. */
static int vhost_up(struct vnet *vn)
{
	int ret = 0;

	for (unsigned i = 0; i < vn->npairs && !ret; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		ret = vhost_start(&p->vh, &vn->vdev, vn->vdev.guest_features, 2 * i, 2);
		if (!ret)
			ret = set_backend(p, p->fd);
	}
	if (ret)
		vhost_down(vn);
	return ret;
}

static int vnet_activate(struct virtio_dev *vdev)
{
	struct vnet *vn = to_vnet(vdev);

	vn->mrg = vdev->guest_features & BIT(VIRTIO_NET_F_MRG_RXBUF);
	vnet_ctrl_reset(&vn->ctrl, vn->cfg.mac, vdev->guest_features & VNET_GUEST_OFFLOADS);
	/* -netdev user: its frames wait for the guest's first rx kick (on the loop). */
	if (vn->user)
		return 0;
	if (vn->vu) {
		int ret = vhost_user_dev_activate(vdev);

		return ret ? ret : vu_pairs(vn);
	}
	netdev_set_offload(vn->nd, tun_offloads(vn->ctrl.offloads));
	apply_pairs(vn);
	if (vn->vhost)
		return vhost_up(vn);
	for (unsigned i = 0; i < vn->npairs; i++) {
		vn->pairs[i].rx_dead = false;
		pump(&vn->pairs[i]);
	}
	return 0;
}

static void vnet_reset(struct virtio_dev *vdev)
{
	struct vnet *vn = to_vnet(vdev);

	if (vn->vhost)
		vhost_down(vn);
	if (vn->vu)
		vhost_user_dev_reset(vdev);
	for (unsigned i = 0; i < vn->npairs; i++)
		if (vn->user)
			forget(&vn->pairs[i]);
		else
			drain(&vn->pairs[i]);
	vn->mrg = false;
}

static const struct virtio_dev_ops vnet_ops = {
	.device_id = VIRTIO_ID_NET,
	.get_features = vnet_get_features,
	.config_size = offsetof(struct virtio_net_config, mtu),
	.read_config = vnet_read_config,
	.activate = vnet_activate,
	.reset = vnet_reset,
	.queue_notify = vnet_queue_notify,
};

/* ---- creation ---- */

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int parse_mac(struct vnet *vn, const char *owner)
{
	static const uint8_t base[5] = { 0x52, 0x54, 0x00, 0x12, 0x34 };
	static unsigned next_default = 0x56;	/* QEMU's first: 52:54:00:12:34:56 */
	const char *s = vn->mac_str;

	if (!s) {
		memcpy(vn->cfg.mac, base, 5);
		vn->cfg.mac[5] = next_default++ & 0xff;
		return 0;
	}
	for (unsigned i = 0; i < 6; i++, s += 3) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (lo < 0 || s[2] != (i == 5 ? 0 : ':')) {
			err_msg("%s: mac=%s: use six hex bytes, aa:bb:cc:dd:ee:ff", owner,
				vn->mac_str);
			return -EINVAL;
		}
		vn->cfg.mac[i] = hi << 4 | lo;
	}
	if (vn->cfg.mac[0] & 1) {
		err_msg("%s: mac=%s is a multicast address", owner, vn->mac_str);
		return -EINVAL;
	}
	return 0;
}

static int check_props(struct vnet *vn, const char *owner)
{
	unsigned q;

	if (vn->queue_size & (vn->queue_size - 1)) {
		err_msg("%s: queue-size=%u is not a power of 2", owner, vn->queue_size);
		return -EINVAL;
	}
	vn->nd = netdev_find(vn->netdev_id);
	if (!vn->nd) {
		err_msg("%s: no -netdev with id '%s'", owner, vn->netdev_id);
		return -ENOENT;
	}
	vn->user = netdev_user(vn->nd);
	if (vn->user) {
		vn->npairs = 1;
		return parse_mac(vn, owner);
	}
	vn->vu = netdev_vhost_user(vn->nd);
	q = vn->vu ? vn->vu->queues : netdev_queues(vn->nd);
	if (q > 1 && !vn->mq) {
		err_msg("%s: netdev '%s' has %u queues: add mq=on", owner, vn->netdev_id, q);
		return -EINVAL;
	}
	vn->npairs = vn->mq ? q : 1;
	/* A daemon's pairs beyond the driver's stay off (the control queue says). */
	if (vn->vu)
		return parse_mac(vn, owner);
	if (vn->npairs > vn->pf->ncpus) {
		err_msg("%s: %u queue pairs but %u vCPUs: use at most one pair per vCPU "
			"(-netdev queues=, -smp)", owner, vn->npairs, vn->pf->ncpus);
		return -EINVAL;
	}
	vn->vhost = netdev_vhost(vn->nd);
	return parse_mac(vn, owner);
}

static int setup_limits(struct vnet *vn)
{
	static const struct ratelimit_cfg none;
	bool own = vn->user || vn->vu;	/* no tap: no limits of its own */
	const struct ratelimit_cfg *rx = own ? &none : netdev_rx_limit(vn->nd);
	const struct ratelimit_cfg *tx = own ? &none : netdev_tx_limit(vn->nd);
	char owner[80];
	int ret;

	snprintf(owner, sizeof(owner), "-netdev %s,id=%s",
		 vn->user ? "user" : vn->vu ? "vhost-user" : "tap", vn->netdev_id);
	if (vn->vhost && (rx->bps || rx->ops || tx->bps || tx->ops)) {
		err_msg("%s: rate limits need vhost=off (vhost-net's data path is the kernel's)",
			owner);
		return -EINVAL;
	}
	ret = ratelimit_init(&vn->rx_rl, rx, vn->pf->loop, on_limit, vn, owner);
	if (ret)
		return ret;
	ret = ratelimit_init(&vn->tx_rl, tx, vn->pf->loop, on_limit, vn, owner);
	if (ret) {
		ratelimit_destroy(&vn->rx_rl);
		return ret;
	}
	vn->rl_ok = true;
	return 0;
}

static void setup_features(struct vnet *vn)
{
	vn->features = BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_STATUS) |
		BIT(VIRTIO_NET_F_MRG_RXBUF) | BIT(VIRTIO_NET_F_CSUM) |
		BIT(VIRTIO_NET_F_GUEST_CSUM) |
		BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
		BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_HOST_UFO) |
		BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
		BIT(VIRTIO_NET_F_GUEST_ECN) | BIT(VIRTIO_NET_F_GUEST_UFO) |
		BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) |
		BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) |
		BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS);
	if (vn->npairs > 1)
		vn->features |= BIT(VIRTIO_NET_F_MQ);
	/* libslirp takes and makes whole, checksummed frames. */
	if (vn->user)
		vn->features &= ~(BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
				  BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) | VNET_GUEST_OFFLOADS |
				  BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
				  BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_HOST_UFO));
	vn->cfg.status = htole16(VIRTIO_NET_S_LINK_UP);
	vn->cfg.max_virtqueue_pairs = htole16(vn->npairs);
}

static void free_pairs(struct vnet *vn)
{
	for (unsigned i = 0; vn->pairs && i < vn->npairs; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		if (p->ring_ok) {
			drain(p);
			uring_exit(&p->u);
		}
		/* Closing it takes the kernel off the rings and the tap. */
		vhost_close(&p->vh);
		free(p->held);
		free(p->riov);
		free(p->slots);
		free(p->tx_buf);
	}
	free(vn->pairs);
	vn->pairs = NULL;
}

static int alloc_pairs(struct vnet *vn, const char *owner)
{
	int ret;

	vn->pairs = calloc(vn->npairs, sizeof(*vn->pairs));
	if (!vn->pairs)
		goto nomem;
	for (unsigned i = 0; i < vn->npairs; i++)
		vn->pairs[i].vh.fd = -1;
	for (unsigned i = 0; i < vn->npairs; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		p->vn = vn;
		p->index = i;
		p->fd = -1;
		if (vn->vu)
			continue;	/* the daemon's rings: nothing of ember's per pair */
		p->fd = netdev_fd(vn->nd, i);
		if (vn->vhost) {
			char nd_owner[80];

			int vfd = netdev_take_vhost_fd(vn->nd, i);

			snprintf(nd_owner, sizeof(nd_owner), "-netdev tap,id=%s", vn->netdev_id);
			ret = vfd >= 0 ? vhost_adopt(&p->vh, vfd, "vhostfd", nd_owner) :
			      vhost_open(&p->vh, "/dev/vhost-net", nd_owner);
			if (ret)
				return ret;
			continue;
		}
		p->held = calloc(RX_HOLD, sizeof(*p->held));
		p->riov = calloc(RX_IOV, sizeof(*p->riov));
		/* -netdev user: one chain at a time (slots[0]) through one frame buffer. */
		p->slots = calloc(vn->user ? 1 : TX_SLOTS, sizeof(*p->slots));
		if (!p->held || !p->riov || !p->slots)
			goto nomem;
		if (vn->user) {
			p->tx_buf = malloc(VNET_MAX_FRAME);
			if (!p->tx_buf)
				goto nomem;
			netdev_user_attach(vn->user, on_user_ready, p);
			continue;
		}
		ret = uring_init(&p->u, RING_DEPTH, vn->pf->loop, on_ring, p);
		if (ret) {
			uring_exit(&p->u);
			err_msg("%s: cannot set up io_uring: %s", owner, strerror(-ret));
			return ret;
		}
		p->ring_ok = true;
	}
	return 0;
nomem:
	err_msg("%s: out of memory", owner);
	return -ENOMEM;
}

/* The kernel's data plane stops before the transport goes. */
static void vnet_stop(struct device *dev, struct platform *pf)
{
	struct vnet *vn = dev->state;

	for (unsigned i = 0; vn->pairs && i < vn->npairs; i++)
		vhost_close(&vn->pairs[i].vh);
	if (vn->vu)
		vhost_user_dev_close(&vn->vud);
}

static void vnet_unrealize(struct device *dev, struct platform *pf)
{
	struct vnet *vn = dev->state;

	free_pairs(vn);
	if (vn->vu)
		vhost_user_dev_close(&vn->vud);
	if (vn->rl_ok) {
		ratelimit_destroy(&vn->rx_rl);
		ratelimit_destroy(&vn->tx_rl);
	}
	vn->rl_ok = false;
	if (vn->user)
		netdev_user_attach(vn->user, NULL, NULL);
	if (vn->claimed)
		netdev_release(vn->nd);
	vn->claimed = false;
}

/*
 * -netdev vhost-user: the daemon's socket, negotiated; it must serve every
 * pair. The device offers what the daemon serves (vnet_vu_features).
 */
static int vu_open(struct vnet *vn)
{
	struct vhost_user_dev *d = &vn->vud;
	char owner[80];
	int ret;

	snprintf(owner, sizeof(owner), "-netdev vhost-user,id=%s", vn->netdev_id);
	ret = vhost_user_dev_open(d, vn->pf, vn->vu->chardev, owner, 0);
	if (ret)
		return ret;
	if (vn->vu->queues > d->vu.queues) {
		err_msg("%s: queues=%u but the vhost-user back end serves %u queue pair%s",
			owner, vn->vu->queues, d->vu.queues, d->vu.queues == 1 ? "" : "s");
		return -EINVAL;
	}
	vn->features = vnet_vu_features(d->vu.features, vn->npairs);
	d->nrings = 2 * vn->npairs;
	d->ack_mask = d->vu.features & (VNET_VU_DATA_FEATURES | VHOST_USER_RING_FEATURES |
					BIT(VIRTIO_NET_F_MQ));
	return 0;
}

static int vnet_realize(struct device *dev, struct platform *pf, const char *owner)
{
	struct vnet *vn = dev->state;
	char name[48];
	int ret;

	vn->pf = pf;
	vn->vud.vu.fd = -1;
	ret = check_props(vn, owner);
	if (!ret)
		ret = netdev_claim(vn->nd, owner);
	if (ret)
		return ret;
	vn->claimed = true;
	setup_features(vn);
	vnet_ctrl_reset(&vn->ctrl, vn->cfg.mac, 0);
	ret = setup_limits(vn);
	if (!ret)
		ret = alloc_pairs(vn, owner);
	if (!ret && vn->vu)
		ret = vu_open(vn);
	snprintf(name, sizeof(name), "virtio-net %s", dev->id ? dev->id : vn->netdev_id);
	if (!ret)
		ret = virtio_dev_init(&vn->vdev, &vnet_ops, pf, 2 * vn->npairs + 1,
				      vn->queue_size, name);
	/* What the kernel cannot serve is not offered: no packed ring, for one. */
	if (!ret && vn->vhost) {
		vn->vdev.host_features = vhost_features(&vn->pairs[0].vh, vn->vdev.host_features);
		if (!(vn->pairs[0].vh.features & BIT(VIRTIO_NET_F_MRG_RXBUF)))
			vn->vdev.host_features &= ~BIT(VIRTIO_NET_F_MRG_RXBUF);
	}
	if (!ret && vn->vu) {
		vn->vdev.host_features &= VHOST_USER_RING_FEATURES & vn->vud.vu.features;
		vn->vdev.host_features |= BIT(VIRTIO_F_VERSION_1) | vn->features;
		vhost_user_dev_watch(&vn->vud);
	}
	if (ret)
		vnet_unrealize(dev, pf);
	return ret;
}

static const struct prop vnet_props[] = {
	{ "netdev", PROP_STR, offsetof(struct vnet, netdev_id), NULL,
	  "id of the -netdev to use", .required = 1 },
	{ "mac", PROP_STR, offsetof(struct vnet, mac_str), NULL,
	  "MAC address aa:bb:cc:dd:ee:ff (default 52:54:00:12:34:NN)" },
	{ "mq", PROP_BOOL, offsetof(struct vnet, mq), "off",
	  "one queue pair per netdev queue (multi-queue)" },
	{ "queue-size", PROP_U32, offsetof(struct vnet, queue_size), "256",
	  "entries per queue (power of 2)", .min = 2, .max = 1024 },
	{ NULL }
};

/* ---- snapshot ---- */

/* A tap only: vhost's and a daemon's rings are not ember's to save. */
static bool vnet_can_snapshot(struct device *dev)
{
	struct vnet *vn = dev->state;

	return !vn->vhost && !vn->vu && !vn->user;
}

/*
 * Before a snapshot (and after a machine reset's drain, where nothing is
 * left): every frame written to the tap is done and its chain used, so
 * the state holds no transmit in flight. The guest's receive buffers the
 * device holds go back to the ring instead (vnet_held).
 */
static void vnet_settle(struct device *dev)
{
	struct vnet *vn = dev->state;
	struct io_uring_cqe *cqe;

	if (!vnet_can_snapshot(dev))
		return;
	pthread_mutex_lock(&vn->vdev.lock);
	for (unsigned i = 0; i < vn->npairs; i++) {
		struct vnet_pair *p = &vn->pairs[i];

		if (!p->ring_ok)
			continue;
		reap(p, false);
		submit(p);
		while (p->tx_inflight) {
			int ret = io_uring_wait_cqe(&p->u.ring, &cqe);

			if (ret < 0 && ret != -EINTR)
				break;
			reap(p, false);
		}
		notify(p);
	}
	pthread_mutex_unlock(&vn->vdev.lock);
}

static struct virtq_held vnet_held(struct device *dev, unsigned q)
{
	struct vnet *vn = dev->state;
	struct virtq_held h = { 0 };
	struct vnet_pair *p;

	if (q % 2 || q / 2 >= vn->npairs)
		return h;
	p = &vn->pairs[q / 2];
	for (unsigned i = 0; i < p->count; i++) {
		h.chains++;
		h.descs += held(p, i)->ndescs;
	}
	return h;
}

/* The MAC filters, offloads and queue pairs the driver set, to the tap again. */
static void vnet_post_load(struct device *dev)
{
	struct vnet *vn = dev->state;

	pthread_mutex_lock(&vn->vdev.lock);
	netdev_set_offload(vn->nd, tun_offloads(vn->ctrl.offloads));
	apply_pairs(vn);
	for (unsigned i = 0; i < vn->npairs; i++)
		pump(&vn->pairs[i]);
	pthread_mutex_unlock(&vn->vdev.lock);
}

static const struct virtio_dev_type vnet_type = {
	.snapshot = true,
	.can_snapshot = vnet_can_snapshot,
	.quiesce = vnet_settle,
	.held = vnet_held,
	/* the config space and the control queue's state, next to each other */
	.snap_off = offsetof(struct vnet, cfg),
	.snap_size = offsetof(struct vnet, ctrl) + sizeof(struct vnet_ctrl_state) -
		     offsetof(struct vnet, cfg),
	.post_load = vnet_post_load,
	.stem = "virtio-net",
	.desc = "virtio network device",
	VIRTIO_STATE(struct vnet),
	.props = vnet_props,
	.realize = vnet_realize,
	.stop = vnet_stop,
	.unrealize = vnet_unrealize,
	.hotplug = true,
};
VIRTIO_DEV_TYPE(vnet_type)
