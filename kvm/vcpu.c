/*
 * vCPU threads (vcpu.h): KVM_RUN in a loop, MMIO exits handed to the
 * machine's access function and the architecture's own exits to its hook,
 * and the kick signal that brings a vCPU out of KVM_RUN so it can stop or
 * park (pause: QMP stop, -S).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "kvm/kvm.h"
#include "kvm/vcpu.h"
#include "lib/log.h"

/* Interrupts KVM_RUN; the handler does nothing, the EINTR is the point. */
#define SIG_VCPU_KICK (SIGRTMIN + 1)

int vcpu_trace_io;

static void kick_handler(int sig) { (void)sig; }

static void init_kick_signal(void)
{
	/* No SA_RESTART: KVM_RUN must return EINTR. */
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	sigaction(SIG_VCPU_KICK, &sa, NULL);
}

int vcpu_create(struct kvm_vm *vm, struct vcpu *v, unsigned index)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, init_kick_signal);
	memset(v, 0, sizeof(*v));
	v->index = index;
	pthread_mutex_init(&v->park_lock, NULL);
	pthread_cond_init(&v->park_cond, NULL);
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0) {
		int e = errno;

		err_msg("KVM_CREATE_VCPU %u: %s", index, strerror(e));
		return -e;
	}
	v->run_size = vm->run_size;
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		int e = errno;

		err_msg("mmap of vCPU %u run area: %s", index, strerror(e));
		close(v->fd);
		v->fd = -1;
		return -e;
	}
	return 0;
}

void vcpu_destroy(struct vcpu *v)
{
	free(v->arch);
	v->arch = NULL;
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	v->run = NULL;
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	unsigned len = r->mmio.len;

	if (len == 0 || len > sizeof(r->mmio.data))
		return;
	v->access(v->mmio, r->mmio.phys_addr, r->mmio.data, len, r->mmio.is_write);
}

static enum vcpu_exit fatal(struct vcpu *v, enum vcpu_exit why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum vcpu_exit fatal(struct vcpu *v, enum vcpu_exit why, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (v->on_exit)
		v->on_exit(v->opaque, v, why, msg);
	return why;
}

/*
 * Paused: wait here, out of the guest, until resumed or stopped. First a
 * KVM_RUN that returns at once (immediate_exit) completes the port I/O or
 * MMIO of the last exit, so the registers are whole while parked: the
 * machine may set them anew (a reset) before the next run.
 */
static void park(struct vcpu *v)
{
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	ioctl(v->fd, KVM_RUN, 0);
	pthread_mutex_lock(&v->park_lock);
	v->parked = true;
	pthread_cond_broadcast(&v->park_cond);
	while (v->pause && !v->stop)
		pthread_cond_wait(&v->park_cond, &v->park_lock);
	v->parked = false;
	pthread_cond_broadcast(&v->park_cond);
	pthread_mutex_unlock(&v->park_lock);
	/* The kick that paused us may have left this set. */
	__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

/*
 * A reset or poweroff the machine answers with a pause (an in-place reset,
 * -no-shutdown) keeps the thread: it parks instead of ending.
 */
static bool parks_after(struct vcpu *v, enum vcpu_exit why)
{
	return why != VCPU_ERROR && why != VCPU_SHUTDOWN &&
	       __atomic_load_n(&v->pause, __ATOMIC_SEQ_CST);
}

enum vcpu_exit vcpu_run_loop(struct vcpu *v)
{
	enum vcpu_exit why;

	struct kvm_run *r = v->run;

	for (;;) {
		if (__atomic_load_n(&v->pause, __ATOMIC_SEQ_CST))
			park(v);
		if (v->stop)
			return VCPU_STOPPED;
		boot_trace_once("first KVM_RUN");
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				r->immediate_exit = 0;
				continue;
			}
			return fatal(v, VCPU_ERROR, "vCPU %u: KVM_RUN failed: %s",
				     v->index, strerror(errno));
		}
		v->exits++;
		switch (r->exit_reason) {
		case KVM_EXIT_MMIO:
			handle_mmio(v);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel LAPIC: a halted test guest is done. */
			return fatal(v, VCPU_POWEROFF, "vCPU %u halted", v->index);
		case KVM_EXIT_SHUTDOWN:
			return fatal(v, VCPU_SHUTDOWN,
				     "vCPU %u: triple fault (guest shut down the CPU)", v->index);
		case KVM_EXIT_SYSTEM_EVENT:
			if (r->system_event.type == KVM_SYSTEM_EVENT_RESET)
				why = fatal(v, VCPU_RESET, "guest reset (system event)");
			else
				why = fatal(v, VCPU_POWEROFF, "guest powered off (system event %u)",
					    r->system_event.type);
			if (parks_after(v, why))
				break;
			return why;
		case KVM_EXIT_FAIL_ENTRY:
			return fatal(v, VCPU_ERROR,
				     "vCPU %u: entry failed, hardware reason 0x%llx",
				     v->index, (unsigned long long)
				     r->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			return fatal(v, VCPU_ERROR,
				     "vCPU %u: KVM internal error, suberror %u%s", v->index,
				     r->internal.suberror,
				     r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
				     " (instruction emulation failed)" : "");
		default:
			if (v->arch_exit && !v->arch_exit(v))
				break;
			return fatal(v, VCPU_ERROR, "vCPU %u: unexpected exit reason %u",
				     v->index, r->exit_reason);
		}
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	char name[16];

	snprintf(name, sizeof(name), "vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);
	__atomic_store_n(&v->tid, (int)gettid(), __ATOMIC_RELAXED);
	/* e.g. the vCPU's seccomp filter; on failure this vCPU never runs */
	if (!v->thread_init || !v->thread_init(v))
		vcpu_run_loop(v);
	pthread_mutex_lock(&v->park_lock);
	v->done = true;
	pthread_cond_broadcast(&v->park_cond);
	pthread_mutex_unlock(&v->park_lock);
	return NULL;
}

int vcpu_start(struct vcpu *v)
{
	sigset_t all, old;
	int ret;

	/* The thread starts with every signal blocked but the kick. */
	sigfillset(&all);
	sigdelset(&all, SIG_VCPU_KICK);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&v->thread, NULL, vcpu_thread, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		err_msg("cannot start vCPU %u thread: %s", v->index, strerror(ret));
		return -ret;
	}
	v->started = true;
	return 0;
}

static void kick(struct vcpu *v)
{
	if (v->run)
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	if (v->started)
		pthread_kill(v->thread, SIG_VCPU_KICK);
}

void vcpu_pause_soon(struct vcpu *v)
{
	pthread_mutex_lock(&v->park_lock);
	__atomic_store_n(&v->pause, true, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&v->park_lock);
	if (v->run)
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
}

void vcpu_pause(struct vcpu *v)
{
	vcpu_pause_soon(v);
	kick(v);
}

int vcpu_wait_parked(struct vcpu *v, unsigned ms)
{
	struct timespec end;
	int ret = 0;

	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (long)(ms % 1000) * 1000000;
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&v->park_lock);
	/* A thread not started, or gone, is out of the guest too. */
	while (v->started && v->pause && !v->parked && !v->done && !ret)
		if (pthread_cond_timedwait(&v->park_cond, &v->park_lock, &end) == ETIMEDOUT)
			ret = -ETIMEDOUT;
	pthread_mutex_unlock(&v->park_lock);
	return ret;
}

void vcpu_resume(struct vcpu *v)
{
	pthread_mutex_lock(&v->park_lock);
	__atomic_store_n(&v->pause, false, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&v->park_cond);
	pthread_mutex_unlock(&v->park_lock);
}

void vcpu_kick(struct vcpu *v)
{
	pthread_mutex_lock(&v->park_lock);
	v->stop = 1;
	/* Wakes a parked thread so that it ends. */
	pthread_cond_broadcast(&v->park_cond);
	pthread_mutex_unlock(&v->park_lock);
	kick(v);
}

void vcpu_join(struct vcpu *v)
{
	if (v->started)
		pthread_join(v->thread, NULL);
	v->started = false;
}
