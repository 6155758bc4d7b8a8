/*
 * virtio-console's multiport control protocol (virtio 1.2 section 5.3.6.2),
 * kept apart from the device so that it is tested and fuzzed on its own:
 * the ports' state, what each driver message does to it, and the messages
 * the device owes the driver, queued until the driver gives buffers.
 */
#ifndef EMBER_VIRTIO_CONSOLE_H
#define EMBER_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <linux/virtio_console.h>

/* 2 queues per port plus the control pair: 64 queues, QEMU's default too. */
#define VCON_MAX_PORTS		31
#define VCON_CTRL_SIZE		8	/* struct virtio_console_control */
/* ADD, CONSOLE, NAME, OPEN per port, plus slack for READY 0/1 flapping. */
#define VCON_OUT_MAX		(4 * VCON_MAX_PORTS + 4)
#define VCON_NAME_MAX		127

struct vcon_msg {
	uint32_t id;
	uint16_t event, value;
};

struct vcon_port {
	/* From the port device. */
	bool present, console;
	char name[VCON_NAME_MAX + 1];	/* "" when unnamed */
	/* Guest-visible protocol state. */
	bool added;			/* PORT_ADD sent */
	bool ready;			/* the driver answered PORT_READY 1 */
	bool guest_open;		/* the driver said PORT_OPEN 1 */
};

struct vcon_proto {
	unsigned max_ports;
	bool multiport;			/* negotiated; without it port 0 is a console */
	bool driver_ready;
	struct vcon_port ports[VCON_MAX_PORTS];
	struct vcon_msg out[VCON_OUT_MAX];	/* owed to the driver, oldest first */
	unsigned out_head, out_count;
};

/* What a driver message did. */
enum vcon_result {
	VCON_OK,
	VCON_OPENED,		/* a port became open: its input may flow */
	VCON_IGNORED,		/* malformed or out of order: @why says why */
};

void vcon_init(struct vcon_proto *p, unsigned max_ports);
/* Driver reset: the ports stay plugged, the protocol starts over. */
void vcon_reset(struct vcon_proto *p);
/*
 * Port numbers as QEMU gives them: @want (or -1 for any) must be below
 * max_ports and free; 0 is kept for a console. Returns the number or -1
 * with @why filled.
 */
int vcon_pick_nr(const struct vcon_proto *p, int want, bool console, const char *name,
		 char *why, size_t why_size);
/* Can the port take input from its chardev (the driver has it open)? */
bool vcon_port_open(const struct vcon_proto *p, unsigned nr);

/* Reads a control message from a chain's readable segments; -EINVAL if short. */
int vcon_ctrl_read(const struct iovec *iov, unsigned n, struct vcon_msg *m);
/* Applies a driver message; owed replies go to p->out. */
enum vcon_result vcon_ctrl_handle(struct vcon_proto *p, const struct vcon_msg *m,
				  char *why, size_t why_size);
/*
 * Writes the oldest owed message into @iov (a control receiveq buffer, @n
 * writable segments). Returns its length (the name is cut to fit), 0 when
 * nothing is owed, -EINVAL when the buffer cannot hold a header.
 */
int vcon_ctrl_next(struct vcon_proto *p, const struct iovec *iov, unsigned n);

/* Copies @len bytes of @buf into the segments; returns the bytes copied. */
size_t vcon_copy_to_iov(const struct iovec *iov, unsigned n, const uint8_t *buf, size_t len);

#endif
