/*
 * raw_frames: a guest that sends IPv4 fragments no stack would, through an
 * AF_PACKET socket, at -netdev user (tests/e2e/cases/net-user-hostile.sh).
 *
 *   raw_frames IFACE lone-last        a last fragment whose first never comes
 *   raw_frames IFACE ping-reversed    an ICMP echo to 10.0.2.2 in two
 *                                     fragments, the last one first; waits 5 s
 *                                     for the whole reply
 *   raw_frames IFACE random N SEED    N frames: IPv4 headers with valid
 *                                     checksums and random fragment fields,
 *                                     lengths and payloads, and raw noise
 *
 * The guest is 10.0.2.15 and the gateway 10.0.2.2 (slirp's defaults).
 * Prints one line per mode: SENT ..., or REPLY len=N ok|bad.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fd;
static struct sockaddr_ll to;
static uint8_t mac[6];

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned sum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

/* Ethernet + IPv4 header of a fragment carrying n bytes; returns the frame's length. */
static size_t ip4(uint8_t *f, unsigned proto, unsigned id, unsigned frag, size_t n)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	put16(f + 12, 0x0800);
	memset(f + 14, 0, 20);
	f[14] = 0x45;
	put16(f + 16, (unsigned)(20 + n));
	put16(f + 18, id);
	put16(f + 20, frag);
	f[22] = 64;
	f[23] = (uint8_t)proto;
	f[26] = 10, f[28] = 2, f[29] = 15;
	f[30] = 10, f[32] = 2, f[33] = 2;
	put16(f + 24, sum(f + 14, 20));
	return 34 + n;
}

static void send_frame(const uint8_t *f, size_t len)
{
	if (sendto(fd, f, len, 0, (struct sockaddr *)&to, sizeof(to)) >= 0)
		return;
	if (getenv("RAW_DEBUG"))
		perror("sendto");
	if (errno != EMSGSIZE && errno != EINVAL) {
		perror("sendto");
		exit(1);
	}
}

static void lone_last(void)
{
	uint8_t f[128];

	memset(f, 0, sizeof(f));
	send_frame(f, ip4(f, 17, 0x4242, 64 / 8, 32));
	puts("SENT lone-last");
}

static void ping_reversed(void)
{
	uint8_t icmp[1008], f[1100], r[2048];
	time_t end = time(NULL) + 5;

	memset(icmp, 0, sizeof(icmp));
	icmp[0] = 8;
	put16(icmp + 4, 0x5151);
	for (size_t i = 8; i < sizeof(icmp); i++)
		icmp[i] = (uint8_t)i;
	put16(icmp + 2, sum(icmp, sizeof(icmp)));
	memcpy(f + 34, icmp + 504, 504);
	send_frame(f, ip4(f, 1, 0x5151, 504 / 8, 504));
	memcpy(f + 34, icmp, 504);
	send_frame(f, ip4(f, 1, 0x5151, 0x2000, 504));
	while (time(NULL) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, 500) <= 0)
			continue;
		n = recv(fd, r, sizeof(r), 0);
		if (getenv("RAW_DEBUG"))
			printf("RX %zd %02x%02x p=%u t=%u id=%04x\n", n, r[12], r[13], r[23], r[34], r[38] << 8 | r[39]);
		if (n < 42 || r[12] != 0x08 || r[13] != 0 || r[23] != 1 || r[34] != 0 ||
		    (r[38] << 8 | r[39]) != 0x5151)
			continue;
		printf("REPLY len=%zd %s\n", n,
		       n == 34 + (ssize_t)sizeof(icmp) && !memcmp(r + 42, icmp + 8, sizeof(icmp) - 8)
		       ? "ok" : "bad");
		return;
	}
	puts("REPLY none");
}

static void random_frames(unsigned n, unsigned seed)
{
	static const unsigned protos[] = { 1, 6, 17, 0, 255 };
	uint8_t f[1514];

	srand(seed);
	for (unsigned i = 0; i < n; i++) {
		size_t len = 34 + (size_t)rand() % (sizeof(f) - 34);

		for (size_t j = 0; j < len; j++)
			f[j] = (uint8_t)rand();
		if (i % 4) {
			unsigned frag = (unsigned)rand() & (i % 3 ? 0x3fff : 0x2007);

			len = ip4(f, protos[rand() % 5], (unsigned)rand() % 4, frag, len - 34);
		}
		send_frame(f, len);
	}
	printf("SENT random %u\n", n);
}

int main(int argc, char **argv)
{
	FILE *a;
	char path[128];

	if (argc < 3)
		return 2;
	snprintf(path, sizeof(path), "/sys/class/net/%s/address", argv[1]);
	if (!(a = fopen(path, "r")) || fscanf(a, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
					       &mac[2], &mac[3], &mac[4], &mac[5]) != 6) {
		fprintf(stderr, "cannot read %s\n", path);
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(0x0800));
	if (fd < 0) {
		perror("socket");
		return 2;
	}
	to.sll_family = AF_PACKET;
	to.sll_ifindex = (int)if_nametoindex(argv[1]);
	to.sll_halen = 6;
	memset(to.sll_addr, 0xff, 6);
	if (!strcmp(argv[2], "lone-last"))
		lone_last();
	else if (!strcmp(argv[2], "ping-reversed"))
		ping_reversed();
	else if (!strcmp(argv[2], "random") && argc == 5)
		random_frames((unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
	else
		return 2;
	return 0;
}
