/*
 * -netdev tap: ember opens /dev/net/tun itself (no helper scripts), with
 * IFF_TAP | IFF_NO_PI | IFF_VNET_HDR (| IFF_MULTI_QUEUE for queues > 1),
 * one non-blocking fd per queue pair, a 12-byte vnet header
 * (TUNSETVNETHDRSZ) and no offloads until the guest negotiates some.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

#include "backends/net.h"
#include "backends/object.h"
#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"

struct netdev {
	struct object obj;		/* its owner: the front end that claimed it */
	/* Properties. */
	char *ifname, *fd_str, *fds_str, *script, *downscript, *vhostfd, *vhostfds;
	uint32_t queues;
	bool vhost, vhost_set;		/* vhost=, and whether it was given */
	struct ratelimit_cfg rx, tx;

	char name[IFNAMSIZ];		/* the tap's name, for messages */
	char owner[80];			/* "-netdev tap,id=N" */
	int fds[NETDEV_MAX_QUEUES];
	int vhost_fds[NETDEV_MAX_QUEUES];	/* vhostfd(s)=, until virtio-net takes them */
};
/* netdev_user() tells the types apart through the object at the start. */
_Static_assert(offsetof(struct netdev, obj) == 0, "struct netdev starts with its object");

static const struct object_type tap_type;

#define RL(dir, key, field, type, what)					\
	{ #dir "-" key, type, offsetof(struct netdev, dir.field), "0", what }
#define RL_PROPS(dir, word)						\
	RL(dir, "bps", bps, PROP_SIZE, word " bytes per second (0: unlimited)"), \
	RL(dir, "bps-burst", bps_burst, PROP_SIZE, word " byte burst (0: a tenth of a second)"), \
	RL(dir, "ops", ops, PROP_U64, word " packets per second (0: unlimited)"), \
	RL(dir, "ops-burst", ops_burst, PROP_U64, word " packet burst (0: a tenth of a second)")

static const struct prop tap_props[] = {
	{ "ifname", PROP_STR, offsetof(struct netdev, ifname), NULL,
	  "tap interface to attach to or create (default: the kernel picks tapN)" },
	{ "fd", PROP_STR, offsetof(struct netdev, fd_str), NULL,
	  "an already open tap fd (IFF_VNET_HDR; queues=1)" },
	{ "fds", PROP_STR, offsetof(struct netdev, fds_str), NULL,
	  "already open fds of one multi-queue tap, N:M:..., one per queue pair" },
	{ "script", PROP_STR, offsetof(struct netdev, script), "no",
	  "QEMU's ifup script: only no (ember runs no helpers)" },
	{ "downscript", PROP_STR, offsetof(struct netdev, downscript), "no",
	  "QEMU's ifdown script: only no" },
	{ "vhostfd", PROP_STR, offsetof(struct netdev, vhostfd), NULL,
	  "an open /dev/vhost-net for the queue pair (implies vhost=on)" },
	{ "vhostfds", PROP_STR, offsetof(struct netdev, vhostfds), NULL,
	  "open /dev/vhost-net fds N:M:..., one per queue pair" },
	{ "queues", PROP_U32, offsetof(struct netdev, queues), "1",
	  "queue pairs (IFF_MULTI_QUEUE when > 1)", .min = 1, .max = NETDEV_MAX_QUEUES },
	{ "vhost", PROP_BOOL, offsetof(struct netdev, vhost), "off",
	  "data path in the kernel's vhost-net" },
	RL_PROPS(rx, "receive:"),
	RL_PROPS(tx, "transmit:"),
	{ NULL }
};

static const char *why_tap(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return "no permission (needs CAP_NET_ADMIN, or a tap owned by this user)";
	case EBUSY:
		return "busy: attached elsewhere, or its multi-queue or vnet-header setting differs";
	case EINVAL:
		return "the name is taken by an interface that is not a tap of this kind";
	case ENOENT:
	case ENODEV:
		return "/dev/net/tun is missing (modprobe tun)";
	default:
		return strerror(err);
	}
}

/* Header size and no offloads: both fixed for the fd's whole life. */
static int tap_setup_fd(struct netdev *nd, int fd)
{
	int hdr = NETDEV_VNET_HDR_LEN;

	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) || ioctl(fd, TUNSETOFFLOAD, 0)) {
		int e = errno;

		err_msg("%s: tap '%s': cannot set the vnet header: %s", nd->owner, nd->name,
			strerror(e));
		return -e;
	}
	return 0;
}

static int tap_open_queue(struct netdev *nd, unsigned q)
{
	struct ifreq ifr = { 0 };
	int fd, e;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		err_msg("%s: cannot open /dev/net/tun: %s", nd->owner, why_tap(e));
		return -e;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
			(nd->queues > 1 ? IFF_MULTI_QUEUE : 0);
	/* Queues after the first attach to the name the first one got. */
	if (q || nd->ifname)
		memcpy(ifr.ifr_name, q ? nd->name : nd->ifname,
		       strlen(q ? nd->name : nd->ifname));
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		e = errno;
		err_msg("%s: cannot open tap '%s': %s", nd->owner,
			nd->ifname ? nd->ifname : nd->name[0] ? nd->name : "(new)", why_tap(e));
		close(fd);
		return -e;
	}
	memcpy(nd->name, ifr.ifr_name, IFNAMSIZ);
	nd->name[IFNAMSIZ - 1] = 0;
	nd->fds[q] = fd;
	return tap_setup_fd(nd, fd);
}

/* fd= or one of fds=: a tap someone else opened; it must carry the vnet header. */
static int tap_adopt_fd(struct netdev *nd, const char *str, unsigned q)
{
	struct ifreq ifr = { 0 };
	uint64_t v;
	int fd, fl;

	if (parse_u64(str, &v) || v > INT32_MAX) {
		err_msg("%s: fd=%s is not a file descriptor number", nd->owner, str);
		return -EINVAL;
	}
	fd = (int)v;
	if (ioctl(fd, TUNGETIFF, &ifr)) {
		err_msg("%s: fd=%d is not a tap: %s", nd->owner, fd,
			errno == EBADF ? "not open" : strerror(errno));
		return -EINVAL;
	}
	memcpy(nd->name, ifr.ifr_name, IFNAMSIZ);
	nd->name[IFNAMSIZ - 1] = 0;
	if ((ifr.ifr_flags & (IFF_TAP | IFF_TUN)) != IFF_TAP ||
	    !(ifr.ifr_flags & IFF_VNET_HDR) || !(ifr.ifr_flags & IFF_NO_PI)) {
		err_msg("%s: fd=%d (%s) must be a tap opened with IFF_TAP|IFF_NO_PI|IFF_VNET_HDR",
			nd->owner, fd, nd->name);
		return -EINVAL;
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC)) {
		err_msg("%s: fd=%d: %s", nd->owner, fd, strerror(errno));
		return -EINVAL;
	}
	nd->fds[q] = fd;
	return tap_setup_fd(nd, fd);
}

/* fds=N:M:...: one fd per queue pair, of one multi-queue tap; queues= follows. */
static int tap_adopt_fds(struct netdev *nd)
{
	char *list = strdup(nd->fds_str), *tok, *save = NULL;
	unsigned n = 0;
	int ret = 0;

	if (!list)
		return -ENOMEM;
	for (const char *p = nd->fds_str; *p; p += strcspn(p, ":"), p += !!*p)
		n += p[0] != ':';
	if (!n) {
		err_msg("%s: fds= names no fd", nd->owner);
		ret = -EINVAL;
	} else if (n > NETDEV_MAX_QUEUES) {
		err_msg("%s: fds=%s: at most %d fds", nd->owner, nd->fds_str, NETDEV_MAX_QUEUES);
		ret = -EINVAL;
	} else if (nd->queues != 1 && nd->queues != n) {
		err_msg("%s: queues=%u but fds= has %u", nd->owner, nd->queues, n);
		ret = -EINVAL;
	}
	n = 0;
	for (tok = strtok_r(list, ":", &save); tok && !ret; tok = strtok_r(NULL, ":", &save))
		ret = tap_adopt_fd(nd, tok, n++);
	free(list);
	nd->queues = n;
	return ret;
}

/*
 * vhostfd=N or vhostfds=N:M:...: /dev/vhost-net fds a manager opened, one per
 * queue pair; virtio-net hands them to vhost (which checks them) instead of
 * opening its own. They mean vhost=on, as in QEMU.
 */
static int tap_vhost_fds(struct netdev *nd, const char *key, const char *list)
{
	unsigned n = 0;
	const char *p = list;
	uint64_t v;

	for (;;) {
		size_t len = strcspn(p, ":");
		char num[24];

		snprintf(num, sizeof(num), "%.*s", (int)MIN(len, sizeof(num) - 1), p);
		if (n == nd->queues) {
			err_msg("%s: %s=%s: more fds than the %u queue pairs", nd->owner, key,
				list, nd->queues);
			return -EINVAL;
		}
		if (!len || parse_u64(num, &v) || v > INT32_MAX || fcntl((int)v, F_GETFD) < 0) {
			err_msg("%s: %s=%s: '%.*s' is not an open file descriptor", nd->owner, key,
				list, (int)len, p);
			return -EINVAL;
		}
		fcntl((int)v, F_SETFD, FD_CLOEXEC);
		nd->vhost_fds[n++] = (int)v;
		if (!p[len])
			break;
		p += len + 1;
	}
	if (n != nd->queues) {
		err_msg("%s: %s=%s: %u fds for %u queue pairs", nd->owner, key, list, n,
			nd->queues);
		return -EINVAL;
	}
	nd->vhost = true;
	return 0;
}

/* What QEMU's tap takes that ember cannot honour, each named. */
static int tap_refuse(struct netdev *nd)
{
	if (strcmp(nd->script, "no") && nd->script[0]) {
		err_msg("%s: script=%s: ember runs no helper scripts (script=no; set the tap "
			"up beforehand)", nd->owner, nd->script);
		return -EINVAL;
	}
	if (strcmp(nd->downscript, "no") && nd->downscript[0]) {
		err_msg("%s: downscript=%s: ember runs no helper scripts (downscript=no)",
			nd->owner, nd->downscript);
		return -EINVAL;
	}
	if (nd->vhostfd && nd->vhostfds) {
		err_msg("%s: give either vhostfd= or vhostfds=, not both", nd->owner);
		return -EINVAL;
	}
	if ((nd->vhostfd || nd->vhostfds) && !nd->vhost && nd->vhost_set) {
		err_msg("%s: vhostfd= needs vhost=on", nd->owner);
		return -EINVAL;
	}
	if ((nd->fd_str || nd->fds_str) && nd->ifname) {
		err_msg("%s: fd= and fds= take open taps: no ifname=", nd->owner);
		return -EINVAL;
	}
	if (nd->fd_str && (nd->fds_str || nd->queues > 1)) {
		err_msg("%s: fd= takes one open tap: no queues > 1 (use fds=)", nd->owner);
		return -EINVAL;
	}
	return 0;
}

static void netdev_free(struct netdev *nd)
{
	for (unsigned i = 0; i < NETDEV_MAX_QUEUES; i++) {
		if (nd->fds[i] >= 0)
			close(nd->fds[i]);
		if (nd->vhost_fds[i] >= 0)
			close(nd->vhost_fds[i]);
	}
	object_del(&nd->obj);
	props_free(tap_props, nd);
	free(nd);
}

static int tap_open(struct netdev *nd)
{
	int ret = 0;

	if (nd->ifname && (!nd->ifname[0] || strlen(nd->ifname) >= IFNAMSIZ)) {
		err_msg("%s: ifname '%s': a tap name has 1 to %d characters", nd->owner,
			nd->ifname, IFNAMSIZ - 1);
		return -EINVAL;
	}
	if ((ret = tap_refuse(nd)))
		return ret;
	if (nd->fd_str)
		ret = tap_adopt_fd(nd, nd->fd_str, 0);
	else if (nd->fds_str)
		ret = tap_adopt_fds(nd);
	else
		for (unsigned q = 0; q < nd->queues && !ret; q++)
			ret = tap_open_queue(nd, q);
	if (!ret && (nd->vhostfd || nd->vhostfds))
		ret = tap_vhost_fds(nd, nd->vhostfd ? "vhostfd" : "vhostfds",
				    nd->vhostfd ? nd->vhostfd : nd->vhostfds);
	return ret;
}

static int tap_create(const struct object_args *a)
{
	struct netdev *nd = calloc(1, sizeof(*nd));
	int ret;

	if (!nd) {
		err_msg("%s: out of memory", a->owner);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < NETDEV_MAX_QUEUES; i++)
		nd->fds[i] = nd->vhost_fds[i] = -1;
	/* Run-time warnings name the netdev too. */
	snprintf(nd->owner, sizeof(nd->owner), "%s,id=%s", a->owner, a->id);
	nd->vhost_set = keyval_has(a->kv, "vhost");
	ret = props_set_defaults(tap_props, nd, nd->owner);
	if (!ret)
		ret = props_apply(tap_props, nd, a->kv, nd->owner);
	if (!ret)
		ret = tap_open(nd);
	if (!ret)
		ret = object_add(&nd->obj, &tap_type, a->id, nd->owner);
	if (ret)
		netdev_free(nd);
	return ret;
}

struct netdev *netdev_find(const char *id)
{
	struct object *o = object_find(OBJ_NETDEV, id);

	return o ? container_of(o, struct netdev, obj) : NULL;
}

int netdev_claim(struct netdev *nd, const char *owner)
{
	return object_claim(&nd->obj, owner);
}

void netdev_release(struct netdev *nd)
{
	object_release(&nd->obj);
}

const char *netdev_id(const struct netdev *nd)
{
	return nd->obj.id;
}

unsigned netdev_queues(const struct netdev *nd)
{
	return nd->queues;
}

int netdev_take_vhost_fd(struct netdev *nd, unsigned q)
{
	int fd;

	if (q >= NETDEV_MAX_QUEUES)
		return -1;
	fd = nd->vhost_fds[q];
	nd->vhost_fds[q] = -1;
	return fd;
}

int netdev_fd(const struct netdev *nd, unsigned q)
{
	return q < nd->queues ? nd->fds[q] : -1;
}

bool netdev_vhost(const struct netdev *nd)
{
	return nd->vhost;
}

const struct ratelimit_cfg *netdev_rx_limit(const struct netdev *nd)
{
	return &nd->rx;
}

const struct ratelimit_cfg *netdev_tx_limit(const struct netdev *nd)
{
	return &nd->tx;
}

int netdev_set_offload(struct netdev *nd, unsigned flags)
{
	for (unsigned q = 0; q < nd->queues; q++)
		if (ioctl(nd->fds[q], TUNSETOFFLOAD, (unsigned long)flags)) {
			int e = errno;

			warn_once("%s: tap '%s': cannot set offloads %#x: %s", nd->owner,
				  nd->name, flags, strerror(e));
			return -e;
		}
	return 0;
}

int netdev_enable_queue(struct netdev *nd, unsigned q, bool on)
{
	struct ifreq ifr = { .ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE };

	if (q >= nd->queues || nd->queues == 1)
		return 0;
	if (ioctl(nd->fds[q], TUNSETQUEUE, &ifr)) {
		int e = errno;

		/* Attaching an attached queue is EINVAL: nothing changed. */
		if (e == EINVAL)
			return 0;
		warn_once("%s: tap '%s': cannot %s queue %u: %s", nd->owner, nd->name,
			  on ? "attach" : "detach", q, strerror(e));
		return -e;
	}
	return 0;
}

static void tap_destroy(struct object *o)
{
	netdev_free(container_of(o, struct netdev, obj));
}

static const struct object_type tap_type = {
	.name = "tap",
	.kind = OBJ_NETDEV,
	.noun = "netdev",
	.desc = "a Linux tap interface, opened through /dev/net/tun",
	.props = tap_props,
	.create = tap_create,
	.destroy = tap_destroy,
};
OBJECT_TYPE(tap_type)
