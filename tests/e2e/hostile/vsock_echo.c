/*
 * vsock test peer for the e2e cases (built static by tests/e2e/run).
 *   vsock_echo listen PORT [N]   accept N connections (default 1) on
 *                                VMADDR_CID_ANY:PORT, echo each until EOF;
 *                                prints LISTENING, then per connection
 *                                "ACCEPTED cid=C" and "ECHOED bytes=B hash=H"
 *   vsock_echo connect CID PORT [BYTES]
 *                                send BYTES (default 1 MiB) of pseudo-random
 *                                data, read the echo back and compare it byte
 *                                for byte; prints "ECHO-OK bytes=B hash=H" or
 *                                ECHO-FAIL with the reason
 *   vsock_echo cid               prints "LOCAL-CID C" (IOCTL_VM_SOCKETS_GET_LOCAL_CID)
 * hash is FNV-1a 64 of the stream, so both ends can be compared in the log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

#define CHUNK 65536

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

/* xorshift64*: the same stream on both sides of the comparison. */
static uint8_t prng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint8_t)((*s * 0x2545f4914f6cdd1dull) >> 56);
}

static int die(const char *what)
{
	printf("ECHO-FAIL %s: %s\n", what, strerror(errno));
	fflush(stdout);
	return 1;
}

static int do_listen(unsigned port, int n)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = port };
	static uint8_t buf[CHUNK];
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (s < 0)
		return die("socket");
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4))
		return die("bind/listen");
	printf("LISTENING port=%u\n", port);
	fflush(stdout);
	while (n-- > 0) {
		struct sockaddr_vm peer;
		socklen_t len = sizeof(peer);
		uint64_t total = 0, h = 0xcbf29ce484222325ull;
		ssize_t r;
		int c = accept(s, (struct sockaddr *)&peer, &len);

		if (c < 0)
			return die("accept");
		printf("ACCEPTED cid=%u port=%u\n", peer.svm_cid, peer.svm_port);
		fflush(stdout);
		while ((r = read(c, buf, sizeof(buf))) > 0) {
			h = fnv(h, buf, r);
			total += r;
			for (ssize_t off = 0, w; off < r; off += w) {
				w = write(c, buf + off, r - off);
				if (w <= 0)
					return die("write");
			}
		}
		if (r < 0)
			return die("read");
		printf("ECHOED bytes=%" PRIu64 " hash=%016" PRIx64 "\n", total, h);
		fflush(stdout);
		close(c);
	}
	close(s);
	return 0;
}

/* Writes and reads at once: the echo must not fill both ends' buffers. */
static int do_connect(unsigned cid, unsigned port, uint64_t bytes)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
	static uint8_t out[CHUNK], in[CHUNK];
	uint64_t sent = 0, got = 0, tx = 0x9e3779b97f4a7c15ull, rx = tx;
	uint64_t h = 0xcbf29ce484222325ull;
	size_t out_len = 0, out_off = 0;
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (s < 0)
		return die("socket");
	if (connect(s, (struct sockaddr *)&a, sizeof(a)))
		return die("connect");
	fcntl(s, F_SETFL, O_NONBLOCK);
	while (got < bytes) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t r;

		if (sent < bytes || out_off < out_len)
			p.events |= POLLOUT;
		if (poll(&p, 1, 30000) <= 0) {
			printf("ECHO-FAIL stalled: sent=%" PRIu64 " got=%" PRIu64 "\n", sent, got);
			return 1;
		}
		if (out_off == out_len && sent < bytes) {
			out_len = bytes - sent < CHUNK ? bytes - sent : CHUNK;
			for (size_t i = 0; i < out_len; i++)
				out[i] = prng(&tx);
			out_off = 0;
			sent += out_len;
		}
		if ((p.revents & POLLOUT) && out_off < out_len) {
			r = write(s, out + out_off, out_len - out_off);
			if (r < 0 && errno != EAGAIN)
				return die("write");
			out_off += r > 0 ? r : 0;
			if (sent == bytes && out_off == out_len)
				shutdown(s, SHUT_WR);
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = read(s, in, sizeof(in));
			if (r < 0 && errno != EAGAIN)
				return die("read");
			if (r == 0) {
				printf("ECHO-FAIL early EOF: got=%" PRIu64 " of %" PRIu64 "\n", got, bytes);
				return 1;
			}
			for (ssize_t i = 0; i < r; i++) {
				if (in[i] != prng(&rx)) {
					printf("ECHO-FAIL byte %" PRIu64 " differs\n", got + i);
					return 1;
				}
			}
			if (r > 0) {
				h = fnv(h, in, r);
				got += r;
			}
		}
	}
	printf("ECHO-OK bytes=%" PRIu64 " hash=%016" PRIx64 "\n", got, h);
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "listen"))
		return do_listen(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 1);
	if (argc >= 4 && !strcmp(argv[1], "connect"))
		return do_connect(strtoul(argv[2], NULL, 0), atoi(argv[3]),
				  argc > 4 ? strtoull(argv[4], NULL, 0) : 1 << 20);
	if (argc == 2 && !strcmp(argv[1], "cid")) {
		unsigned cid = 0;
		int fd = open("/dev/vsock", O_RDONLY);

		if (fd < 0 || ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid))
			return die("/dev/vsock");
		printf("LOCAL-CID %u\n", cid);
		return 0;
	}
	fprintf(stderr, "usage: vsock_echo listen PORT [N] | connect CID PORT [BYTES] | cid\n");
	return 2;
}
