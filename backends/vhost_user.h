/*
 * The front end of the vhost-user protocol: a virtio device's data plane
 * served by a daemon (qemu-storage-daemon, virtiofsd, SPDK) that ember
 * talks to over a connected Unix stream socket. ember sends guest memory
 * as file descriptors (SET_MEM_TABLE) and each ring's addresses and kick
 * and call eventfds; the daemon then serves the rings itself.
 *
 * The daemon is untrusted: every reply is checked (version, reply flag,
 * request, size, index, no stray fds) and waited for at most timeout_ms.
 * The first failure (a bad reply, a timeout, a closed socket) logs one line
 * naming the owner, marks the connection broken and every later call fails
 * with -EPIPE without touching the socket: a stream out of step cannot be
 * trusted again.
 *
 * Threads: connect at set-up (main thread); the set and get calls from the
 * device's activate and reset (a vCPU thread, under vdev->lock): sendmsg,
 * recvmsg and poll on the socket, nothing that opens a file.
 */
#ifndef EMBER_VHOST_USER_H
#define EMBER_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vhost_user_req {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_GET_INFLIGHT_FD = 31,
	VHOST_USER_SET_INFLIGHT_FD = 32,
};

#define VHOST_USER_VERSION		1u
#define VHOST_USER_VERSION_MASK		3u
#define VHOST_USER_REPLY		(1u << 2)
#define VHOST_USER_NEED_REPLY		(1u << 3)
#define VHOST_USER_VRING_NOFD		(1ull << 8)	/* kick/call/err payload: no fd */
#define VHOST_USER_F_PROTOCOL_FEATURES	30		/* in GET_FEATURES */

/* Protocol features (GET/SET_PROTOCOL_FEATURES). */
#define VHOST_USER_PROTOCOL_F_MQ	0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK	3
#define VHOST_USER_PROTOCOL_F_CONFIG	9
#define VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD	12

#define VHOST_USER_MAX_REGIONS		8
#define VHOST_USER_CONFIG_MAX		256
#define VHOST_USER_HDR_SIZE		12u
#define VHOST_USER_CONFIG_HDR		12u
#define VHOST_USER_TIMEOUT_MS		5000
#define VHOST_USER_INFLIGHT_MAX		(64u << 20)	/* a bigger area is refused */

struct vhost_user_hdr {
	uint32_t request, flags, size;
};

struct vhost_user_region {
	uint64_t gpa, size, uaddr, mmap_offset;
};

/*
 * The in-flight area (INFLIGHT_SHMFD): shared memory the back end keeps
 * its unfinished descriptors in. ember holds its fd, so that a back end
 * that restarts finds them and submits them again.
 */
struct vhost_user_inflight {
	uint64_t mmap_size, mmap_offset;
	uint16_t num_queues, queue_size;
};

/* One message as it goes on the wire (little-endian x86: no swapping). */
struct vhost_user_msg {
	struct vhost_user_hdr hdr;
	union {
		uint64_t u64;
		struct { uint32_t index, num; } state;
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log;
		} addr;
		struct {
			uint32_t nregions, padding;
			struct vhost_user_region r[VHOST_USER_MAX_REGIONS];
		} mem;
		struct {
			uint32_t offset, size, flags;
			uint8_t data[VHOST_USER_CONFIG_MAX];
		} cfg;
		struct vhost_user_inflight inflight;
	} p;
} __attribute__((packed));

struct vhost_user {
	int fd;			/* the connected socket; -1 none */
	uint64_t features;	/* what GET_FEATURES offered */
	uint64_t protocol;	/* negotiated protocol features */
	uint32_t queues;	/* GET_QUEUE_NUM with MQ, else 1 */
	int timeout_ms;		/* per reply (and per blocked send) */
	bool broken;		/* a failure was logged; the socket is out of step */
	char owner[64];		/* for messages: "-device vhost-user-blk-pci,id=disk0" */
};

/*
 * Takes @fd (a connected, non-blocking Unix stream socket; owned by @vu
 * from now on, even on failure) and negotiates: GET_FEATURES (which must
 * offer protocol features), GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES
 * with what ember speaks (REPLY_ACK, CONFIG, MQ, and of @want what is
 * offered), GET_QUEUE_NUM with MQ, SET_OWNER. @need: protocol features
 * the device cannot do without. -errno after one message.
 */
int vhost_user_connect(struct vhost_user *vu, int fd, const char *owner, uint64_t need,
		       uint64_t want);
void vhost_user_close(struct vhost_user *vu);

/*
 * The requests. Each fails with -errno after one message (or silently
 * with -EPIPE once broken). With REPLY_ACK every set waits for the
 * daemon's acknowledgement, so a refusal is seen where it happens.
 */
int vhost_user_set_features(struct vhost_user *vu, uint64_t features);
/* One fd per region, @fds[i] for @r[i]. */
int vhost_user_set_mem_table(struct vhost_user *vu, const struct vhost_user_region *r,
			     const int *fds, unsigned n);
/* SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ENABLE. */
int vhost_user_set_vring(struct vhost_user *vu, enum vhost_user_req req, unsigned index,
			 unsigned num);
int vhost_user_set_vring_addr(struct vhost_user *vu, unsigned index, uint64_t desc,
			      uint64_t used, uint64_t avail);
/* SET_VRING_KICK, _CALL, _ERR; @fd < 0 sends "no fd". */
int vhost_user_set_vring_fd(struct vhost_user *vu, enum vhost_user_req req, unsigned index,
			    int fd);
/* Stops ring @index; its next avail index into @num. */
int vhost_user_get_vring_base(struct vhost_user *vu, unsigned index, uint32_t *num);
/* The device config space, @len bytes from offset 0 (needs CONFIG). */
int vhost_user_get_config(struct vhost_user *vu, void *buf, uint32_t len);
/* The guest wrote @len bytes at @offset of the config space (needs CONFIG). */
int vhost_user_set_config(struct vhost_user *vu, uint32_t offset, const void *data, uint32_t len);
/*
 * GET_INFLIGHT_FD: the back end's in-flight area for @num_queues rings of
 * @queue_size entries, its description into @inf and its fd into @fd
 * (the caller's to close). SET_INFLIGHT_FD hands such an area (back) to
 * the back end before its rings start.
 */
int vhost_user_get_inflight_fd(struct vhost_user *vu, uint16_t num_queues, uint16_t queue_size,
			       struct vhost_user_inflight *inf, int *fd);
int vhost_user_set_inflight_fd(struct vhost_user *vu, const struct vhost_user_inflight *inf,
			       int fd);

/*
 * Checks a reply's header against the request it answers: version 1, the
 * reply flag, the same request, and a payload size in [@min, @max]. NULL
 * when good, else what is wrong (for the log line).
 */
const char *vhost_user_check_reply(const struct vhost_user_hdr *h, uint32_t req,
				   uint32_t min, uint32_t max);
const char *vhost_user_req_name(uint32_t req);

#endif
