/*
 * virtio-rng (virtio 1.2 section 5.4): "virtio-rng-device" (virtio-mmio)
 * and "virtio-rng-pci". One request queue; each chain's writable buffers
 * are filled from the entropy source (backends/rng.h). QEMU's max-bytes=
 * per period= (ms) limit becomes a lib/ratelimit bucket of max-bytes
 * refilled at max-bytes/period.
 *
 * Everything runs on the loop thread under vdev->lock: kicks, the rate
 * limiter's resume and the retry timer for a source with nothing ready.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/timerfd.h>

#include "backends/rng.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/ratelimit.h"
#include "lib/util.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"

#define VRNG_QUEUE_SIZE	64
/* Bytes per buffer at most: a guest's gigabyte buffer must not hold the loop. */
#define MAX_FILL	(64 * 1024)
/* A source with nothing ready (EAGAIN) is asked again after this. */
#define RETRY_NS	(50 * 1000 * 1000)

struct vrng {
	/* Properties. */
	char *rng;
	uint64_t max_bytes, period;
	struct virtio_link link;	/* bus=, addr=; on which transport */

	/* Guest-visible state. */
	struct virtio_dev vdev;

	struct rng_backend *be;
	struct ratelimit rl;
	struct loop *loop;
	int retry_fd;			/* timerfd: the source had nothing */
	bool retry_armed;
	bool pending;			/* @elem was popped and waits for bytes */
	struct virtq_elem elem;
};

static struct vrng *to_vrng(struct virtio_dev *vdev)
{
	return container_of(vdev, struct vrng, vdev);
}

static bool live(struct vrng *v)
{
	uint8_t st = __atomic_load_n(&v->vdev.status, __ATOMIC_ACQUIRE);

	return !v->link.dying && v->vdev.vqs[0].enabled &&
	       (st & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET)) ==
	       VIRTIO_STATUS_DRIVER_OK;
}

static void retry_later(struct vrng *v)
{
	struct itimerspec its = { .it_value = { 0, RETRY_NS } };

	if (!v->retry_armed && !timerfd_settime(v->retry_fd, 0, &its, NULL))
		v->retry_armed = true;
}

/*
 * Fills the writable part of @e with up to @max bytes. Returns the count
 * (maybe 0 for a chain with no room), or -EAGAIN when the source had
 * nothing yet.
 */
static ssize_t fill(struct vrng *v, const struct virtq_elem *e, uint64_t max)
{
	uint64_t done = 0;

	for (unsigned i = e->out_num; i < e->out_num + e->in_num && done < max; i++) {
		const struct iovec *iov = &e->iov[i];
		size_t want = MIN(iov->iov_len, max - done), got = 0;

		while (got < want) {
			ssize_t n = rng_read(v->be, (char *)iov->iov_base + got, want - got);

			if (n < 0) {
				if (n != -EAGAIN)
					warn_once("%s: entropy source: %s", v->vdev.name,
						  strerror((int)-n));
				return done + got ? (ssize_t)(done + got) : -EAGAIN;
			}
			got += n;
		}
		done += got;
	}
	return (ssize_t)done;
}

/* Serves chains until the ring is empty, the limit is reached or the source dries. */
static void process(struct vrng *v)
{
	struct virtq *vq = &v->vdev.vqs[0];
	bool pushed = false;
	uint64_t max;
	ssize_t n;
	int ret;

	for (;;) {
		if (!v->pending) {
			ret = virtq_pop(vq, &v->elem);
			if (ret < 0) {
				virtio_needs_reset(&v->vdev, vq->why);
				break;
			}
			if (!ret) {
				/* Kicks back on; a chain that raced the flag is taken now. */
				virtq_set_notification(vq, true);
				ret = virtq_pop(vq, &v->elem);
				if (ret <= 0) {
					if (ret < 0)
						virtio_needs_reset(&v->vdev, vq->why);
					break;
				}
			}
			virtq_set_notification(vq, false);
			v->pending = true;
		}
		/* An empty request costs nothing; the limiter is not asked. */
		if (v->elem.in_len && !ratelimit_ready(&v->rl))
			break;		/* its resume calls us again */
		/*
		 * A whole buffer (up to max-bytes) on any credit, the debt paid
		 * before the next: the guest gets its reads in one piece.
		 */
		max = MIN(v->elem.in_len, MAX_FILL);
		if (v->rl.bytes.rate)
			max = MIN(max, v->rl.bytes.burst);
		n = fill(v, &v->elem, max);
		if (n < 0) {
			retry_later(v);
			break;
		}
		ratelimit_charge(&v->rl, (uint64_t)n);
		virtq_push(vq, &v->elem, (uint32_t)n);
		v->pending = false;
		pushed = true;
	}
	if (pushed)
		virtio_notify(&v->vdev, 0);
}

static void resume(struct vrng *v)
{
	pthread_mutex_lock(&v->vdev.lock);
	if (v->pending && live(v))
		process(v);
	pthread_mutex_unlock(&v->vdev.lock);
}

static void on_limit(void *opaque)
{
	resume(opaque);
}

static void on_retry(void *opaque, uint32_t events)
{
	struct vrng *v = opaque;
	uint64_t n;

	if (read(v->retry_fd, &n, sizeof(n)) < 0)
		return;
	v->retry_armed = false;
	resume(v);
}

/* ---- virtio_dev_ops (under vdev->lock) ---- */

static void vrng_queue_notify(struct virtio_dev *vdev, unsigned qi)
{
	struct vrng *v = to_vrng(vdev);

	if (qi == 0 && live(v))
		process(v);
}

static uint64_t vrng_get_features(struct virtio_dev *vdev)
{
	return 0;
}

static void vrng_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len)
{
}

/* The limiter keeps its state: a reset must not buy the guest a new burst. */
static void vrng_reset(struct virtio_dev *vdev)
{
	to_vrng(vdev)->pending = false;
}

static const struct virtio_dev_ops vrng_ops = {
	.device_id = VIRTIO_ID_RNG,
	.get_features = vrng_get_features,
	.config_size = 0,
	.read_config = vrng_read_config,
	.reset = vrng_reset,
	.queue_notify = vrng_queue_notify,
};

/* ---- creation ---- */

static int setup_limit(struct vrng *v, const char *owner)
{
	struct ratelimit_cfg cfg = { 0 };

	if (v->max_bytes) {
		/* max-bytes per period ms; at least a byte a second. */
		cfg.bps = MAX(v->max_bytes * 1000 / v->period, 1);
		cfg.bps_burst = v->max_bytes;
	}
	return ratelimit_init(&v->rl, &cfg, v->loop, on_limit, v, owner);
}

static void vrng_unrealize(struct device *dev, struct platform *pf)
{
	struct vrng *v = dev->state;

	ratelimit_destroy(&v->rl);
	if (v->retry_fd >= 0) {
		loop_del(v->loop, v->retry_fd);
		close(v->retry_fd);
		v->retry_fd = -1;
	}
	if (v->be)
		rng_backend_release(v->be);
	v->be = NULL;
}

static int vrng_realize(struct device *dev, struct platform *pf, const char *owner)
{
	struct vrng *v = dev->state;
	char name[48];
	int ret;

	v->loop = pf->loop;
	v->retry_fd = -1;
	v->rl.timer_fd = -1;
	if (v->rng) {
		v->be = rng_backend_find(v->rng);
		if (!v->be) {
			err_msg("%s: rng=%s: no -object rng-random with that id", owner, v->rng);
			return -ENOENT;
		}
		ret = rng_backend_claim(v->be, owner);
		if (ret) {
			v->be = NULL;
			return ret;
		}
	}
	ret = setup_limit(v, owner);
	if (ret)
		goto fail;
	v->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (v->retry_fd < 0 || loop_add(v->loop, v->retry_fd, EPOLLIN, on_retry, v)) {
		err_msg("%s: timer: %s", owner, strerror(errno));
		ret = -EIO;
		goto fail;
	}
	snprintf(name, sizeof(name), "virtio-rng %s",
		 dev->id ? dev->id : v->rng ? v->rng : "getrandom");
	ret = virtio_dev_init(&v->vdev, &vrng_ops, pf, 1, VRNG_QUEUE_SIZE, name);
	if (!ret)
		return 0;
fail:
	vrng_unrealize(dev, pf);
	return ret;
}

static const struct prop vrng_props[] = {
	{ "rng", PROP_STR, offsetof(struct vrng, rng), NULL,
	  "id of an -object rng-random (default: getrandom())" },
	{ "max-bytes", PROP_U64, offsetof(struct vrng, max_bytes), "0",
	  "bytes the guest may get per period (0: no limit)",
	  .max = 1000000000000000ULL },
	{ "period", PROP_U64, offsetof(struct vrng, period), "65536",
	  "period of max-bytes, in milliseconds", .min = 1, .max = UINT32_MAX },
	{ NULL }
};

/* A request waiting for entropy goes back to the ring in a snapshot. */
static struct virtq_held vrng_held(struct device *dev, unsigned q)
{
	struct vrng *v = dev->state;

	return v->pending ? (struct virtq_held){ 1, v->elem.ndescs } : (struct virtq_held){ 0 };
}

static const struct virtio_dev_type vrng_type = {
	.snapshot = true,
	.held = vrng_held,
	.stem = "virtio-rng",
	.desc = "virtio entropy source",
	VIRTIO_STATE(struct vrng),
	.props = vrng_props,
	.realize = vrng_realize,
	.unrealize = vrng_unrealize,
};
VIRTIO_DEV_TYPE(vrng_type)
