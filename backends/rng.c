/* -object rng-random and getrandom(); see rng.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

#include "backends/rng.h"
#include "lib/log.h"
#include "lib/props.h"

struct rng_backend {
	char *id;
	char *filename;
	int fd;
	char *user;			/* the device it feeds, or NULL */
	struct rng_backend *next;
};

static struct rng_backend *backends;

static const struct prop rng_props[] = {
	{ "filename", PROP_STR, offsetof(struct rng_backend, filename), "/dev/urandom",
	  "file or device to read entropy from" },
	{ NULL }
};

struct rng_backend *rng_backend_find(const char *id)
{
	for (struct rng_backend *b = backends; b; b = b->next)
		if (!strcmp(b->id, id))
			return b;
	return NULL;
}

static void backend_free(struct rng_backend *b)
{
	if (b->fd >= 0)
		close(b->fd);
	props_free(rng_props, b);
	free(b->id);
	free(b->user);
	free(b);
}

int rng_backend_create_kv(struct keyval *kv)
{
	const char *owner = "-object rng-random", *id = keyval_get(kv, "id");
	struct rng_backend *b, **tail;
	int ret;

	if (!id || !*id) {
		err_msg("%s: 'id' is required", owner);
		return -EINVAL;
	}
	ret = id_check(id, owner);
	if (ret)
		return ret;
	if (rng_backend_find(id)) {
		err_msg("%s: duplicate id '%s'", owner, id);
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b || !(b->id = strdup(id))) {
		free(b);
		err_msg("%s: out of memory", owner);
		return -ENOMEM;
	}
	b->fd = -1;
	ret = props_set_defaults(rng_props, b, owner);
	if (!ret)
		ret = props_apply(rng_props, b, kv, owner);
	if (!ret) {
		b->fd = open(b->filename, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (b->fd < 0) {
			ret = -errno;
			err_msg("%s,id=%s: cannot open %s: %s", owner, id, b->filename,
				strerror(errno));
		}
	}
	if (ret) {
		backend_free(b);
		return ret;
	}
	for (tail = &backends; *tail; tail = &(*tail)->next)
		;
	*tail = b;
	return 0;
}

int rng_backend_claim(struct rng_backend *b, const char *owner)
{
	if (b->user) {
		err_msg("%s: rng '%s' is already used by %s", owner, b->id, b->user);
		return -EBUSY;
	}
	b->user = strdup(owner);
	if (!b->user) {
		err_msg("%s: out of memory", owner);
		return -ENOMEM;
	}
	return 0;
}

void rng_backend_release(struct rng_backend *b)
{
	free(b->user);
	b->user = NULL;
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

void rng_backend_free_all(void)
{
	struct rng_backend *b, *next;

	for (b = backends; b; b = next) {
		next = b->next;
		backend_free(b);
	}
	backends = NULL;
}
