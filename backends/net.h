/*
 * Network back ends (-netdev). The only type is a tap: ember opens
 * /dev/net/tun itself, one file descriptor per queue pair, with the
 * virtio-net header in front of every packet (IFF_VNET_HDR, 12 bytes), so
 * a front end reads and writes packets straight between guest buffers and
 * the tap. Rate limits of the netdev apply to its front end's rx and tx.
 *
 * -netdev user (net_user.c) has no fd: plain Ethernet frames, no vnet
 * header and no offloads, pass through the netdev_user_* calls, on the
 * loop thread only.
 *
 * -netdev vhost-user (net_vhost_user.c) has neither: a daemon serves the
 * data rings itself, and the netdev only names its socket.
 */
#ifndef EMBER_NET_H
#define EMBER_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "lib/ratelimit.h"

struct netdev;

#define NETDEV_MAX_QUEUES	16
/* virtio_net_hdr_mrg_rxbuf: what the tap reads and writes before a packet. */
#define NETDEV_VNET_HDR_LEN	12

/* TUNSETOFFLOAD bits (linux/if_tun.h TUN_F_*) the front end asks for. */
enum {
	NETDEV_OFF_CSUM = 1, NETDEV_OFF_TSO4 = 2, NETDEV_OFF_TSO6 = 4,
	NETDEV_OFF_TSO_ECN = 8, NETDEV_OFF_UFO = 16,
};

/* "-netdev tap,id=N,..." is object_create(OBJ_NETDEV, ...) through the table. */
struct netdev *netdev_find(const char *id);
/* A front end claims the netdev (only one may). -EBUSY after a message. */
int netdev_claim(struct netdev *nd, const char *owner);
void netdev_release(struct netdev *nd);
const char *netdev_id(const struct netdev *nd);
unsigned netdev_queues(const struct netdev *nd);
/* The tap fd of queue pair @q (non-blocking). */
int netdev_fd(const struct netdev *nd, unsigned q);
bool netdev_vhost(const struct netdev *nd);
/*
 * The vhost-net fd a manager passed for queue pair @q (vhostfd=, vhostfds=),
 * now the caller's to close; -1 when none (open /dev/vhost-net then).
 */
int netdev_take_vhost_fd(struct netdev *nd, unsigned q);
const struct ratelimit_cfg *netdev_rx_limit(const struct netdev *nd);
const struct ratelimit_cfg *netdev_tx_limit(const struct netdev *nd);
/* TUNSETOFFLOAD on every queue; 0 or -errno (warned once). */
int netdev_set_offload(struct netdev *nd, unsigned flags);
/* Multi-queue: queue @q takes packets (attached) or not. */
int netdev_enable_queue(struct netdev *nd, unsigned q, bool on);

/* ---- -netdev user ---- */

struct netdev_user;
/* Frames for the guest the back end holds while the guest has no room. */
#define NETDEV_USER_QUEUE	256

/* @nd as a user netdev, or NULL (a tap: use the calls above). */
struct netdev_user *netdev_user(struct netdev *nd);
/* Whether any -netdev user exists (the sandbox then allows its sockets). */
bool netdev_user_exists(void);
/*
 * The front end: @ready(@opaque) runs on the loop when a frame for the
 * guest was queued outside netdev_user_send(). NULL detaches.
 */
void netdev_user_attach(struct netdev_user *u, void (*ready)(void *), void *opaque);
/* One frame from the guest; replies made at once are queued, no @ready. */
void netdev_user_send(struct netdev_user *u, const void *frame, size_t len);
/* The oldest frame for the guest (NULL: none), until netdev_user_pop(). */
const void *netdev_user_peek(struct netdev_user *u, size_t *len);
void netdev_user_pop(struct netdev_user *u);

/* Parsed options, for the unit tests and the fuzzer. */
struct netdev_user_fwd {
	bool udp;
	struct in_addr haddr, gaddr;	/* INADDR_ANY: all host addresses, the DHCP start */
	uint16_t hport, gport;		/* hport 0: the kernel picks */
};
/* "tcp|udp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT". -EINVAL and @why. */
int netdev_user_parse_fwd(const char *s, struct netdev_user_fwd *f, const char **why);
struct netdev_user_net {
	struct in_addr net, mask, host, dhcp, dns;
};
/*
 * net= ("A.B.C.D/PREFIX" or "/MASK"; without it 10.0.2.0/24) and the
 * addresses inside it (NULL: QEMU's defaults .2, .15, .3). -EINVAL and @why.
 */
int netdev_user_parse_net(const char *net, const char *host, const char *dhcp,
			  const char *dns, struct netdev_user_net *n, const char **why);

/* ---- -netdev vhost-user (net_vhost_user.c) ---- */

/* Its options; the front end connects to the daemon (virtio/net.c). */
struct netdev_vu {
	char *chardev;		/* -chardev socket id */
	uint32_t queues;	/* queue pairs */
};
/* @nd as a vhost-user netdev, or NULL. */
const struct netdev_vu *netdev_vhost_user(struct netdev *nd);

#endif
