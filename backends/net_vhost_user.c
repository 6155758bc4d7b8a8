/*
 * -netdev vhost-user,id=N,chardev=C[,queues=K]: a network back end in
 * another process (DPDK, a vhost-user switch). The netdev only names the
 * daemon's -chardev socket and the queue pairs; the front end
 * (virtio/net.c) takes the socket over and hands the daemon its data
 * rings, keeping the control queue.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "backends/net.h"
#include "backends/object.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"

struct netdev_vu_obj {
	struct object obj;
	struct netdev_vu vu;
	char owner[80];
};
_Static_assert(offsetof(struct netdev_vu_obj, obj) == 0, "a netdev starts with its object");

static const struct object_type vu_type;

static const struct prop vu_props[] = {
	{ "chardev", PROP_STR, offsetof(struct netdev_vu_obj, vu.chardev), NULL,
	  "id of the -chardev socket connected to the vhost-user daemon", .required = 1 },
	{ "queues", PROP_U32, offsetof(struct netdev_vu_obj, vu.queues), "1",
	  "queue pairs (the daemon must serve as many; the device needs mq=on for > 1)",
	  .min = 1, .max = NETDEV_MAX_QUEUES },
	{ NULL }
};

static void vu_free(struct netdev_vu_obj *n)
{
	object_del(&n->obj);
	props_free(vu_props, n);
	free(n);
}

static int vu_create(const struct object_args *a)
{
	struct netdev_vu_obj *n = calloc(1, sizeof(*n));
	int ret;

	if (!n) {
		err_msg("%s: out of memory", a->owner);
		return -ENOMEM;
	}
	snprintf(n->owner, sizeof(n->owner), "%s,id=%s", a->owner, a->id);
	ret = props_set_defaults(vu_props, n, n->owner);
	if (!ret)
		ret = props_apply(vu_props, n, a->kv, n->owner);
	if (!ret)
		ret = object_add(&n->obj, &vu_type, a->id, n->owner);
	if (ret)
		vu_free(n);
	return ret;
}

static void vu_destroy(struct object *o)
{
	vu_free(container_of(o, struct netdev_vu_obj, obj));
}

const struct netdev_vu *netdev_vhost_user(struct netdev *nd)
{
	struct object *o = (struct object *)(void *)nd;

	return o && o->type == &vu_type ? &((struct netdev_vu_obj *)(void *)o)->vu : NULL;
}

static const struct object_type vu_type = {
	.name = "vhost-user",
	.kind = OBJ_NETDEV,
	.noun = "netdev",
	.desc = "a vhost-user daemon (DPDK, ...) serving the data queues over a -chardev socket",
	.props = vu_props,
	.create = vu_create,
	.destroy = vu_destroy,
};
OBJECT_TYPE(vu_type)
