/* -object rng-random and getrandom(); see rng.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "backends/object.h"
#include "backends/rng.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"

struct rng_backend {
	struct object obj;		/* its owner: the device it feeds */
	char *filename;
	int fd;
};

static const struct prop rng_props[] = {
	{ "filename", PROP_STR, offsetof(struct rng_backend, filename), "/dev/urandom",
	  "file or device to read entropy from" },
	{ NULL }
};

static const struct object_type rng_type;

struct rng_backend *rng_backend_find(const char *id)
{
	struct object *o = object_find(OBJ_OBJECT, id);

	return o && o->type == &rng_type ? container_of(o, struct rng_backend, obj) : NULL;
}

static void backend_free(struct rng_backend *b)
{
	if (b->fd >= 0)
		close(b->fd);
	props_free(rng_props, b);
	object_del(&b->obj);
	free(b);
}

static int rng_create(const struct object_args *a)
{
	struct rng_backend *b = calloc(1, sizeof(*b));
	int ret;

	if (!b) {
		err_msg("%s: out of memory", a->owner);
		return -ENOMEM;
	}
	b->fd = -1;
	ret = props_set_defaults(rng_props, b, a->owner);
	if (!ret)
		ret = props_apply(rng_props, b, a->kv, a->owner);
	if (!ret) {
		b->fd = open(b->filename, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (b->fd < 0) {
			ret = -errno;
			err_msg("%s,id=%s: cannot open %s: %s", a->owner, a->id, b->filename,
				strerror(errno));
		}
	}
	if (!ret)
		ret = object_add(&b->obj, &rng_type, a->id, a->owner);
	if (ret)
		backend_free(b);
	return ret;
}

int rng_backend_claim(struct rng_backend *b, const char *owner)
{
	return object_claim(&b->obj, owner);
}

void rng_backend_release(struct rng_backend *b)
{
	object_release(&b->obj);
}

ssize_t rng_read(struct rng_backend *b, void *buf, size_t len)
{
	ssize_t n;

	do
		n = b ? read(b->fd, buf, len) : getrandom(buf, len, GRND_NONBLOCK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (!n && len)
		return -ENODATA;
	return n;
}

static void rng_destroy(struct object *o)
{
	backend_free(container_of(o, struct rng_backend, obj));
}

static const struct object_type rng_type = {
	.name = "rng-random",
	.kind = OBJ_OBJECT,
	.noun = "rng",
	.desc = "entropy source for virtio-rng",
	.props = rng_props,
	.create = rng_create,
	.destroy = rng_destroy,
};
OBJECT_TYPE(rng_type)
