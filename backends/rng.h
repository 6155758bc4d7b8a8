/*
 * Entropy sources for virtio-rng, QEMU's model: `-object rng-random,id=R
 * [,filename=/dev/urandom]` names a file or device to read; a device
 * without rng= uses getrandom(). Reads never block the loop: the file is
 * opened O_NONBLOCK and getrandom() is asked with GRND_NONBLOCK.
 */
#ifndef EMBER_RNG_H
#define EMBER_RNG_H

#include <stddef.h>
#include <sys/types.h>

struct rng_backend;

/* "-object rng-random,id=..[,filename=..]" is created through the object table. */
struct rng_backend *rng_backend_find(const char *id);
/* Each source feeds one device, as in QEMU; -EBUSY after a message. */
int rng_backend_claim(struct rng_backend *b, const char *owner);
void rng_backend_release(struct rng_backend *b);
/*
 * Up to @len random bytes from @b (NULL: getrandom). Returns the count,
 * -EAGAIN when none are ready now, or another -errno (0 bytes from a file
 * at its end is -ENODATA).
 */
ssize_t rng_read(struct rng_backend *b, void *buf, size_t len);

#endif
