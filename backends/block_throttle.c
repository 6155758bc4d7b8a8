/*
 * throttling.* on a -blockdev node, with QEMU's names (the -drive ones):
 * a bytes and an operations bucket over the node's reads and writes, the
 * -max values being the buckets' sizes (QEMU's burst with its default
 * length of one second). The queue of waiting requests is in block_io.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/block_internal.h"
#include "lib/log.h"

/* QEMU's THROTTLE_VALUE_MAX. */
#define THROTTLE_MAX 1000000000000000ULL

static const struct prop throttle_props[] = {
	{ "throttling.bps-total", PROP_U64, offsetof(struct ratelimit_cfg, bps), NULL,
	  "bytes per second read plus written (0: no limit)", 0, THROTTLE_MAX },
	{ "throttling.iops-total", PROP_U64, offsetof(struct ratelimit_cfg, ops), NULL,
	  "reads plus writes per second (0: no limit)", 0, THROTTLE_MAX },
	{ "throttling.bps-total-max", PROP_U64, offsetof(struct ratelimit_cfg, bps_burst),
	  NULL, "burst in bytes (default: 1/10 s of bps-total)", 0, THROTTLE_MAX },
	{ "throttling.iops-total-max", PROP_U64, offsetof(struct ratelimit_cfg, ops_burst),
	  NULL, "burst in operations (default: 1/10 s of iops-total)", 0, THROTTLE_MAX },
	{ NULL }
};

void blk_throttle_help(FILE *f)
{
	props_help(throttle_props, f);
}

static int check(uint64_t rate, uint64_t max, const char *what, const char *owner)
{
	if (max && !rate) {
		err_msg("%s: throttling.%s-total-max needs throttling.%s-total", owner,
			what, what);
		return -EINVAL;
	}
	if (max && max < rate) {
		err_msg("%s: throttling.%s-total-max (%llu) cannot be lower than "
			"throttling.%s-total (%llu)", owner, what, (unsigned long long)max,
			what, (unsigned long long)rate);
		return -EINVAL;
	}
	return 0;
}

int blk_throttle_parse(struct keyval *kv, struct ratelimit_cfg *cfg, const char *owner)
{
	struct keyval sub = { 0 };
	int ret = 0;

	memset(cfg, 0, sizeof(*cfg));
	/* Only the throttling.* keys: the driver's own table checks the rest. */
	for (unsigned i = 0; i < kv->n; i++) {
		if (strncmp(kv->pairs[i].key, "throttling.", 11))
			continue;
		if (!sub.pairs && !(sub.pairs = calloc(kv->n, sizeof(*sub.pairs)))) {
			err_msg("%s: out of memory", owner);
			return -ENOMEM;
		}
		kv->pairs[i].used = true;
		sub.pairs[sub.n++] = (struct kv_pair){ kv->pairs[i].key, kv->pairs[i].val };
	}
	if (!sub.n)
		return 0;
	ret = props_apply(throttle_props, cfg, &sub, owner);
	if (!ret)
		ret = check(cfg->bps, cfg->bps_burst, "bps", owner);
	if (!ret)
		ret = check(cfg->ops, cfg->ops_burst, "iops", owner);
	free(sub.pairs);
	return ret;
}
