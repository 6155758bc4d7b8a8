/*
 * throttling.* on a -blockdev node, with QEMU's names (the -drive ones):
 * a bytes and an operations bucket over the node's reads plus writes
 * (-total), or over each direction (-read, -write), the -max values being
 * the buckets' sizes (QEMU's burst with its default length of one second).
 * The queue of waiting requests is in block_io.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/block_internal.h"
#include "lib/log.h"

/* QEMU's THROTTLE_VALUE_MAX. */
#define THROTTLE_MAX 1000000000000000ULL

struct opts {
	struct ratelimit_cfg c[BLK_TH_N];
};

#define LIMIT(name, i, field, help)					\
	{ "throttling." name, PROP_U64, offsetof(struct opts, c[i].field), NULL,	\
	  help, 0, THROTTLE_MAX }

static const struct prop throttle_props[] = {
	LIMIT("bps-total", BLK_TH_TOTAL, bps, "bytes per second read plus written (0: no limit)"),
	LIMIT("iops-total", BLK_TH_TOTAL, ops, "reads plus writes per second (0: no limit)"),
	LIMIT("bps-total-max", BLK_TH_TOTAL, bps_burst,
	      "burst in bytes (default: 1/10 s of bps-total)"),
	LIMIT("iops-total-max", BLK_TH_TOTAL, ops_burst,
	      "burst in operations (default: 1/10 s of iops-total)"),
	LIMIT("bps-read", BLK_TH_READ, bps, "bytes read per second (not with bps-total)"),
	LIMIT("iops-read", BLK_TH_READ, ops, "reads per second (not with iops-total)"),
	LIMIT("bps-read-max", BLK_TH_READ, bps_burst, "burst of bps-read"),
	LIMIT("iops-read-max", BLK_TH_READ, ops_burst, "burst of iops-read"),
	LIMIT("bps-write", BLK_TH_WRITE, bps, "bytes written per second (not with bps-total)"),
	LIMIT("iops-write", BLK_TH_WRITE, ops, "writes per second (not with iops-total)"),
	LIMIT("bps-write-max", BLK_TH_WRITE, bps_burst, "burst of bps-write"),
	LIMIT("iops-write-max", BLK_TH_WRITE, ops_burst, "burst of iops-write"),
	{ NULL }
};

static const char *const which[BLK_TH_N] = { "total", "read", "write" };

void blk_throttle_help(FILE *f)
{
	props_help(throttle_props, f);
}

static int check(uint64_t rate, uint64_t max, const char *kind, unsigned i,
		 const char *owner)
{
	if (max && !rate) {
		err_msg("%s: throttling.%s-%s-max needs throttling.%s-%s", owner, kind,
			which[i], kind, which[i]);
		return -EINVAL;
	}
	if (max && max < rate) {
		err_msg("%s: throttling.%s-%s-max (%llu) cannot be lower than "
			"throttling.%s-%s (%llu)", owner, kind, which[i],
			(unsigned long long)max, kind, which[i], (unsigned long long)rate);
		return -EINVAL;
	}
	return 0;
}

/* As in QEMU, a -total limit excludes the -read/-write ones of its kind. */
static int check_all(const struct opts *o, const char *owner)
{
	const struct ratelimit_cfg *c = o->c;
	int ret = 0;

	for (unsigned i = 0; i < BLK_TH_N && !ret; i++) {
		ret = check(c[i].bps, c[i].bps_burst, "bps", i, owner);
		if (!ret)
			ret = check(c[i].ops, c[i].ops_burst, "iops", i, owner);
	}
	if (!ret && c[BLK_TH_TOTAL].bps && (c[BLK_TH_READ].bps || c[BLK_TH_WRITE].bps)) {
		err_msg("%s: throttling.bps-total and throttling.bps-read/-write "
			"cannot be used together", owner);
		ret = -EINVAL;
	}
	if (!ret && c[BLK_TH_TOTAL].ops && (c[BLK_TH_READ].ops || c[BLK_TH_WRITE].ops)) {
		err_msg("%s: throttling.iops-total and throttling.iops-read/-write "
			"cannot be used together", owner);
		ret = -EINVAL;
	}
	return ret;
}

int blk_throttle_parse(struct keyval *kv, struct ratelimit_cfg cfg[BLK_TH_N],
		       const char *owner)
{
	struct keyval sub = { 0 };
	struct opts o = { 0 };
	int ret = 0;

	memset(cfg, 0, BLK_TH_N * sizeof(*cfg));
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
	ret = props_apply(throttle_props, &o, &sub, owner);
	if (!ret)
		ret = check_all(&o, owner);
	if (!ret)
		memcpy(cfg, o.c, sizeof(o.c));
	free(sub.pairs);
	return ret;
}
