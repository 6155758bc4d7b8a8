/*
 * Network back ends (-netdev). The only type is a tap: ember opens
 * /dev/net/tun itself, one file descriptor per queue pair, with the
 * virtio-net header in front of every packet (IFF_VNET_HDR, 12 bytes), so
 * a front end reads and writes packets straight between guest buffers and
 * the tap. Rate limits of the netdev apply to its front end's rx and tx.
 */
#ifndef EMBER_NET_H
#define EMBER_NET_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
