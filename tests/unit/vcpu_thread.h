/*
 * A stand-in vCPU for the transport tests: a guest access run on a thread
 * of its own, as a vCPU's exit is, so that a test can tell a handler run
 * inside the access from one run on the event loop.
 */
#ifndef EMBER_TEST_VCPU_THREAD_H
#define EMBER_TEST_VCPU_THREAD_H

#include <pthread.h>

struct vcpu_call {
	void (*fn)(void);
};

static inline void *vcpu_main(void *arg)
{
	((struct vcpu_call *)arg)->fn();
	return NULL;
}

/* Runs @fn on a new thread and waits for it. */
static inline void on_vcpu(void (*fn)(void))
{
	struct vcpu_call c = { fn };
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, vcpu_main, &c), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
}

#endif
