/*
 * virtio-console: the control protocol on its own, then virtio-serial
 * devices with their ports through the virtio-mmio registers, split rings
 * in fake guest RAM and fake chardevs that record what the device does
 * (output, input taken, wakeups asked for). The PCI transport is stubbed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "backends/chardev.h"
#include "devices/device.h"
#include "devices/platform.h"
#include "kvm/gmem.h"
#include "lib/log.h"
#include "lib/util.h"
#include "virtio/console.h"
#include "virtio/transport.h"
#include "virtio/virtio.h"
#include "tests/common/fake_platform.h"

#include "mmio_guest.h"

/* ---- the protocol ---- */

static struct vcon_proto pr;
static char why[96];

static void plug(unsigned nr, bool console, const char *name)
{
	pr.ports[nr].present = true;
	pr.ports[nr].console = console;
	snprintf(pr.ports[nr].name, sizeof(pr.ports[nr].name), "%s", name ? name : "");
}

static enum vcon_result msg(uint32_t id, uint16_t event, uint16_t value)
{
	struct vcon_msg m = { id, event, value };

	why[0] = 0;
	return vcon_ctrl_handle(&pr, &m, why, sizeof(why));
}

/* The next owed message, as the driver would read it from a 64-byte buffer. */
static int next(struct vcon_msg *m, char *name)
{
	uint8_t buf[64];
	struct iovec iov = { buf, sizeof(buf) };
	int len = vcon_ctrl_next(&pr, &iov, 1);

	if (len >= VCON_CTRL_SIZE) {
		assert_int_equal(vcon_ctrl_read(&iov, 1, m), 0);
		memcpy(name, buf + VCON_CTRL_SIZE, len - VCON_CTRL_SIZE);
		name[len - VCON_CTRL_SIZE] = 0;
	}
	return len;
}

static void expect_next(uint32_t id, uint16_t event, uint16_t value, const char *name)
{
	struct vcon_msg m;
	char n[64];

	assert_true(next(&m, n) >= VCON_CTRL_SIZE);
	assert_int_equal(m.id, id);
	assert_int_equal(m.event, event);
	assert_int_equal(m.value, value);
	assert_string_equal(n, name ? name : "");
}

static void t_ctrl_read(void **state)
{
	uint8_t raw[8] = { 0x02, 0x01, 0, 0, 6, 0, 1, 0 };
	struct iovec iov[3] = { { raw, 3 }, { raw + 3, 4 }, { raw + 7, 1 } };
	struct vcon_msg m;

	/* Split anywhere; little-endian. */
	assert_int_equal(vcon_ctrl_read(iov, 3, &m), 0);
	assert_int_equal(m.id, 0x102);
	assert_int_equal(m.event, VIRTIO_CONSOLE_PORT_OPEN);
	assert_int_equal(m.value, 1);
	assert_int_equal(vcon_ctrl_read(iov, 2, &m), -EINVAL);
	assert_int_equal(vcon_ctrl_read(iov, 0, &m), -EINVAL);
}

static void t_ctrl_handshake(void **state)
{
	struct vcon_msg m;
	char n[64];

	vcon_init(&pr, 4);
	plug(0, true, NULL);
	plug(2, false, "org.example.port");
	pr.multiport = true;
	assert_false(vcon_port_open(&pr, 0));
	/* Ports before the driver is ready: ignored, nothing owed. */
	assert_int_equal(msg(0, VIRTIO_CONSOLE_PORT_READY, 1), VCON_IGNORED);
	assert_string_equal(why, "event 3 for port 0 before DEVICE_READY");
	assert_int_equal(msg(0, VIRTIO_CONSOLE_DEVICE_READY, 0), VCON_IGNORED);
	assert_int_equal(next(&m, n), 0);

	assert_int_equal(msg(0xffffffff, VIRTIO_CONSOLE_DEVICE_READY, 1), VCON_OK);
	expect_next(0, VIRTIO_CONSOLE_PORT_ADD, 1, NULL);
	expect_next(2, VIRTIO_CONSOLE_PORT_ADD, 1, NULL);
	assert_int_equal(next(&m, n), 0);
	assert_int_equal(msg(0, VIRTIO_CONSOLE_DEVICE_READY, 1), VCON_IGNORED);
	assert_int_equal(next(&m, n), 0);

	/* PORT_OPEN before PORT_READY, a port never added, out of range. */
	assert_int_equal(msg(0, VIRTIO_CONSOLE_PORT_OPEN, 1), VCON_IGNORED);
	assert_int_equal(msg(1, VIRTIO_CONSOLE_PORT_READY, 1), VCON_IGNORED);
	assert_string_equal(why, "event 3 for port 1, which was never added");
	assert_int_equal(msg(4, VIRTIO_CONSOLE_PORT_READY, 1), VCON_IGNORED);
	assert_int_equal(msg(0xffffffff, VIRTIO_CONSOLE_PORT_OPEN, 1), VCON_IGNORED);

	assert_int_equal(msg(0, VIRTIO_CONSOLE_PORT_READY, 1), VCON_OK);
	expect_next(0, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
	expect_next(0, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	assert_int_equal(msg(0, VIRTIO_CONSOLE_PORT_READY, 1), VCON_IGNORED);
	assert_int_equal(msg(2, VIRTIO_CONSOLE_PORT_READY, 1), VCON_OK);
	expect_next(2, VIRTIO_CONSOLE_PORT_NAME, 1, "org.example.port");
	expect_next(2, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	assert_int_equal(next(&m, n), 0);

	assert_false(vcon_port_open(&pr, 0));
	assert_int_equal(msg(0, VIRTIO_CONSOLE_PORT_OPEN, 1), VCON_OPENED);
	assert_true(vcon_port_open(&pr, 0));
	assert_int_equal(msg(0, VIRTIO_CONSOLE_PORT_OPEN, 0), VCON_OK);
	assert_false(vcon_port_open(&pr, 0));
	/* The driver gives up on a port: it goes dark. */
	assert_int_equal(msg(2, VIRTIO_CONSOLE_PORT_OPEN, 1), VCON_OPENED);
	assert_int_equal(msg(2, VIRTIO_CONSOLE_PORT_READY, 0), VCON_IGNORED);
	assert_false(vcon_port_open(&pr, 2));

	/* Messages only the device sends, and nonsense. */
	assert_int_equal(msg(0, VIRTIO_CONSOLE_PORT_ADD, 1), VCON_IGNORED);
	assert_int_equal(msg(0, VIRTIO_CONSOLE_CONSOLE_PORT, 1), VCON_IGNORED);
	assert_int_equal(msg(0, VIRTIO_CONSOLE_RESIZE, 1), VCON_IGNORED);
	assert_int_equal(msg(0, 0xffff, 1), VCON_IGNORED);
	assert_string_equal(why, "unknown event 65535 from the driver");

	/* A reset forgets the handshake, not the ports. */
	vcon_reset(&pr);
	assert_true(pr.ports[2].present);
	assert_false(pr.ports[2].added || pr.ports[2].ready || pr.driver_ready);
	assert_int_equal(msg(0, VIRTIO_CONSOLE_DEVICE_READY, 1), VCON_OK);
	expect_next(0, VIRTIO_CONSOLE_PORT_ADD, 1, NULL);
}

static void t_ctrl_buffers(void **state)
{
	uint8_t a[4], b[10];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct vcon_msg m;

	vcon_init(&pr, 2);
	plug(1, false, "a-rather-long-name");
	pr.multiport = true;
	assert_int_equal(msg(0, VIRTIO_CONSOLE_DEVICE_READY, 1), VCON_OK);
	/* Too small for a header: the driver broke the protocol. */
	assert_int_equal(vcon_ctrl_next(&pr, iov, 1), -EINVAL);
	assert_int_equal(pr.out_count, 1);
	/* A header split over two segments. */
	assert_int_equal(vcon_ctrl_next(&pr, iov, 2), 8);
	assert_int_equal(vcon_ctrl_read(iov, 2, &m), 0);
	assert_int_equal(m.event, VIRTIO_CONSOLE_PORT_ADD);
	assert_int_equal(m.id, 1);
	/* A name cut to the buffer. */
	assert_int_equal(msg(1, VIRTIO_CONSOLE_PORT_READY, 1), VCON_OK);
	assert_int_equal(vcon_ctrl_next(&pr, iov, 2), 14);
	assert_memory_equal(b + 4, "a-rath", 6);
	/* Owed messages are bounded, however the driver flaps. */
	for (int i = 0; i < 1000; i++) {
		msg(1, VIRTIO_CONSOLE_PORT_READY, 0);
		msg(1, VIRTIO_CONSOLE_PORT_READY, 1);
	}
	assert_int_equal(pr.out_count, VCON_OUT_MAX);
}

static void t_pick_nr(void **state)
{
	vcon_init(&pr, 3);
	assert_int_equal(vcon_pick_nr(&pr, -1, true, NULL, why, sizeof(why)), 0);
	assert_int_equal(vcon_pick_nr(&pr, -1, false, "x", why, sizeof(why)), 1);
	assert_int_equal(vcon_pick_nr(&pr, 0, false, "x", why, sizeof(why)), -1);
	assert_string_equal(why, "port 0 is kept for a virtconsole");
	assert_int_equal(vcon_pick_nr(&pr, 3, true, NULL, why, sizeof(why)), -1);
	assert_string_equal(why, "nr=3 is not below max_ports=3");
	plug(0, true, NULL);
	plug(1, false, "x");
	/* A second console goes to the first free port after 0. */
	assert_int_equal(vcon_pick_nr(&pr, -1, true, NULL, why, sizeof(why)), 2);
	assert_int_equal(vcon_pick_nr(&pr, 0, true, NULL, why, sizeof(why)), -1);
	assert_string_equal(why, "port nr=0 is already in use");
	assert_int_equal(vcon_pick_nr(&pr, -1, false, "x", why, sizeof(why)), -1);
	assert_string_equal(why, "port name 'x' is used by port 1");
	plug(2, true, NULL);
	assert_int_equal(vcon_pick_nr(&pr, -1, false, "y", why, sizeof(why)), -1);
	assert_string_equal(why, "no free port (max_ports=3)");
}

/* ---- fake chardevs (tests/common): chrs[0..2] are "c0", "c1", "c2" ---- */

#define chrs	fake_chrs

static size_t input(struct chardev *c, const char *s)
{
	assert_non_null(c->fn);
	return c->fn(c->opaque, (const uint8_t *)s, strlen(s));
}

/* ---- whole devices over virtio-mmio ---- */

#define NQ		6		/* max_ports=2: port 0, control, port 1 */
#define BUF(q, i)	(0x10000ull + 0x1000 * (q) + 0x100 * (i))

/*
 * The next used chain of @q: its buffer's gpa (we post one per chain) and
 * length. The device uses chains as it handles the kick: no loop to run.
 */
static uint32_t take_used(unsigned q, uint64_t *gpa)
{
	struct vring_desc *d = (void *)(ram + QRING(q));
	struct vring_used_elem e;

	assert_true(qused_new(q) > 0);
	e = qused_elem(q, used_seen[q]++);
	if (gpa)
		*gpa = d[e.id].addr;
	return e.len;
}

/* The driver sends one control message. */
static void send_ctrl(uint32_t id, uint16_t event, uint16_t value)
{
	static unsigned n;
	uint64_t gpa = BUF(3, n++ % QSIZE);
	struct vcon_msg m = { htole32(id), htole16(event), htole16(value) };

	memcpy(ram + gpa, &m.id, 4);
	memcpy(ram + gpa + 4, &m.event, 2);
	memcpy(ram + gpa + 6, &m.value, 2);
	qpost_buf(3, gpa, 8, false);
	qkick(3);
	assert_int_equal(take_used(3, NULL), 0);
}

/* The driver reads the device's next control message. */
static void expect_ctrl(uint32_t id, uint16_t event, uint16_t value, const char *name)
{
	uint64_t gpa;
	uint32_t len = take_used(2, &gpa);
	struct iovec iov = { ram + gpa, len };
	struct vcon_msg m;

	assert_int_equal(vcon_ctrl_read(&iov, 1, &m), 0);
	assert_int_equal(m.id, id);
	assert_int_equal(m.event, event);
	assert_int_equal(m.value, value);
	assert_int_equal(len - 8, name ? strlen(name) : 0);
	if (name)
		assert_memory_equal(ram + gpa + 8, name, len - 8);
}

static void fill_ctrl_rx(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		qpost_buf(2, BUF(2, i), 0x100, true);
	qkick(2);
}

static int setup_dev(void **state)
{
	guest_setup();
	fake_chardevs_reset();
	return 0;
}

static int teardown_dev(void **state)
{
	device_destroy_all(&pf);
	for (unsigned i = 0; i < ARRAY_SIZE(chrs); i++)
		assert_null(chrs[i].fn);
	guest_teardown();
	return 0;
}

static void expect_exact_error(const char *opts, const char *want)
{
	int ret = device_create(&pf, opts);

	if (ret >= 0)
		fail_msg("'%s' was accepted", opts);
	if (strcmp(log_last(), want))
		fail_msg("'%s': got \"%s\", want \"%s\"", opts, log_last(), want);
}

static void t_dev_errors(void **state)
{
	expect_exact_error("virtconsole,chardev=c0", "-device virtconsole: no virtio-serial-bus "
			 "to plug into: add -device virtio-serial-device or virtio-serial-pci "
			 "before it");
	assert_int_equal(device_create(&pf, "virtio-serial-device,id=vser0,max_ports=2"), 0);
	expect_exact_error("virtconsole,chardev=nope", "-device virtconsole: no -chardev with id 'nope'");
	expect_exact_error("virtconsole", "-device virtconsole: property 'chardev' is required");
	expect_exact_error("virtconsole,chardev=c0,bus=vser1.0", "-device virtconsole: bus "
			 "'vser1.0' not found (a virtio-serial-bus is named ID.0 after its "
			 "device's id)");
	expect_exact_error("virtserialport,chardev=c0", "-device virtserialport: name= is "
			 "required (the guest's /dev/virtio-ports/NAME)");
	expect_exact_error("virtserialport,chardev=c0,name=p,nr=0", "-device virtserialport: "
			 "port 0 is kept for a virtconsole on vser0");
	assert_int_equal(device_create(&pf, "virtconsole,chardev=c0,bus=vser0.0"), 0);
	expect_exact_error("virtconsole,chardev=c0", "-device virtconsole: chardev 'c0' is in use "
			 "by another device");
	expect_exact_error("virtconsole,chardev=c1,nr=0", "-device virtconsole: port nr=0 is "
			 "already in use on vser0");
	expect_exact_error("virtconsole,chardev=c1,nr=2", "-device virtconsole: nr=2 is not "
			 "below max_ports=2 on vser0");
	assert_int_equal(device_create(&pf, "virtconsole,chardev=c1"), 0);
	expect_exact_error("virtconsole,chardev=c2", "-device virtconsole: no free port "
			 "(max_ports=2) on vser0");
	/* A failed port leaves its chardev free. */
	assert_null(chrs[2].fn);
	expect_exact_error("virtio-serial-device,max_ports=32", "-device virtio-serial-device: "
			 "property 'max_ports': '32' is out of range (1..31)");
}

static void t_pci(void **state)
{
	expect_pci("virtio-serial-pci,id=v,addr=5.0,bus=pci.0", 5, 0, "pci.0");
	expect_exact_error("virtio-serial-pci,addr=40", "-device virtio-serial-pci: addr=40: "
			 "use slot[.function], slot 0..1f, function 0..7");
	assert_int_equal(device_create(&pf, "virtserialport,chardev=c0,name=org.x,bus=v.0"), 0);
	device_destroy_all(&pf);
	assert_null(pci_dev);
}

/* Linux's handshake; then output, and input only as far as there are buffers. */
static void t_multiport(void **state)
{
	struct virtio_console_config cfg;
	uint64_t gpa;

	assert_int_equal(device_create(&pf, "virtio-serial-device,id=vser0,max_ports=2"), 0);
	assert_int_equal(device_create(&pf, "virtconsole,chardev=c0"), 0);
	assert_int_equal(device_create(&pf, "virtserialport,chardev=c1,name=org.example.port"), 0);
	assert_int_equal(rd(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	assert_true(dev_features() & 1ull << VIRTIO_CONSOLE_F_MULTIPORT);
	for (unsigned i = 0; i < 8; i += 4)
		assert_true(bus_read(&pf.mmio, BASE + VIRTIO_MMIO_CONFIG + i, (uint8_t *)&cfg + i, 4));
	assert_int_equal(le32toh(cfg.max_nr_ports), 2);
	wr(VIRTIO_MMIO_QUEUE_SEL, NQ);
	assert_int_equal(rd(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);

	driver_start_queues(1ull << VIRTIO_CONSOLE_F_MULTIPORT, NQ);
	/* Input before the port is open waits in the chardev. */
	qpost_buf(0, BUF(0, 0), 16, true);
	qkick(0);
	assert_int_equal(input(&chrs[0], "early"), 0);

	fill_ctrl_rx(5);
	send_ctrl(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
	expect_ctrl(0, VIRTIO_CONSOLE_PORT_ADD, 1, NULL);
	expect_ctrl(1, VIRTIO_CONSOLE_PORT_ADD, 1, NULL);
	assert_int_equal(qused_new(2), 0);
	send_ctrl(0, VIRTIO_CONSOLE_PORT_READY, 1);
	expect_ctrl(0, VIRTIO_CONSOLE_CONSOLE_PORT, 1, NULL);
	expect_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);
	/* Owed messages wait for buffers. */
	send_ctrl(1, VIRTIO_CONSOLE_PORT_READY, 1);
	expect_ctrl(1, VIRTIO_CONSOLE_PORT_NAME, 1, "org.example.port");
	assert_int_equal(qused_new(2), 0);
	fill_ctrl_rx(2);
	expect_ctrl(1, VIRTIO_CONSOLE_PORT_OPEN, 1, NULL);

	/* The guest opens the console: the chardev is told to send again. */
	assert_int_equal(chrs[0].accepts, 0);
	send_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	assert_int_equal(chrs[0].accepts, 1);
	assert_int_equal(input(&chrs[0], "early"), 5);
	assert_int_equal(take_used(0, &gpa), 5);
	assert_memory_equal(ram + gpa, "early", 5);

	/* Output: port 0 on queue 1, port 1 on queue 5. */
	memcpy(ram + BUF(1, 0), "hello hvc0\n", 11);
	qpost_buf(1, BUF(1, 0), 11, false);
	qkick(1);
	assert_int_equal(take_used(1, NULL), 0);
	assert_int_equal(chrs[0].out_len, 11);
	assert_memory_equal(chrs[0].out, "hello hvc0\n", 11);
	memcpy(ram + BUF(5, 0), "to port 1", 9);
	qpost_buf(5, BUF(5, 0), 9, false);
	qkick(5);
	assert_int_equal(chrs[1].out_len, 9);
	assert_int_equal(chrs[0].out_len, 11);

	/* Input larger than the buffers: take what fits, wake when there is room. */
	qpost_buf(0, BUF(0, 1), 4, true);
	qkick(0);
	assert_int_equal(chrs[0].accepts, 1);	/* nobody was waiting */
	assert_int_equal(input(&chrs[0], "0123456789"), 4);
	assert_int_equal(take_used(0, &gpa), 4);
	assert_memory_equal(ram + gpa, "0123", 4);
	assert_int_equal(input(&chrs[0], "456789"), 0);
	qpost_buf(0, BUF(0, 2), 3, true);
	qpost_buf(0, BUF(0, 3), 16, true);
	qkick(0);
	assert_int_equal(chrs[0].accepts, 2);
	assert_int_equal(input(&chrs[0], "456789"), 6);
	assert_int_equal(take_used(0, &gpa), 3);
	assert_memory_equal(ram + gpa, "456", 3);
	assert_int_equal(take_used(0, &gpa), 3);
	assert_memory_equal(ram + gpa, "789", 3);
	/* Port 1 is not open in the guest: its input waits. */
	qpost_buf(4, BUF(4, 0), 16, true);
	qkick(4);
	assert_int_equal(input(&chrs[1], "x"), 0);

	/* A reset closes everything until the handshake is done again. */
	driver_start_queues(1ull << VIRTIO_CONSOLE_F_MULTIPORT, NQ);
	qpost_buf(0, BUF(0, 0), 16, true);
	qkick(0);
	assert_int_equal(input(&chrs[0], "x"), 0);
}

/* A driver without multiport: port 0 is a console from DRIVER_OK on. */
static void t_single_port(void **state)
{
	uint64_t gpa;

	assert_int_equal(device_create(&pf, "virtio-serial-device,max_ports=1"), 0);
	assert_false(dev_features() & 1ull << VIRTIO_CONSOLE_F_MULTIPORT);
	assert_int_equal(device_create(&pf, "virtconsole,chardev=c0"), 0);
	assert_int_equal(input(&chrs[0], "ab"), 0);
	driver_start_queues(0, 2);
	assert_int_equal(chrs[0].accepts, 1);
	assert_int_equal(input(&chrs[0], "ab"), 0);	/* no buffers yet */
	qpost_buf(0, BUF(0, 0), 16, true);
	qkick(0);
	assert_int_equal(chrs[0].accepts, 2);
	assert_int_equal(input(&chrs[0], "ab"), 2);
	assert_int_equal(take_used(0, &gpa), 2);
	memcpy(ram + BUF(1, 0), "out", 3);
	qpost_buf(1, BUF(1, 0), 3, false);
	qkick(1);
	assert_int_equal(chrs[0].out_len, 3);
}

/* A hostile driver: control garbage is ignored, the ports keep working. */
static void t_hostile(void **state)
{
	assert_int_equal(device_create(&pf, "virtio-serial-device,max_ports=2"), 0);
	assert_int_equal(device_create(&pf, "virtconsole,chardev=c0"), 0);
	driver_start_queues(1ull << VIRTIO_CONSOLE_F_MULTIPORT, NQ);
	fill_ctrl_rx(QSIZE);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	/* Short, unknown, out of order, out of range: warned once, then debug. */
	log_set_file(f);
	log_set_quiet(0);
	qpost_buf(3, BUF(3, 7), 5, false);
	qkick(3);
	assert_int_equal(take_used(3, NULL), 0);
	send_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	send_ctrl(7, VIRTIO_CONSOLE_PORT_ADD, 1);
	send_ctrl(0xffffffff, VIRTIO_CONSOLE_PORT_READY, 1);
	log_set_quiet(1);
	log_set_file(NULL);
	fclose(f);
	assert_string_equal(text, "ember: warning: virtio-serial-device: control message ignored: "
			    "shorter than 8 bytes\n");
	free(text);
	assert_string_equal(log_last(), "virtio-serial-device: control message ignored: "
			    "event 3 for port 4294967295 before DEVICE_READY");
	assert_int_equal(qused_new(2), 0);
	assert_int_equal(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
	send_ctrl(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
	send_ctrl(0, VIRTIO_CONSOLE_PORT_READY, 1);
	send_ctrl(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
	expect_ctrl(0, VIRTIO_CONSOLE_PORT_ADD, 1, NULL);
	qpost_buf(0, BUF(0, 0), 16, true);
	qkick(0);
	assert_int_equal(input(&chrs[0], "ok"), 2);
	/* A control receive buffer too small for a message breaks the protocol. */
	driver_start_queues(1ull << VIRTIO_CONSOLE_F_MULTIPORT, NQ);
	qpost_buf(2, BUF(2, 0), 4, true);
	qkick(2);
	send_ctrl(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
	assert_true(rd(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* ... until the driver resets it. */
	driver_start_queues(1ull << VIRTIO_CONSOLE_F_MULTIPORT, NQ);
	fill_ctrl_rx(2);
	send_ctrl(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
	expect_ctrl(0, VIRTIO_CONSOLE_PORT_ADD, 1, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_ctrl_read),
		cmocka_unit_test(t_ctrl_handshake),
		cmocka_unit_test(t_ctrl_buffers),
		cmocka_unit_test(t_pick_nr),
		cmocka_unit_test_setup_teardown(t_dev_errors, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_pci, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_multiport, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_single_port, setup_dev, teardown_dev),
		cmocka_unit_test_setup_teardown(t_hostile, setup_dev, teardown_dev),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
