/*
 * The virtio device model (virtio 1.2), independent of the transport.
 * A device is a struct embedding `struct virtio_dev` plus an ops table
 * (kvmtool's shape); the transport (virtio-mmio or virtio-pci) is chosen
 * when the device is created and the device never knows which.
 *
 * Threads: the transport's register handlers run on vCPU threads; queue
 * notifications and back-end completions run on the event loop, including
 * a doorbell that reached a register instead of KVM's ioeventfd
 * (virtio_queue_doorbell passes it on). vdev->lock serialises
 * status/feature/queue-setup changes against the loop; the data path
 * takes only the per-queue state it owns.
 */
#ifndef EMBER_VIRTIO_H
#define EMBER_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtq.h"

struct platform;
struct gmem;

/* Device-independent feature bits. */
#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VIRTIO_F_VERSION_1	32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED	34

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE	1
#define VIRTIO_STATUS_DRIVER		2
#define VIRTIO_STATUS_DRIVER_OK		4
#define VIRTIO_STATUS_FEATURES_OK	8
#define VIRTIO_STATUS_NEEDS_RESET	64
#define VIRTIO_STATUS_FAILED		128

/* ISR bits (virtio-pci ISR capability, virtio-mmio InterruptStatus). */
#define VIRTIO_ISR_QUEUE	1
#define VIRTIO_ISR_CONFIG	2

#define VIRTIO_ID_NET		1
#define VIRTIO_ID_BLOCK		2
#define VIRTIO_ID_CONSOLE	3
#define VIRTIO_ID_RNG		4
#define VIRTIO_ID_BALLOON	5
#define VIRTIO_ID_VSOCK		19

#define VIRTIO_MAX_QUEUES	64
#define VIRTIO_NO_VECTOR	0xffff

struct virtio_dev;

struct virtio_dev_ops {
	uint32_t device_id;
	/* Device-specific features; the core adds VERSION_1, ring features. */
	uint64_t (*get_features)(struct virtio_dev *vdev);
	/* Size of the device-specific config structure. */
	uint32_t config_size;
	/* Offsets and lengths are checked against config_size by the core. */
	void (*read_config)(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len);
	void (*write_config)(struct virtio_dev *vdev, uint32_t off, const void *data, unsigned len);
	/* DRIVER_OK: queues are set up; start serving. <0 sets NEEDS_RESET. */
	int (*activate)(struct virtio_dev *vdev);
	/* Driver wrote status 0 (or ember resets): stop I/O, forget in-flight. */
	void (*reset)(struct virtio_dev *vdev);
	/* Queue @q was kicked; on the event-loop thread, with vdev->lock held. */
	void (*queue_notify)(struct virtio_dev *vdev, unsigned q);
};

struct virtio_transport_ops {
	/* Raise the used-buffer interrupt of queue @q (MSI-X vector, or ISR + line). */
	void (*notify_queue)(struct virtio_dev *vdev, unsigned q);
	/* Raise the configuration-change interrupt. */
	void (*notify_config)(struct virtio_dev *vdev);
	/* virtio_call_fd's answer if the transport has a better one (MSI-X). */
	int (*call_fd)(struct virtio_dev *vdev, unsigned q);
	/*
	 * Machine reset (loop thread, vCPUs parked; takes vdev->lock): the
	 * device's reset as a status write of 0 does it, the line low, the
	 * transport's selectors 0. PCI config space is pci_host_reset's.
	 */
	void (*reset)(struct virtio_dev *vdev);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const struct virtio_transport_ops *tops;
	void *transport;		/* the transport's own state */
	struct platform *pf;
	struct gmem *mem;
	char name[48];			/* for messages: "virtio-blk disk0" */
	pthread_mutex_t lock;
	bool reset_logged;		/* virtio_needs_reset has told the user */
	int call_fd;			/* loop-served interrupt eventfd; -1 none */
	uint64_t kernel_kicks;		/* bit q: queue q's kick fd is the kernel's */

	/* Guest-visible state (saved and restored as one block later). */
	uint64_t host_features;		/* offered */
	uint64_t guest_features;	/* accepted by the driver */
	uint8_t status;
	uint8_t isr;
	uint32_t config_generation;
	uint16_t config_vector;		/* MSI-X vector for config changes */
	unsigned num_queues;
	uint16_t max_queue_size;
	struct virtq vqs[VIRTIO_MAX_QUEUES];
};

int virtio_dev_init(struct virtio_dev *vdev, const struct virtio_dev_ops *ops,
		    struct platform *pf, unsigned num_queues, uint16_t max_queue_size,
		    const char *name);

/* --- for transports --- */
uint32_t virtio_get_device_features(struct virtio_dev *vdev, unsigned word);
void virtio_set_driver_features(struct virtio_dev *vdev, unsigned word, uint32_t val);
/*
 * Status writes: 0 resets the device; FEATURES_OK is kept only if the
 * accepted features are a subset of the offered ones and include
 * VERSION_1; DRIVER_OK sets up the queues (virtq_start) and calls activate.
 */
void virtio_set_status(struct virtio_dev *vdev, uint8_t status);
/* Config space access, bounds-checked. */
void virtio_read_config(struct virtio_dev *vdev, uint32_t off, void *data, unsigned len);
void virtio_write_config(struct virtio_dev *vdev, uint32_t off, const void *data, unsigned len);
/* The driver kicked queue @q (under vdev->lock): to queue_notify if the device runs. */
void virtio_queue_kick(struct virtio_dev *vdev, unsigned q);
/*
 * The driver wrote queue @q's doorbell register, on a vCPU thread (under
 * vdev->lock): the kick goes to the loop through the queue's kick fd (or
 * to the kernel, if vhost holds it). Only without a kick fd (no event
 * loop: unit tests) does it run here, as virtio_queue_kick.
 */
void virtio_queue_doorbell(struct virtio_dev *vdev, unsigned q);
/*
 * Queue @q's kick eventfd, vq->kick_fd, watched on pf->loop, which passes
 * kicks on as virtio_queue_kick does (taking vdev->lock). The transport
 * binds it to its notify address with pf->ioeventfd.
 */
int virtio_kick_fd_open(struct virtio_dev *vdev, unsigned q);
void virtio_kick_fd_close(struct virtio_dev *vdev, unsigned q);
/*
 * The device's loop-served interrupt eventfd (vdev->call_fd): a write
 * raises the used-buffer interrupt through tops->notify_queue. Transports
 * open it at attach (with a loop) and close it at detach.
 */
int virtio_call_fd_open(struct virtio_dev *vdev);
void virtio_call_fd_close(struct virtio_dev *vdev);

/* --- for devices --- */
/*
 * An eventfd whose writes raise queue @q's used-buffer interrupt, for a
 * data plane outside ember (vhost). virtio-pci with MSI-X enabled: the
 * queue's vector's eventfd (a KVM irqfd while unmasked, the loop keeps it
 * pending while masked), or -ENOENT when the queue has no vector (the
 * driver wants no interrupt). Otherwise (MMIO, INTx) vdev->call_fd, which
 * the loop turns into ISR + line: one per device is enough, since every
 * queue sets the same ISR bit on the same line. The fd stays the
 * transport's: the caller neither closes nor keeps it past a reset, and
 * asks again at the next DRIVER_OK (the guest may have moved vectors).
 * -ENODEV without an event loop.
 */
int virtio_call_fd(struct virtio_dev *vdev, unsigned q);
/*
 * Queue @q's kick eventfd goes to the kernel, which polls it: the loop
 * stops watching it (it stays registered, with no events, so this is safe
 * from a vCPU thread while the loop runs), and a doorbell that reaches
 * ember through a register write is passed on to the eventfd. Returns the
 * fd, or -ENODEV when the queue has none (no KVM ioeventfds).
 */
int virtio_kick_fd_to_kernel(struct virtio_dev *vdev, unsigned q);
/* ...and back to the loop. */
void virtio_kick_fd_to_loop(struct virtio_dev *vdev, unsigned q);
/* Sends the used-buffer notification of queue @q if the driver wants it. */
void virtio_notify(struct virtio_dev *vdev, unsigned q);
/* The device config changed (capacity, link): bump generation, interrupt. */
void virtio_config_changed(struct virtio_dev *vdev);
/*
 * The driver broke the protocol (bad descriptor chain, impossible index):
 * set DEVICE_NEEDS_RESET, raise the config interrupt, log @why once per
 * device, and stop serving until the driver resets the device.
 */
void virtio_needs_reset(struct virtio_dev *vdev, const char *why);

/*
 * Snapshot (virtio/snap.c): the transport-independent state into the open
 * section of @w (under vdev->lock, nothing in flight; @held, if not NULL,
 * per queue the chains the device popped last and holds, which the saved
 * ring state gives back to the driver's ring); and back, after
 * realize and with guest RAM in place: the queues start as at DRIVER_OK
 * and get their ring indexes back. -EINVAL and one message when the
 * section is not this device's.
 */
struct snapw;
struct virtq_held {
	unsigned chains, descs;		/* popped and held; descriptors they span */
};
void virtio_save(struct virtio_dev *vdev, struct snapw *w, const struct virtq_held *held);
int virtio_load(struct virtio_dev *vdev, const void *data, size_t len);
/* What virtio_save puts, and virtio_load wants. */
size_t virtio_snap_size(void);

#endif
