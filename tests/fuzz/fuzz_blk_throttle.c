/*
 * -blockdev option strings through the throttling.* parser: any string is
 * refused with a message or gives limits that obey QEMU's rules.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backends/block_internal.h"
#include "lib/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ratelimit_cfg cfg[BLK_TH_N];
	char *s = malloc(size + 1);
	struct keyval kv;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	log_set_quiet(1);
	if (!keyval_parse(s, "driver", "-blockdev", &kv)) {
		if (!blk_throttle_parse(&kv, cfg, "fuzz")) {
			for (unsigned i = 0; i < BLK_TH_N; i++) {
				if ((cfg[i].bps_burst && cfg[i].bps_burst < cfg[i].bps) ||
				    (cfg[i].ops_burst && cfg[i].ops_burst < cfg[i].ops))
					abort();
			}
			if ((cfg[BLK_TH_TOTAL].bps && (cfg[BLK_TH_READ].bps || cfg[BLK_TH_WRITE].bps)) ||
			    (cfg[BLK_TH_TOTAL].ops && (cfg[BLK_TH_READ].ops || cfg[BLK_TH_WRITE].ops)))
				abort();
		}
		keyval_free(&kv);
	}
	free(s);
	return 0;
}
