/*
 * What every vhost-user device (blk, fs) does the same way on top of the
 * protocol (backends/vhost_user.h): guest RAM checked shareable, the
 * daemon's -chardev socket taken over and negotiated, the socket watched
 * for a hang-up, and at DRIVER_OK the memory table and each ring handed
 * over (the kick is the queue's KVM ioeventfd, the call virtio_call_fd),
 * at reset each ring taken back (ENABLE 0, GET_VRING_BASE).
 *
 * Threads: open, watch and close at set-up and teardown (main thread);
 * start and stop from the device's activate and reset (a vCPU thread,
 * under vdev->lock); the hang-up on the loop.
 */
#ifndef EMBER_VHOST_USER_DEV_H
#define EMBER_VHOST_USER_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/vhost_user.h"
#include "lib/util.h"
#include "virtio/virtio.h"

struct platform;

/*
 * Ring features a daemon serves itself and ember may offer when it does
 * (libvhost-user, so qemu-storage-daemon and virtiofsd, has no packed rings).
 */
#define VHOST_USER_RING_FEATURES	(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_INDIRECT_DESC) | \
					 BIT(VIRTIO_F_EVENT_IDX))

/* A device embeds this in place of its struct virtio_dev. */
struct vhost_user_dev {
	struct virtio_dev vdev;
	struct vhost_user vu;
	struct platform *pf;
	unsigned started;		/* rings handed to the daemon */
	bool watched;			/* the socket is on the loop for a hang-up */
	/*
	 * Set by the device after open, both optional (0: all): the daemon
	 * serves rings 0..nrings-1 only (virtio-net keeps its control queue),
	 * and SET_FEATURES passes on only the guest's features in ack_mask
	 * (a daemon refuses bits it does not serve, like the control queue's).
	 */
	unsigned nrings;
	uint64_t ack_mask;
	/*
	 * Set by the device before open (vhost-user-blk): with reconnect= on
	 * its chardev, a back end that leaves is waited for and set up again
	 * when it returns, and its in-flight area (INFLIGHT_SHMFD, when
	 * offered) is kept here so that it submits again what it had not
	 * finished. While it is gone the guest's requests wait in the rings.
	 */
	bool can_reconnect;
	struct chardev *chr;
	uint64_t need;			/* protocol features asked for at open */
	char owner[64];
	int timer_fd;			/* the next attempt while gone; -1 */
	bool gone;
	unsigned reconnects;
	int inflight_fd;		/* -1: none yet (or dropped at a reset) */
	struct vhost_user_inflight inflight;
};

/*
 * Checks that guest RAM is shared memory with an fd, takes over -chardev
 * @chardev (a connected socket) and negotiates (@need: protocol features
 * the device cannot do without). One message naming @owner on failure.
 */
int vhost_user_dev_open(struct vhost_user_dev *d, struct platform *pf, const char *chardev,
			const char *owner, uint64_t need);
/* Once d->vdev is initialised: a hang-up of the daemon sets its NEEDS_RESET. */
void vhost_user_dev_watch(struct vhost_user_dev *d);
void vhost_user_dev_close(struct vhost_user_dev *d);
/* A device connects again when its back end leaves: the sandbox must allow it. */
bool vhost_user_dev_any_reconnect(void);

/* The device's virtio_dev_ops, the same for every vhost-user device: */
/* DRIVER_OK: SET_FEATURES (the guest's), SET_MEM_TABLE, then every enabled ring. */
int vhost_user_dev_activate(struct virtio_dev *vdev);
/* Reset, before the core resets the rings: each ring back from the daemon. */
void vhost_user_dev_reset(struct virtio_dev *vdev);
/* Kicks reach the daemon through the ioeventfd; one that came here has nowhere to go. */
void vhost_user_dev_queue_notify(struct virtio_dev *vdev, unsigned q);

#endif
