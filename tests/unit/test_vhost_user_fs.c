/*
 * vhost-user-fs (virtio/vhost_user_fs.c): the config space the guest
 * reads (tag padded with NULs, no NUL when 36 bytes long; the number of
 * request queues little-endian at offset 36) and the -device properties
 * checked before anything is set up (chardev= and tag= required, queue
 * counts and sizes within range). Realizing it needs a daemon and shared
 * RAM: the e2e cases vhost-user-fs-* do that against virtiofsd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "devices/device.h"
#include "lib/log.h"
#include "virtio/vhost_user_fs.h"

static void t_layout(void **state)
{
	struct virtio_fs_config c;
	const uint8_t *b = (const uint8_t *)&c;

	assert_int_equal(sizeof(c), 40);
	assert_int_equal(offsetof(struct virtio_fs_config, num_request_queues), 36);
	memset(&c, 0xaa, sizeof(c));
	assert_int_equal(vhost_user_fs_config(&c, "myfs", 3), 0);
	assert_memory_equal(c.tag, "myfs", 4);
	for (unsigned i = 4; i < 36; i++)
		assert_int_equal(c.tag[i], 0);
	assert_int_equal(b[36], 3);
	assert_int_equal(b[37] | b[38] | b[39], 0);
	assert_int_equal(vhost_user_fs_config(&c, "x", 0x01020304), 0);
	assert_int_equal(b[36], 4);
	assert_int_equal(b[39], 1);
}

static void t_tag(void **state)
{
	const char *t36 = "abcdefghijklmnopqrstuvwxyz0123456789";
	struct virtio_fs_config c;

	assert_int_equal(strlen(t36), 36);
	assert_int_equal(vhost_user_fs_config(&c, t36, 1), 0);
	assert_memory_equal(c.tag, t36, 36);	/* the whole field, no NUL */
	assert_int_equal(vhost_user_fs_config(&c, "abcdefghijklmnopqrstuvwxyz0123456789X", 1),
			 -ENAMETOOLONG);
	assert_int_equal(vhost_user_fs_config(&c, "", 1), -EINVAL);
	assert_int_equal(vhost_user_fs_config(&c, NULL, 1), -EINVAL);
	assert_int_equal(vhost_user_fs_config(&c, "fs", 0), -ERANGE);
}

static void t_types(void **state)
{
	const struct device_type *pci = device_type_find("vhost-user-fs-pci");
	const struct device_type *mmio = device_type_find("vhost-user-fs-device");

	assert_non_null(pci);
	assert_non_null(mmio);
	assert_string_equal(pci->bus, "pci");
	assert_string_equal(mmio->bus, "virtio-mmio");
}

static void refused(const char *opts, const char *why)
{
	assert_int_equal(device_check(opts), -EINVAL);
	if (!strstr(log_last(), why))
		fail_msg("-device %s: '%s' does not say '%s'", opts, log_last(), why);
}

static void t_props(void **state)
{
	assert_int_equal(device_check("vhost-user-fs-pci,chardev=c0,tag=fs0"), 0);
	assert_int_equal(device_check("vhost-user-fs-device,chardev=c0,tag=fs0,"
				      "num-request-queues=2,queue-size=1024"), 0);
	refused("vhost-user-fs-pci,chardev=c0", "tag");
	refused("vhost-user-fs-device,tag=fs0", "chardev");
	refused("vhost-user-fs-device,chardev=c0,tag=fs0,num-request-queues=0",
		"num-request-queues");
	refused("vhost-user-fs-device,chardev=c0,tag=fs0,queue-size=2048", "queue-size");
	refused("vhost-user-fs-pci,chardev=c0,tag=fs0,cache=auto", "cache");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_layout),
		cmocka_unit_test(t_tag),
		cmocka_unit_test(t_types),
		cmocka_unit_test(t_props),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
