/*
 * vhost-kernel (vhost-net, vhost-vsock): the data plane of a virtio device
 * runs in the kernel on the guest's own rings. ember hands the kernel the
 * memory table (gmem regions), each ring's size, base index and addresses,
 * the queue's kick eventfd (the transport's ioeventfd, no longer watched by
 * the loop) and a call eventfd that raises the queue's interrupt
 * (virtio_call_fd: an MSI-X irqfd on PCI, a loop-served eventfd on MMIO).
 *
 * The kernel's vhost has no packed rings: a device that uses vhost clears
 * VIRTIO_F_RING_PACKED from vdev->host_features (virtio_dev_init offers it)
 * and offers only what vhost_features() allows, which never includes it.
 *
 * Threads: vhost_open and vhost_close at set-up and teardown; vhost_start
 * and vhost_stop from the device's activate and reset ops (a vCPU thread,
 * vdev->lock held). The sandbox allows the vhost ioctls on vCPU threads
 * only: at teardown (main thread) close the fd, do not vhost_stop. A device's reset op must call its back end's detach
 * (VHOST_NET_SET_BACKEND -1, VHOST_VSOCK_SET_RUNNING 0) and vhost_stop
 * before it returns: the core resets the rings right after.
 */
#ifndef EMBER_VHOST_H
#define EMBER_VHOST_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/vhost.h>

#include "kvm/gmem.h"

struct virtio_dev;
struct virtq;

#define VHOST_MAX_VQS	2	/* vhost-net: rx, tx; vhost-vsock: rx, tx (event stays in ember) */

struct vhost {
	int fd;			/* /dev/vhost-net or /dev/vhost-vsock; -1 closed */
	uint64_t features;	/* what the kernel offers (VHOST_GET_FEATURES) */
	unsigned first_q;	/* device queue of vhost vq 0 */
	unsigned nvqs;
	bool started;
	char owner[64];		/* for messages */
	char path[32];
};

/*
 * Opens @path, VHOST_SET_OWNER, VHOST_GET_FEATURES. On failure one message
 * naming @owner and @path ("-netdev tap,id=n0: vhost=on but /dev/vhost-net:
 * No such file or directory"), and a negative errno.
 */
int vhost_open(struct vhost *vh, const char *path, const char *owner);
/*
 * The same on @fd, a vhost device a manager opened (-netdev tap,vhostfd=),
 * which @vh owns from now on, even on failure; @what names it in messages.
 */
int vhost_adopt(struct vhost *vh, int fd, const char *what, const char *owner);
void vhost_close(struct vhost *vh);
/* The device-independent features the kernel can serve, masked into @want. */
uint64_t vhost_features(const struct vhost *vh, uint64_t want);
/*
 * At DRIVER_OK (under vdev->lock): VHOST_SET_FEATURES(@features),
 * VHOST_SET_MEM_TABLE from vdev->mem, then for vhost vq k = 0..@nvqs-1 on
 * device queue @first_q + k: SET_VRING_NUM, SET_VRING_BASE (vq->last_avail),
 * SET_VRING_ADDR, SET_VRING_KICK (vq->kick_fd, taken off the loop),
 * SET_VRING_CALL (virtio_call_fd). The device then attaches its back end
 * (VHOST_NET_SET_BACKEND, VHOST_VSOCK_SET_RUNNING). -errno after a message.
 */
int vhost_start(struct vhost *vh, struct virtio_dev *vdev, uint64_t features,
		unsigned first_q, unsigned nvqs);
/*
 * On reset or unplug: VHOST_GET_VRING_BASE into vq->last_avail (state that
 * a snapshot keeps), kick fds back on the loop, call fds released.
 */
void vhost_stop(struct vhost *vh, struct virtio_dev *vdev);

/* --- the pieces vhost_start hands over, apart for the unit tests --- */

/* VHOST_SET_MEM_TABLE's argument, without an allocation. */
struct vhost_mem_buf {
	struct vhost_memory hdr;
	struct vhost_memory_region r[GMEM_MAX_REGIONS];
};
/* One region per gmem region, host addresses as the kernel wants them. */
int vhost_mem_table(const struct gmem *m, struct vhost_mem_buf *buf);
/*
 * Host addresses of @vq's three areas for vhost vq @index; -EINVAL for a
 * packed ring or an area outside guest RAM (virtq_start checked already).
 */
int vhost_ring_addr(const struct virtq *vq, const struct gmem *m, unsigned index,
		    struct vhost_vring_addr *a);

#endif
