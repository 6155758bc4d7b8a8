/*
 * The event loop: one epoll on the main thread for device back ends,
 * chardevs, signals and (later) the API socket. vCPU threads never block in
 * it; they wake it through loop_stop() or their own eventfds.
 */
#ifndef EMBER_LOOP_H
#define EMBER_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct loop;
typedef void (*loop_fn)(void *opaque, uint32_t events);

struct loop *loop_new(void);
void loop_free(struct loop *l);
/* Registers @fd for @events (EPOLLIN...). One registration per fd. */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fn fn, void *opaque);
int loop_mod(struct loop *l, int fd, uint32_t events);
int loop_del(struct loop *l, int fd);
/* Runs until loop_stop(); returns the status passed to it. */
int loop_run(struct loop *l);
/* Thread-safe and async-signal-safe. The first status wins. */
void loop_stop(struct loop *l, int status);

#endif
