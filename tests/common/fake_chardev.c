/* Fake chardev registry for tests and fuzzers (fake_platform.h). */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "tests/common/fake_platform.h"

struct chardev fake_chrs[FAKE_CHARDEVS] = { { .id = "c0" }, { .id = "c1" }, { .id = "c2" } };

void fake_chardevs_reset(void)
{
	for (unsigned i = 0; i < FAKE_CHARDEVS; i++)
		fake_chrs[i] = (struct chardev){ .id = fake_chrs[i].id };
}

size_t fake_chardev_input(struct chardev *c, const void *buf, size_t len)
{
	return c->fn ? c->fn(c->opaque, buf, len) : 0;
}

struct chardev *chardev_find(const char *id)
{
	for (unsigned i = 0; i < FAKE_CHARDEVS; i++)
		if (!strcmp(fake_chrs[i].id, id))
			return &fake_chrs[i];
	return NULL;
}

const char *chardev_id(const struct chardev *c)
{
	return c->id;
}

int chardev_attach(struct chardev *c, chr_input_fn fn, void *opaque)
{
	if (c->fn)
		return -EBUSY;
	c->fn = fn;
	c->opaque = opaque;
	return 0;
}

void chardev_detach(struct chardev *c)
{
	c->fn = NULL;
}

/* Like the real ones, callable from any thread (a vCPU's UART output). */
ssize_t chardev_write(struct chardev *c, const void *buf, size_t len)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	size_t n;

	pthread_mutex_lock(&lock);
	n = len < sizeof(c->out) - c->out_len ? len : sizeof(c->out) - c->out_len;
	memcpy(c->out + c->out_len, buf, n);
	c->out_len += n;
	pthread_mutex_unlock(&lock);
	return len;
}

void chardev_accept_input(struct chardev *c)
{
	__atomic_fetch_add(&c->accepts, 1, __ATOMIC_RELAXED);
}
