/*
 * -netdev user's own parsers: hostfwd= and net=/host=/dhcpstart=/dns=.
 * Input: up to five lines, in that order; what parses must make sense.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/net.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *f[5] = { NULL }, *save = NULL, *line;
	struct netdev_user_fwd fwd;
	struct netdev_user_net n;
	const char *why = NULL;
	unsigned k = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	log_set_quiet(1);
	for (line = strtok_r(s, "\n", &save); line && k < 5; line = strtok_r(NULL, "\n", &save))
		f[k++] = line;
	if (f[0]) {
		if (!netdev_user_parse_fwd(f[0], &fwd, &why)) {
			if (!fwd.gport)
				abort();
		} else if (!why) {
			abort();
		}
	}
	why = NULL;
	if (!netdev_user_parse_net(f[0], f[1], f[2], f[3], &n, &why)) {
		uint32_t net = ntohl(n.net.s_addr), mask = ntohl(n.mask.s_addr);
		struct in_addr a[3] = { n.host, n.dhcp, n.dns };

		if (!mask || (mask & (~mask >> 1)) || (net & ~mask))
			abort();
		for (unsigned i = 0; i < 3; i++) {
			uint32_t v = ntohl(a[i].s_addr);

			if ((v & mask) != net || v == net || (v & ~mask) == ~mask)
				abort();
		}
	} else if (!why) {
		abort();
	}
	free(s);
	return 0;
}
