/*
 * -blockdev: the node graph (file nodes, raw and qcow2 nodes over them),
 * claiming a node for a front end, and the accessors of block.h. Opening
 * images is in block_file.c, the qcow2 format in block_qcow2.c, the
 * io_uring data path in block_io.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/block_internal.h"
#include "lib/log.h"
#include "lib/props.h"
#include "lib/util.h"

static const struct object_type file_type, raw_type, qcow2_type;

struct blk *blk_find(const char *node_name)
{
	struct object *o = object_find(OBJ_BLOCKDEV, node_name);

	return o ? container_of(o, struct blk, obj) : NULL;
}

static void node_free(struct blk *b)
{
	if (b->queues)
		blk_io_stop(b, false);
	qcow2_close(b->qcow2);
	if (b->backing)
		object_release(&b->backing->obj);
	if (b->file)
		object_release(&b->file->obj);
	blk_file_close(b);
	object_del(&b->obj);
	free(b);
}

/* Added once complete: a raw node comes after its file node, and goes first. */
static int node_add(struct blk *b, const char *name, const char *owner)
{
	const struct object_type *t = &file_type;

	if (!strcmp(b->driver, "raw"))
		t = &raw_type;
	else if (!strcmp(b->driver, "qcow2"))
		t = &qcow2_type;
	return object_add(&b->obj, t, name, owner);
}

static struct blk *node_new(const char *driver, struct loop *loop, const char *owner)
{
	struct blk *b = calloc(1, sizeof(*b));

	if (!b) {
		err_msg("%s: out of memory", owner);
		return NULL;
	}
	b->driver = driver;
	b->loop = loop;
	b->fd = -1;
	return b;
}

/* discard=: QEMU's words, plus on/off. 1 unmap, 0 ignore, -EINVAL. */
int blk_parse_discard(const char *s, const char *owner)
{
	if (!strcmp(s, "unmap") || !strcmp(s, "on"))
		return 1;
	if (!strcmp(s, "ignore") || !strcmp(s, "off"))
		return 0;
	err_msg("%s: discard=%s: use unmap or ignore", owner, s);
	return -EINVAL;
}

static int create_file(const char *name, struct keyval *kv, struct loop *loop,
		       const char *owner, struct blk **out)
{
	struct blk *b = node_new("file", loop, owner);
	int ret;

	if (!b)
		return -ENOMEM;
	ret = blk_throttle_parse(kv, b->throttle_cfg, owner);
	if (!ret)
		ret = blk_file_open(b, kv, owner);
	if (!ret)
		ret = node_add(b, name, owner);
	if (ret) {
		node_free(b);
		return ret;
	}
	*out = b;
	return 0;
}

struct raw_opts {
	char *file;
	bool ro, direct, no_flush;
	char *discard;
};

static const struct prop raw_props[] = {
	{ "file", PROP_STR, offsetof(struct raw_opts, file), NULL,
	  "node-name of the file node below (or file.driver=file,file.filename=...)" },
	{ "read-only", PROP_BOOL, offsetof(struct raw_opts, ro), "off",
	  "refuse writes" },
	{ "discard", PROP_STR, offsetof(struct raw_opts, discard), "ignore",
	  "unmap: pass discards down; ignore" },
	{ "cache.direct", PROP_BOOL, offsetof(struct raw_opts, direct), "off",
	  "O_DIRECT on the file node below (given to a nested file.*; a named one "
	  "keeps its own)" },
	{ "cache.no-flush", PROP_BOOL, offsetof(struct raw_opts, no_flush), "off",
	  "ignore the guest's flushes (QEMU's cache=unsafe: data may be lost)" },
	{ NULL }
};

/*
 * file.driver=file,file.filename=P: the "file." keys are taken out of @kv
 * (marked used) into @sub, the options of an anonymous file node.
 */
static int split_file_keys(struct keyval *kv, struct keyval *sub, const char *owner)
{
	memset(sub, 0, sizeof(*sub));
	for (unsigned i = 0; i < kv->n; i++) {
		if (strncmp(kv->pairs[i].key, "file.", 5))
			continue;
		if (!sub->pairs && !(sub->pairs = calloc(kv->n + 4, sizeof(*sub->pairs)))) {
			err_msg("%s: out of memory", owner);
			return -ENOMEM;
		}
		kv->pairs[i].used = true;
		if (!strcmp(kv->pairs[i].key, "file.driver"))
			sub->implied = kv->pairs[i].val;
		else
			sub->pairs[sub->n++] = (struct kv_pair){ kv->pairs[i].key + 5,
								 kv->pairs[i].val };
	}
	return 0;
}

/* The nested file node inherits read-only, discard and cache.*, as in QEMU. */
static int create_nested_file(const char *name, struct keyval *sub,
			      const struct raw_opts *o, const char *driver,
			      struct loop *loop, const char *owner, struct blk **out)
{
	struct kv_pair inherit[] = {
		{ (char *)"read-only", o->ro ? (char *)"on" : (char *)"off" },
		{ (char *)"discard", o->discard },
		{ (char *)"cache.direct", o->direct ? (char *)"on" : (char *)"off" },
		{ (char *)"cache.no-flush", o->no_flush ? (char *)"on" : (char *)"off" },
	};
	char fname[80], fowner[160];

	if (sub->implied && strcmp(sub->implied, "file")) {
		err_msg("%s: file.driver=%s: only driver=file can be under a %s node",
			owner, sub->implied, driver);
		return -EINVAL;
	}
	for (unsigned i = 0; i < ARRAY_SIZE(inherit); i++)
		if (!keyval_has(sub, inherit[i].key))
			sub->pairs[sub->n++] = inherit[i];
	snprintf(fname, sizeof(fname), "#%s.file", name);
	snprintf(fowner, sizeof(fowner), "%s: file", owner);
	return create_file(fname, sub, loop, fowner, out);
}

/*
 * qcow2's backing=: a node (claimed), null (none), or absent (what the
 * image's header names).
 */
static int open_qcow2(struct blk *b, const char *name, const char *backing,
		      const char *owner)
{
	struct blk *bottom = blk_bottom(b), *node = NULL;
	struct qcow2_backing_src src = { .mode = QCOW2_BACKING_HEADER, .fd = -1 };
	char user[160];
	int ret;

	if (b->file->file) {
		err_msg("%s: file=%s: a qcow2 node goes over a driver=file node", owner,
			b->file->obj.id);
		return -EINVAL;
	}
	if (bottom->direct) {
		err_msg("%s: cache.direct=on is not supported with qcow2 yet", owner);
		return -EINVAL;
	}
	if (backing && !strcmp(backing, "null")) {
		src.mode = QCOW2_BACKING_NONE;
	} else if (backing) {
		node = blk_find(backing);
		if (!node) {
			err_msg("%s: backing=%s: no -blockdev with node-name '%s'", owner,
				backing, backing);
			return -EINVAL;
		}
		snprintf(user, sizeof(user), "qcow2 node '%s' (backing)", name);
		ret = object_claim(&node->obj, user);
		if (ret) {
			err_msg("%s: backing=%s: node '%s' is already used by %s", owner,
				backing, backing, node->obj.owner);
			return ret;
		}
		b->backing = node;
		src = (struct qcow2_backing_src){ QCOW2_BACKING_NODE, node->qcow2,
						  blk_bottom(node)->fd, blk_size(node) };
	}
	ret = qcow2_open(&b->qcow2, bottom->fd, bottom->filename, b->ro,
			 blk_stack_no_flush(b), &src, owner);
	if (!ret)
		qcow2_set_discard(b->qcow2, b->discard);
	return ret;
}

static int create_raw(const char *name, struct keyval *kv, struct loop *loop,
		      const char *owner, const char *driver)
{
	struct raw_opts o = { 0 };
	struct blk *b = NULL, *file = NULL;
	struct ratelimit_cfg throttle[BLK_TH_N];
	struct keyval sub;
	char user[160];
	int ret, unmap = 0;
	const char *backing = NULL;

	if (!strcmp(driver, "qcow2"))
		backing = keyval_get(kv, "backing");
	ret = split_file_keys(kv, &sub, owner);
	if (!ret)
		ret = blk_throttle_parse(kv, throttle, owner);
	if (!ret)
		ret = props_set_defaults(raw_props, &o, owner);
	if (!ret)
		ret = props_apply(raw_props, &o, kv, owner);
	if (!ret && (unmap = blk_parse_discard(o.discard, owner)) < 0)
		ret = unmap;
	if (ret)
		goto out;
	if (sub.pairs && o.file) {
		err_msg("%s: give either file= or file.*, not both", owner);
		ret = -EINVAL;
	} else if (sub.pairs) {
		ret = create_nested_file(name, &sub, &o, driver, loop, owner, &file);
	} else if (!o.file) {
		err_msg("%s: driver=%s needs file=NODE (a driver=file node-name)", owner,
			driver);
		ret = -EINVAL;
	} else if (!(file = blk_find(o.file))) {
		err_msg("%s: file=%s: no -blockdev with node-name '%s'", owner, o.file, o.file);
		ret = -EINVAL;
	} else if (file->obj.owner) {
		err_msg("%s: node '%s' is already used by %s", owner, o.file, file->obj.owner);
		ret = -EBUSY;
		file = NULL;
	} else if (file->ro && !o.ro) {
		err_msg("%s: node '%s' is read-only: add read-only=on", owner, o.file);
		ret = -EACCES;
		file = NULL;
	}
	if (ret)
		goto out;
	b = node_new(driver, loop, owner);
	snprintf(user, sizeof(user), "%s node '%s'", driver, name);
	ret = b ? object_claim(&file->obj, user) : -ENOMEM;
	if (ret)
		goto out;
	b->file = file;
	memcpy(b->throttle_cfg, throttle, sizeof(throttle));
	b->ro = o.ro || file->ro;
	b->no_flush = o.no_flush;
	b->discard = unmap && file->discard;
	ret = b->driver[0] == 'q' ? open_qcow2(b, name, backing, owner) : 0;
	if (!ret)
		ret = node_add(b, name, owner);
	if (ret)
		goto out;
	b = NULL;
	file = NULL;
out:
	if (b) {
		b->file = NULL;		/* released or freed just below */
		node_free(b);
	}
	/* A nested file node is only ever ours: drop it on failure. */
	if (file && file->obj.id[0] == '#')
		node_free(file);
	else if (file)
		object_release(&file->obj);
	free(sub.pairs);
	props_free(raw_props, &o);
	return ret;
}

/* -blockdev driver=file|raw: messages name the node, as QEMU's do. */
static int node_create(const struct object_args *a)
{
	char owner[128];
	struct blk *b;

	snprintf(owner, sizeof(owner), "-blockdev node-name=%s", a->id);
	if (a->type == &raw_type || a->type == &qcow2_type)
		return create_raw(a->id, a->kv, a->loop, owner, a->type->name);
	return create_file(a->id, a->kv, a->loop, owner, &b);
}

int blk_attach(struct blk *b, const char *owner, unsigned queues, unsigned depth)
{
	int ret;

	ret = object_claim(&b->obj, owner);
	if (ret)
		return ret;
	if (!queues || !depth) {
		err_msg("%s: drive '%s': no queues", owner, b->obj.id);
		ret = -EINVAL;
	} else {
		ret = blk_io_start(b, queues, depth, owner);
	}
	if (ret)
		object_release(&b->obj);
	return ret;
}

void blk_detach(struct blk *b)
{
	if (b->queues)
		blk_io_stop(b, true);
	b->batch_end = NULL;
	b->batch_opaque = NULL;
	object_release(&b->obj);
}

void blk_set_batch_end(struct blk *b, blk_batch_fn fn, void *opaque)
{
	b->batch_end = fn;
	b->batch_opaque = opaque;
}

uint64_t blk_size(const struct blk *b)
{
	struct qcow2 *q = blk_format(b);

	return q ? qcow2_size(q) : blk_bottom(b)->size;
}

bool blk_read_only(const struct blk *b)
{
	return b->ro;
}

bool blk_discard_supported(const struct blk *b)
{
	return b->discard && !b->ro;
}

const char *blk_node_name(const struct blk *b)
{
	return b->obj.id;
}

static void node_destroy(struct object *o)
{
	node_free(container_of(o, struct blk, obj));
}

static const struct object_type file_type = {
	.name = "file",
	.kind = OBJ_BLOCKDEV,
	.noun = "drive",
	.desc = "an image file or a block device (protocol layer)",
	.props = blk_file_props,
	.create = node_create,
	.help = blk_throttle_help,
	.destroy = node_destroy,
}, raw_type = {
	.name = "raw",
	.kind = OBJ_BLOCKDEV,
	.noun = "drive",
	.desc = "raw image format over a file node",
	.props = raw_props,
	.create = node_create,
	.help = blk_throttle_help,
	.destroy = node_destroy,
};
static void qcow2_help(FILE *f)
{
	fputs("  backing=<str> - node-name of the backing image, or null for none "
	      "(default: the one the image names)\n", f);
	blk_throttle_help(f);
}

static const struct object_type qcow2_type = {
	.name = "qcow2",
	.kind = OBJ_BLOCKDEV,
	.noun = "drive",
	.desc = "qcow2 image format (v2, v3) over a file node",
	.props = raw_props,
	.create = node_create,
	.help = qcow2_help,
	.destroy = node_destroy,
};
OBJECT_TYPE(file_type)
OBJECT_TYPE(raw_type)
OBJECT_TYPE(qcow2_type)

void blk_set_write_through(struct blk *b, bool on)
{
	b->write_through = on;
}

struct blk *blk_next_info(const struct blk *prev, struct blk_info *info)
{
	struct object *o = object_next_of_kind(OBJ_BLOCKDEV, prev ? &prev->obj : NULL);
	struct blk *b, *bottom;

	if (!o)
		return NULL;
	b = container_of(o, struct blk, obj);
	bottom = blk_bottom(b);
	*info = (struct blk_info){
		.node_name = b->obj.id, .driver = b->driver, .filename = bottom->filename,
		.child = b->file ? b->file->obj.id : NULL, .ro = b->ro, .direct = bottom->direct,
		.claimed = b->obj.owner != NULL, .size = blk_size(b),
		.no_flush = blk_stack_no_flush(b), .writeback = !b->write_through,
	};
	return b;
}
