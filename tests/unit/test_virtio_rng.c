/*
 * virtio-rng: whole devices through the virtio-mmio registers with a split
 * ring in fake guest RAM and the real event loop; getrandom() and file
 * sources, max-bytes/period, reset and the properties.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <time.h>

#include "backends/rng.h"
#include "backends/object.h"
#include "devices/device.h"
#include "lib/keyval.h"
#include "lib/ratelimit.h"
#include "mmio_guest.h"

static char path[64];

static int setup(void **state)
{
	guest_setup();
	path[0] = 0;
	return 0;
}

static int teardown(void **state)
{
	device_destroy_all(&pf);
	object_cleanup_all();
	guest_teardown();
	ratelimit_set_clock(NULL);
	if (path[0])
		unlink(path);
	return 0;
}

static int object(const char *opts)
{
	return object_create(OBJ_OBJECT, opts, NULL);
}

/* A file source holding @len bytes 0, 1, 2, ... */
static void make_source(size_t len)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/ember-rng-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(write(fd, &(uint8_t){ (uint8_t)i }, 1), 1);
	close(fd);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the loop for about @ms without waiting for anything. */
static void run_for(unsigned ms)
{
	struct itimerspec its = { .it_value = { 0, 2000000 } };

	for (uint64_t end = now_ms() + ms; now_ms() < end;) {
		timerfd_settime(timer_fd, 0, &its, NULL);
		loop_run(loop);
	}
}

/* One writable buffer of @len at @gpa, zeroed first. */
static void post_buf(uint64_t gpa, uint32_t len)
{
	memset(ram + gpa, 0, len);
	post(&(struct seg){ gpa, len, true }, 1);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void t_getrandom(void **state)
{
	const uint64_t A = BUF_GPA, B = BUF_GPA + 0x1000, C = BUF_GPA + 0x2000;
	struct seg two[] = { { A, 100, true }, { A + 100, 200, true } };

	assert_int_equal(device_create(&pf, "virtio-rng-device"), 0);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	assert_int_equal(dev_features() & 0xffffff, 0);	/* no device features */
	driver_start(0);
	memset(ram + A, 0, 300);
	post(two, 2);
	kick_wait(1);
	assert_int_equal(used_elem(0).len, 300);
	assert_false(all_zero(ram + A, 100));
	assert_false(all_zero(ram + A + 100, 200));
	/* two reads differ */
	post_buf(B, 4096);
	post_buf(C, 4096);
	kick_wait(2);
	assert_int_equal(used_elem(1).len, 4096);
	assert_int_equal(used_elem(2).len, 4096);
	assert_memory_not_equal(ram + B, ram + C, 4096);

	/* a huge buffer gets 64 KiB: the loop is not held by one guest */
	post_buf(0x100000, 0x100000);
	kick_wait(1);
	assert_int_equal(used_elem(3).len, 65536);
	assert_false(all_zero(ram + 0x100000 + 65536 - 16, 16));
	assert_true(all_zero(ram + 0x100000 + 65536, 16));

	/* a chain with nothing writable is returned empty; the device goes on */
	post(&(struct seg){ A, 16, false }, 1);
	kick_wait(1);
	assert_int_equal(used_elem(4).len, 0);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
	post_buf(B, 8);
	kick_wait(1);
	assert_int_equal(used_elem(5).len, 8);
	assert_true(irqs > 0);
}

/* A chain the ring cannot hold (a loop of descriptors) breaks the device, not ember. */
static void t_broken_chain(void **state)
{
	struct vring_desc *d = (void *)(ram + QRING(0));

	assert_int_equal(device_create(&pf, "virtio-rng-device"), 0);
	driver_start(0);
	post((struct seg[]){ { BUF_GPA, 8, true }, { BUF_GPA + 8, 8, true } }, 2);
	d[1].flags |= VRING_DESC_F_NEXT;
	d[1].next = 0;		/* 0 -> 1 -> 0 ... */
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	run_for(20);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* after a reset it serves again */
	driver_start(0);
	post_buf(BUF_GPA, 32);
	kick_wait(1);
	assert_int_equal(used_elem(0).len, 32);
}

static void t_file_source(void **state)
{
	char o[128];

	make_source(1000);
	snprintf(o, sizeof(o), "rng-random,id=r0,filename=%s", path);
	assert_int_equal(object(o), 0);
	assert_int_equal(device_create(&pf, "virtio-rng-device,rng=r0"), 0);
	driver_start(0);
	post_buf(BUF_GPA, 600);
	kick_wait(1);
	assert_int_equal(used_elem(0).len, 600);
	for (int i = 0; i < 600; i++)
		assert_int_equal(ram[BUF_GPA + i], (uint8_t)i);
	/* what is left, then the file is dry: the next read waits, nothing breaks */
	post_buf(BUF_GPA, 600);
	kick_wait(1);
	assert_int_equal(used_elem(1).len, 400);
	assert_int_equal(ram[BUF_GPA + 399], (uint8_t)999);
	post_buf(BUF_GPA, 600);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	run_for(120);
	assert_int_equal(used_idx(), 2);
	/* the source comes back (a pipe refilled, say): the retry timer finds it */
	{
		FILE *f = fopen(path, "a");

		assert_non_null(f);
		fputs("more", f);
		fclose(f);
	}
	run_for(120);
	assert_int_equal(used_idx(), 3);
	assert_int_equal(used_elem(2).len, 4);
	assert_memory_equal(ram + BUF_GPA, "more", 4);
}

/* The limiter's clock, moved by the test: what it lets through depends on
 * this time alone, not on how fast the machine runs the test. */
static uint64_t fake_ns;

static uint64_t fake_clock(void)
{
	return fake_ns;
}

/* max-bytes per period: a burst, then the rate; buffers in one piece. */
static void t_rate_limit(void **state)
{
	fake_ns = 1000000000000ull;
	ratelimit_set_clock(fake_clock);
	assert_int_equal(device_create(&pf, "virtio-rng-device,max-bytes=100,period=500"), 0);
	driver_start(0);
	post_buf(BUF_GPA, 64);
	post_buf(BUF_GPA + 64, 64);
	kick_wait(2);			/* the burst covers the first; the second on credit */
	assert_int_equal(used_elem(0).len, 64);
	assert_int_equal(used_elem(1).len, 64);
	/* 28 bytes of debt at 200/s: a token back after 29 / 200 s = 145 ms */
	post_buf(BUF_GPA, 500);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	run_for(50);
	fake_ns += 144000000;
	run_for(200);
	assert_int_equal(used_idx(), 2);
	fake_ns += 1000000;
	kick_wait(1);
	/* a buffer larger than max-bytes gets max-bytes */
	assert_int_equal(used_elem(2).len, 100);
	assert_false(all_zero(ram + BUF_GPA, 100));
	assert_true(all_zero(ram + BUF_GPA + 100, 400));
	/* 1000 more bytes take 5 s at 200/s: after 300 ms at most 60 bytes of
	 * credit, so one buffer on it and none after */
	for (int i = 0; i < 10; i++)
		post_buf(BUF_GPA + i * 100, 100);
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	run_for(50);
	fake_ns += 300000000;
	run_for(300);
	assert_true(used_idx() - 3 <= 1);
}

/* A reset drops the chain that waits for the limit; the limit stays. */
static void t_reset_waiting(void **state)
{
	assert_int_equal(device_create(&pf, "virtio-rng-device,max-bytes=10,period=100"), 0);
	driver_start(0);
	post_buf(BUF_GPA, 10);
	post_buf(BUF_GPA + 16, 10);
	post_buf(BUF_GPA + 32, 10);
	kick_wait(2);
	driver_start(0);		/* the third waited: dropped */
	run_for(150);
	assert_int_equal(used_idx(), 0);
	post_buf(BUF_GPA, 10);
	kick_wait(1);
	assert_int_equal(used_elem(0).len, 10);
}

static void expect_obj_error(const char *opts, const char *msg)
{
	if (object(opts) >= 0)
		fail_msg("'%s' was accepted", opts);
	if (!strstr(log_last(), msg))
		fail_msg("'%s': got \"%s\", want \"%s\"", opts, log_last(), msg);
}

static void t_props(void **state)
{
	expect_obj_error("rng-random", "'id' is required");
	expect_obj_error("rng-random,id=0x", "invalid id");
	expect_obj_error("rng-random,id=r0,filename=/nonexistent/rng", "cannot open /nonexistent/rng");
	expect_obj_error("rng-random,id=r0,size=3", "unknown property 'size'");
	assert_int_equal(object("rng-random,id=r0"), 0);
	expect_obj_error("rng-random,id=r0", "duplicate id 'r0'");

	expect_dev_error("virtio-rng-device,rng=nope", "rng=nope: no -object rng-random");
	expect_dev_error("virtio-rng-device,period=0", "out of range");
	expect_dev_error("virtio-rng-device,max-bytes=lots", "not a number");
	expect_dev_error("virtio-rng-device,addr=4", "unknown property 'addr'");
	expect_dev_error("virtio-rng-pci,addr=0x20", "addr=0x20");

	expect_pci("virtio-rng-pci,rng=r0,addr=5.2,bus=pci.0", 5, 2, "pci.0");
	expect_dev_error("virtio-rng-device,rng=r0", "rng 'r0' is already used by -device virtio-rng-pci");
	device_destroy_all(&pf);
	assert_null(pci_dev);
	/* released with its device */
	assert_int_equal(device_create(&pf, "virtio-rng-device,rng=r0"), 0);
	expect_pci("virtio-rng-pci", -1, 0, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_getrandom, setup, teardown),
		cmocka_unit_test_setup_teardown(t_broken_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(t_file_source, setup, teardown),
		cmocka_unit_test_setup_teardown(t_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(t_reset_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(t_props, setup, teardown),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
