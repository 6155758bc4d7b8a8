/*
 * virtio-balloon (virtio 1.2 section 5.5): "virtio-balloon-device"
 * (virtio-mmio) and "virtio-balloon-pci".
 *
 * The host sets a target (num_pages, from the API); the guest inflates
 * pages into the balloon and ember gives their memory back to the host:
 * dropped from anonymous RAM (MADV_DONTNEED) or punched out of a memfd
 * (fallocate), which also unmaps them from ember and from KVM; a later
 * guest access faults in a zeroed page. Free page reporting gives back blocks the guest has free
 * the same way. Queues are served on the loop thread under vdev->lock;
 * requests use preallocated scratch space.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/timerfd.h>

#include "backends/memory.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/util.h"
#include "virtio/balloon.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

#define Q_INFLATE	0
#define Q_DEFLATE	1

struct vballoon {
	/* Properties. */
	bool deflate_on_oom, free_page_reporting;
	uint32_t stats_interval;	/* seconds, 0: no polling */
	struct virtio_link link;	/* bus=, addr=; on which transport */

	/* Guest-visible state. */
	struct virtio_dev vdev;
	struct virtio_balloon_config cfg;
	uint64_t features;
	int stats_q, report_q;		/* queue index, -1: not negotiated */
	bool stats_held;		/* stats_elem waits for the next poll */
	struct virtq_elem stats_elem;
	struct balloon_stats stats;
	int64_t stats_time;

	struct platform *pf;
	struct device *dev;
	uint64_t ram_size;
	uint64_t page_size;		/* of guest RAM's mapping */
	struct balloon_hp hp;		/* huge pages: which 4 KiB pages are inflated */
	int timer_fd;

	/* Scratch for one request: nothing is allocated on the data path. */
	struct virtq_elem elem;
	uint32_t pfns[BALLOON_MAX_PFNS];
	struct balloon_run runs[BALLOON_MAX_PFNS];
};

static const struct virtio_dev_type vb_type;

static struct vballoon *to_vb(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vballoon, vdev);
}

/* ---- giving memory back ---- */

static const struct gmem_region *region_of_gpa(const struct gmem *m, uint64_t gpa,
					       uint64_t len)
{
	if (!gmem_ptr(m, gpa, len))
		return NULL;
	for (unsigned i = 0; i < m->nr; i++)
		if (gpa >= m->r[i].gpa && gpa - m->r[i].gpa < m->r[i].size)
			return &m->r[i];
	return NULL;
}

/* [gpa, gpa+len) lies in RAM (checked by the caller through gmem). */
static void discard(struct vballoon *vb, uint64_t gpa, uint64_t len)
{
	const struct gmem_region *r = region_of_gpa(vb->vdev.mem, gpa, len);
	const struct mem_backend *b;
	uint64_t off;

	if (!r || !len)
		return;
	if (gmem_discard_disabled()) {
		/* As QEMU: the guest's balloon still counts, the host keeps the pages. */
		warn_once("%s: guest memory is pinned for device DMA (vfio-pci); pages the "
			  "guest gives back stay with it", vb->vdev.name);
		return;
	}
	b = mem_backend_by_hva(r->hva);
	off = gpa - r->gpa;
	if (r->fd >= 0 && fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				    (off_t)(r->fd_offset + off), (off_t)len))
		warn_once("%s: cannot give guest memory back to the host: %s",
			  vb->vdev.name, strerror(errno));
	/*
	 * Anonymous RAM (no fd; shared RAM is always a memfd) and share=off:
	 * the pages the guest wrote are private copies, ember's own.
	 */
	if (r->fd < 0 || (b && !b->share))
		madvise(r->hva + off, len, MADV_DONTNEED);
}

/* Only whole huge pages can be given back: the part of the run they cover. */
static void discard_aligned(struct vballoon *vb, uint64_t gpa, uint64_t len)
{
	uint64_t start = ALIGN_UP(gpa, vb->page_size), end = ALIGN_DOWN(gpa + len, vb->page_size);

	if (end > start)
		discard(vb, start, end - start);
}

static void inflate_runs(struct vballoon *vb, unsigned nr, bool in)
{
	for (unsigned i = 0; i < nr; i++) {
		const struct balloon_run *r = &vb->runs[i];

		if (!vb->hp.bits) {
			if (in)
				discard(vb, r->gpa, r->len);
			continue;
		}
		for (uint64_t a = r->gpa; a < r->gpa + r->len; a += BALLOON_PAGE)
			if (balloon_hp_mark(&vb->hp, a, in))
				discard(vb, ALIGN_DOWN(a, vb->page_size), vb->page_size);
	}
}

static void handle_pfns(struct vballoon *vb, const struct virtq_elem *e, bool in)
{
	unsigned n = balloon_read_pfns(e, vb->pfns, BALLOON_MAX_PFNS), bad, nr;

	nr = balloon_runs(vb->vdev.mem, vb->pfns, n, vb->runs, &bad);
	if (bad)
		warn_once("%s: the guest %s %u page(s) outside its RAM (first PFN list "
			  "with such pages); they are ignored", vb->vdev.name,
			  in ? "inflated" : "deflated", bad);
	inflate_runs(vb, nr, in);
}

/* Reported free blocks come as device-writable buffers in guest RAM. */
static void handle_report(struct vballoon *vb, const struct virtq_elem *e)
{
	const struct gmem *m = vb->vdev.mem;

	for (unsigned i = 0; i < e->out_num + e->in_num && i < VIRTQ_MAX_IOV; i++) {
		const uint8_t *p = e->iov[i].iov_base;
		uint64_t len = e->iov[i].iov_len;

		for (unsigned k = 0; k < m->nr; k++) {
			const struct gmem_region *r = &m->r[k];

			if (p >= r->hva && (uint64_t)(p - r->hva) < r->size &&
			    len <= r->size - (uint64_t)(p - r->hva)) {
				uint64_t gpa = r->gpa + (uint64_t)(p - r->hva);
				uint64_t start = ALIGN_UP(gpa, BALLOON_PAGE);
				uint64_t end = ALIGN_DOWN(gpa + len, BALLOON_PAGE);

				if (end > start)
					discard_aligned(vb, start, end - start);
				break;
			}
		}
	}
}

/* Returns whether a buffer went back to the driver. */
static bool handle_stats(struct vballoon *vb, struct virtq *vq, struct virtq_elem *e)
{
	bool pushed = vb->stats_held;
	struct timespec ts;

	/* A second buffer while we hold one: the older goes back unused. */
	if (pushed)
		virtq_push(vq, &vb->stats_elem, 0);
	memset(&vb->stats, 0, sizeof(vb->stats));
	balloon_parse_stats(e, &vb->stats);
	ts = clock_now(vb->pf->clock, CLOCK_REALTIME);
	vb->stats_time = ts.tv_sec;
	vb->stats_elem = *e;
	vb->stats_held = true;
	return pushed;
}

/* 1: a chain was handled; 0: empty; -1: broken. */
static int pop_one(struct vballoon *vb, struct virtq *vq, unsigned qi, bool *pushed)
{
	struct virtq_elem *e = &vb->elem;
	int ret = virtq_pop(vq, e);

	if (ret < 0) {
		virtio_needs_reset(&vb->vdev, vq->why);
		return -1;
	}
	if (!ret)
		return 0;
	if ((int)qi == vb->stats_q) {
		*pushed |= handle_stats(vb, vq, e);
		return 1;
	}
	if (qi == Q_INFLATE || qi == Q_DEFLATE)
		handle_pfns(vb, e, qi == Q_INFLATE);
	else
		handle_report(vb, e);
	virtq_push(vq, e, 0);
	*pushed = true;
	return 1;
}

static void vb_queue_notify(struct virtio_dev *vdev, unsigned qi)
{
	struct vballoon *vb = to_vb(vdev);
	struct virtq *vq = &vdev->vqs[qi];
	bool pushed = false;
	int ret;

	if (qi != Q_INFLATE && qi != Q_DEFLATE && (int)qi != vb->stats_q &&
	    (int)qi != vb->report_q)
		return;
	for (;;) {
		virtq_set_notification(vq, false);
		while ((ret = pop_one(vb, vq, qi, &pushed)) > 0)
			;
		if (ret < 0)
			break;
		virtq_set_notification(vq, true);
		/* A chain the driver added before it saw the flag gets no kick. */
		if (pop_one(vb, vq, qi, &pushed) <= 0)
			break;
	}
	if (pushed)
		virtio_notify(vdev, qi);
}

/* The polling interval: the held stats buffer goes back for new numbers. */
static void on_stats_timer(void *opaque, uint32_t events)
{
	struct vballoon *vb = opaque;
	uint8_t st;
	uint64_t n;

	if (read(vb->timer_fd, &n, sizeof(n)) != sizeof(n))
		return;
	pthread_mutex_lock(&vb->vdev.lock);
	st = __atomic_load_n(&vb->vdev.status, __ATOMIC_ACQUIRE);
	if (vb->stats_held && vb->stats_q >= 0 &&
	    (st & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	    VIRTIO_STATUS_DRIVER_OK) {
		vb->stats_held = false;
		virtq_push(&vb->vdev.vqs[vb->stats_q], &vb->stats_elem, 0);
		virtio_notify(&vb->vdev, vb->stats_q);
	}
	pthread_mutex_unlock(&vb->vdev.lock);
}

static int arm_timer(struct vballoon *vb)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = vb->stats_interval },
		.it_interval = { .tv_sec = vb->stats_interval },
	};

	if (vb->timer_fd < 0)
		return 0;
	return timerfd_settime(vb->timer_fd, 0, &its, NULL) ? -errno : 0;
}

/* ---- virtio_dev_ops (under vdev->lock) ---- */

static uint64_t vb_get_features(struct virtio_dev *vdev)
{
	return to_vb(vdev)->features;
}

static void vb_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
	memcpy(data, (uint8_t *)&to_vb(vdev)->cfg + off, len);
}

/* The driver writes only 'actual', the pages it holds in the balloon. */
static void vb_write_config(struct virtio_dev *vdev, uint32_t off, const void *data,
			    unsigned len)
{
	struct vballoon *vb = to_vb(vdev);

	if (off == offsetof(struct virtio_balloon_config, actual) && len == 4 &&
	    memcmp(&vb->cfg.actual, data, 4)) {
		memcpy(&vb->cfg.actual, data, 4);
		/* QMP's BALLOON_CHANGE */
		platform_event(vb->pf, PF_EVENT_BALLOON_CHANGE);
	}
}

static int vb_activate(struct virtio_dev *vdev)
{
	struct vballoon *vb = to_vb(vdev);
	bool stats = vdev->guest_features & BIT(VIRTIO_BALLOON_F_STATS_VQ);

	/* Queues of features the driver did not take are left out (5.5.2). */
	vb->stats_q = stats ? 2 : -1;
	vb->report_q = vdev->guest_features & BIT(VIRTIO_BALLOON_F_REPORTING) ? 2 + stats : -1;
	/* Linux primes the stats queue and kicks it before DRIVER_OK. */
	if (stats)
		vb_queue_notify(vdev, vb->stats_q);
	return 0;
}

static void vb_reset(struct virtio_dev *vdev)
{
	struct vballoon *vb = to_vb(vdev);

	/* The driver starts over with an empty balloon; the target stays. */
	vb->cfg.actual = 0;
	vb->stats_held = false;
	vb->stats_q = vb->report_q = -1;
	balloon_hp_clear(&vb->hp);
}

static const struct virtio_dev_ops vb_ops = {
	.device_id = VIRTIO_ID_BALLOON,
	.get_features = vb_get_features,
	.config_size = sizeof(struct virtio_balloon_config),
	.read_config = vb_read_config,
	.write_config = vb_write_config,
	.activate = vb_activate,
	.reset = vb_reset,
	.queue_notify = vb_queue_notify,
};

/* ---- the API (loop thread) ---- */

/*
 * QEMU's rule: one balloon per machine, so the API knows which one; it is
 * found among the machine's devices (realized and on its transport).
 */
static struct vballoon *find_balloon(struct platform *pf)
{
	for (struct device *d = pf->devices; d; d = d->next)
		if (virtio_dev_is(d, &vb_type))
			return d->state;
	return NULL;
}

int balloon_set_target(struct platform *pf, uint64_t bytes)
{
	struct vballoon *vb = find_balloon(pf);

	if (!vb)
		return -ENODEV;
	bytes = ALIGN_DOWN(bytes, BALLOON_PAGE);
	if (!bytes || bytes > vb->ram_size)
		return -ERANGE;
	pthread_mutex_lock(&vb->vdev.lock);
	vb->cfg.num_pages = htole32((uint32_t)((vb->ram_size - bytes) / BALLOON_PAGE));
	pthread_mutex_unlock(&vb->vdev.lock);
	virtio_config_changed(&vb->vdev);
	return 0;
}

int balloon_get_actual(struct platform *pf, uint64_t *bytes)
{
	struct vballoon *vb = find_balloon(pf);
	uint64_t held;

	if (!vb)
		return -ENODEV;
	pthread_mutex_lock(&vb->vdev.lock);
	held = (uint64_t)le32toh(vb->cfg.actual) * BALLOON_PAGE;
	pthread_mutex_unlock(&vb->vdev.lock);
	*bytes = held < vb->ram_size ? vb->ram_size - held : 0;
	return 0;
}

uint64_t balloon_ram_size(struct platform *pf)
{
	struct vballoon *vb = find_balloon(pf);

	return vb ? vb->ram_size : 0;
}

int balloon_get_stats(struct platform *pf, struct balloon_stats *st, int64_t *when,
		      uint32_t *interval)
{
	struct vballoon *vb = find_balloon(pf);

	if (!vb)
		return -ENODEV;
	pthread_mutex_lock(&vb->vdev.lock);
	*st = vb->stats;
	*when = vb->stats_time;
	*interval = vb->stats_interval;
	pthread_mutex_unlock(&vb->vdev.lock);
	return 0;
}

int balloon_set_stats_interval(struct platform *pf, uint32_t seconds)
{
	struct vballoon *vb = find_balloon(pf);
	int ret;

	if (!vb)
		return -ENODEV;
	pthread_mutex_lock(&vb->vdev.lock);
	vb->stats_interval = seconds;
	ret = arm_timer(vb);
	pthread_mutex_unlock(&vb->vdev.lock);
	return ret;
}

bool balloon_is(const struct device *d)
{
	return virtio_dev_is(d, &vb_type);
}

const char *balloon_id(struct platform *pf)
{
	struct vballoon *vb = find_balloon(pf);

	return vb ? vb->dev->id : NULL;
}

/* ---- creation ---- */

/* Guest RAM's page size and mapping, from the back end behind gmem. */
static int inspect_ram(struct vballoon *vb, const char *owner)
{
	const struct gmem *m = vb->pf->mem;
	struct mem_backend *b = m && m->nr ? mem_backend_by_hva(m->r[0].hva) : NULL;
	int ret;

	vb->ram_size = 0;
	for (unsigned i = 0; m && i < m->nr; i++)
		vb->ram_size += m->r[i].size;
	vb->page_size = b && b->page_size ? b->page_size : BALLOON_PAGE;
	if (vb->page_size == BALLOON_PAGE)
		return 0;
	ret = balloon_hp_init(&vb->hp, vb->page_size, gmem_end(m));
	if (ret)
		err_msg("%s: cannot track huge pages of %llu KiB: %s", owner,
			(unsigned long long)(vb->page_size >> 10), strerror(-ret));
	else
		debug_msg("%s: guest RAM is on %llu KiB pages: memory goes back to the host "
			  "only a whole huge page at a time", owner,
			 (unsigned long long)(vb->page_size >> 10));
	return ret;
}

static void vb_unrealize(struct device *dev, struct platform *pf)
{
	struct vballoon *vb = dev->state;

	if (vb->timer_fd >= 0) {
		loop_del(pf->loop, vb->timer_fd);
		close(vb->timer_fd);
		vb->timer_fd = -1;
	}
	balloon_hp_free(&vb->hp);
}

static int open_timer(struct vballoon *vb, const char *owner)
{
	int ret;

	vb->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (vb->timer_fd < 0) {
		ret = -errno;
		err_msg("%s: timerfd: %s", owner, strerror(-ret));
		return ret;
	}
	ret = loop_add(vb->pf->loop, vb->timer_fd, EPOLLIN, on_stats_timer, vb);
	if (ret) {
		err_msg("%s: cannot watch the statistics timer: %s", owner, strerror(-ret));
		close(vb->timer_fd);
		vb->timer_fd = -1;
		return ret;
	}
	ret = arm_timer(vb);
	if (ret)
		err_msg("%s: cannot arm the statistics timer: %s", owner, strerror(-ret));
	return ret;
}

static int vb_realize(struct device *dev, struct platform *pf, const char *owner)
{
	struct vballoon *vb = dev->state;
	char name[48];
	int ret;

	vb->pf = pf;
	vb->dev = dev;
	vb->timer_fd = -1;
	vb->stats_q = vb->report_q = -1;
	/* Not in the device list before it is realized: any there is another. */
	if (find_balloon(pf)) {
		err_msg("%s: only one balloon device is supported", owner);
		return -EEXIST;
	}
	vb->features = BIT(VIRTIO_BALLOON_F_STATS_VQ) |
		       (vb->deflate_on_oom ? BIT(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) : 0) |
		       (vb->free_page_reporting ? BIT(VIRTIO_BALLOON_F_REPORTING) : 0);
	snprintf(name, sizeof(name), "virtio-balloon%s%s", dev->id ? " " : "",
		 dev->id ? dev->id : "");
	ret = inspect_ram(vb, owner);
	if (!ret)
		ret = virtio_dev_init(&vb->vdev, &vb_ops, pf, 3 + vb->free_page_reporting, 128,
				      name);
	if (!ret)
		ret = open_timer(vb, owner);
	if (ret)
		vb_unrealize(dev, pf);
	return ret;
}

static const struct prop vb_props[] = {
	{ "deflate-on-oom", PROP_BOOL, offsetof(struct vballoon, deflate_on_oom), "off",
	  "the guest may take pages back from the balloon when it runs out of memory" },
	{ "free-page-reporting", PROP_BOOL,
	  offsetof(struct vballoon, free_page_reporting), "off",
	  "the guest reports free memory, which goes back to the host" },
	{ "guest-stats-polling-interval", PROP_U32,
	  offsetof(struct vballoon, stats_interval), "0",
	  "seconds between statistics updates (0: off)", .max = 86400 },
	{ NULL }
};

static const struct virtio_dev_type vb_type = {
	.stem = "virtio-balloon",
	.desc = "virtio memory balloon",
	VIRTIO_STATE(struct vballoon),
	.props = vb_props,
	.realize = vb_realize,
	.unrealize = vb_unrealize,
};
VIRTIO_DEV_TYPE(vb_type)
