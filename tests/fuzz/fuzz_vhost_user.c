/*
 * Daemon replies through the vhost-user front end: the input is what a
 * back end sends, queued on a socketpair whose writing side is then shut
 * (so the front end sees EOF, never a timeout), and the front end runs
 * its handshake, GET_CONFIG and GET_VRING_BASE against it. Any reply
 * stream is refused with an error or accepted with values in range; never
 * a crash, a hang or a leaked fd.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "backends/vhost_user.h"
#include "lib/log.h"
#include "lib/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vhost_user vu;
	uint8_t cfg[60];
	uint32_t num;
	int sv[2];

	/* A unix socket's buffer holds the whole input: the writes below never block. */
	if (size > 65536)
		return 0;
	log_set_quiet(1);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	if (size && write(sv[1], data, size) != (ssize_t)size)
		abort();
	shutdown(sv[1], SHUT_WR);
	if (!vhost_user_connect(&vu, sv[0], "fuzz", BIT(VHOST_USER_PROTOCOL_F_CONFIG),
				BIT(VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD))) {
		struct vhost_user_inflight inf;
		int fd;

		if (vu.queues < 1 || vu.queues > 1024 || vu.broken)
			abort();
		vu.timeout_ms = 0;
		if (!vhost_user_get_config(&vu, cfg, sizeof(cfg)) &&
		    !vhost_user_get_vring_base(&vu, 0, &num) && num > 0xffff)
			abort();
		/* A reply never carries an fd here (the input is bytes): always refused. */
		if (!vhost_user_get_inflight_fd(&vu, 1, 128, &inf, &fd) || fd != -1)
			abort();
	}
	vhost_user_close(&vu);
	close(sv[1]);
	return 0;
}
