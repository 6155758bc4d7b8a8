/*
 * The back-end registry alone, with a fake object type: ids per
 * namespace, claims, release, cleanup order and -object dispatch.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/object.h"
#include "lib/log.h"
#include "lib/util.h"

struct fake {
	struct object obj;
	int n;			/* creation number, for the cleanup order */
};

static int destroyed[8], nr_destroyed;
static int created;

static void fake_destroy(struct object *o)
{
	struct fake *f = container_of(o, struct fake, obj);

	destroyed[nr_destroyed++] = f->n;
	object_del(o);
	free(f);
}

static const struct object_type fake_type;

static struct fake *fake_new(const struct object_type *t, const char *id)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->n = ++created;
	if (object_add(&f->obj, t, id, "-object fake-thing")) {
		free(f);
		return NULL;
	}
	return f;
}

static char last_owner[64];
static int fake_n;

struct fake_opts {
	uint32_t n;
};

static const struct prop fake_props[] = {
	{ "n", PROP_U32, offsetof(struct fake_opts, n), "0", "a number" },
	{ NULL }
};

/* The table's create op: the registry checked type and id already. */
static int fake_create(const struct object_args *a)
{
	struct fake_opts o;
	int ret;

	snprintf(last_owner, sizeof(last_owner), "%s", a->owner);
	ret = props_set_defaults(fake_props, &o, a->owner);
	if (!ret)
		ret = props_apply(fake_props, &o, a->kv, a->owner);
	if (ret)
		return ret;
	fake_n = (int)o.n;
	return fake_new(a->type, a->id) ? 0 : -EINVAL;
}

static void fake_more_help(FILE *f)
{
	fprintf(f, "  more=<x> - not in props\n");
}

static const struct object_type fake_type = {
	.name = "fake-thing",
	.kind = OBJ_OBJECT,
	.noun = "fake",
	.desc = "a fake",
	.props = fake_props,
	.create = fake_create,
	.destroy = fake_destroy,
}, fake_net = {
	.name = "netdev-fake",
	.kind = OBJ_NETDEV,
	.noun = "netdev",
	.destroy = fake_destroy,
}, fake_net_named = {
	/* The same name as an -object type: each option has its own types. */
	.name = "fake-thing",
	.kind = OBJ_NETDEV,
	.noun = "netdev",
	.desc = "a fake net",
	.create = fake_create,
	.destroy = fake_destroy,
}, fake_blk = {
	.name = "fakeblk",
	.kind = OBJ_BLOCKDEV,
	.noun = "drive",
	.desc = "a fake node",
	.props = fake_props,
	.create = fake_create,
	.help = fake_more_help,
	.destroy = fake_destroy,
}, fake_blk2 = {
	.name = "fb",
	.kind = OBJ_BLOCKDEV,
	.noun = "drive",
	.desc = "another",
	.create = fake_create,
	.destroy = fake_destroy,
};
OBJECT_TYPE(fake_type)
OBJECT_TYPE(fake_net_named)
OBJECT_TYPE(fake_blk)
OBJECT_TYPE(fake_blk2)

static int setup(void **state)
{
	nr_destroyed = created = 0;
	return 0;
}

static int teardown(void **state)
{
	object_cleanup_all();
	return 0;
}

static void t_add_find(void **state)
{
	struct fake *a = fake_new(&fake_type, "a"), *anon = fake_new(&fake_type, NULL);

	assert_non_null(a);
	assert_non_null(anon);
	assert_ptr_equal(object_find(OBJ_OBJECT, "a"), &a->obj);
	assert_string_equal(a->obj.id, "a");
	assert_null(object_find(OBJ_OBJECT, "b"));
	assert_null(object_find(OBJ_OBJECT, NULL));
	/* Each option has its own namespace. */
	assert_null(object_find(OBJ_NETDEV, "a"));
	assert_non_null(fake_new(&fake_net, "a"));
	assert_ptr_equal(object_find(OBJ_OBJECT, "a"), &a->obj);
	/* Walking one type, oldest first; anonymous ones too. */
	assert_ptr_equal(object_next(&fake_type, NULL), &a->obj);
	assert_ptr_equal(object_next(&fake_type, &a->obj), &anon->obj);
	assert_null(object_next(&fake_type, &anon->obj));
}

static void t_duplicate(void **state)
{
	assert_non_null(fake_new(&fake_type, "x"));
	assert_null(fake_new(&fake_type, "x"));
	assert_string_equal(log_last(), "-object fake-thing: duplicate id 'x'");
	assert_int_equal(object_id_free(OBJ_OBJECT, "x", "-object other"), -EINVAL);
	assert_string_equal(log_last(), "-object other: duplicate id 'x'");
	assert_int_equal(object_id_free(OBJ_OBJECT, "y", "-object other"), 0);
	assert_int_equal(object_id_free(OBJ_BLOCKDEV, "x", "-blockdev node-name=x"), 0);
}

static void t_claim_release(void **state)
{
	struct fake *f = fake_new(&fake_net, "n0");

	assert_null(f->obj.owner);
	assert_int_equal(object_claim(&f->obj, "-device a"), 0);
	assert_string_equal(f->obj.owner, "-device a");
	assert_int_equal(object_claim(&f->obj, "-device b"), -EBUSY);
	assert_string_equal(log_last(), "-device b: netdev 'n0' is already used by -device a");
	object_release(&f->obj);
	assert_null(f->obj.owner);
	assert_int_equal(object_claim(&f->obj, "-device b"), 0);
}

static void t_cleanup_newest_first(void **state)
{
	fake_new(&fake_type, "one");
	fake_new(&fake_net, "two");
	object_claim(&fake_new(&fake_type, NULL)->obj, "-device x");
	object_cleanup_all();
	assert_int_equal(nr_destroyed, 3);
	assert_int_equal(destroyed[0], 3);
	assert_int_equal(destroyed[1], 2);
	assert_int_equal(destroyed[2], 1);
	assert_null(object_find(OBJ_OBJECT, "one"));
	assert_null(object_next(&fake_type, NULL));
}

static void t_del(void **state)
{
	struct fake *f = fake_new(&fake_type, "gone");

	object_del(&f->obj);
	assert_null(object_find(OBJ_OBJECT, "gone"));
	assert_null(f->obj.id);
	object_del(&f->obj);		/* twice: harmless */
	free(f);
	object_cleanup_all();
	assert_int_equal(nr_destroyed, 0);
}

/* blockdev-del: not while used; the nested ("#") nodes only it used go with it. */
static void t_remove(void **state)
{
	struct fake *top = fake_new(&fake_blk, "top"), *nested = fake_new(&fake_blk, "#top-file");
	struct fake *other = fake_new(&fake_blk, "#other");

	assert_int_equal(object_claim(&nested->obj, "raw node 'top'"), 0);
	assert_int_equal(object_claim(&other->obj, "raw node 'x'"), 0);
	assert_int_equal(object_claim(&top->obj, "-device virtio-blk-pci"), 0);
	assert_int_equal(object_remove(OBJ_BLOCKDEV, "top", "blockdev-del"), -EBUSY);
	assert_string_equal(log_last(),
			    "blockdev-del: drive 'top' is busy: -device virtio-blk-pci uses it");
	assert_int_equal(nr_destroyed, 0);
	object_release(&top->obj);
	/* What releasing its file node on free would do (block.c's node_free). */
	object_release(&nested->obj);
	assert_int_equal(object_remove(OBJ_BLOCKDEV, "top", "blockdev-del"), 0);
	assert_int_equal(nr_destroyed, 2);
	assert_null(object_find(OBJ_BLOCKDEV, "top"));
	assert_null(object_find(OBJ_BLOCKDEV, "#top-file"));
	assert_non_null(object_find(OBJ_BLOCKDEV, "#other"));
	assert_int_equal(object_remove(OBJ_BLOCKDEV, "top", "blockdev-del"), -ENOENT);
	assert_string_equal(log_last(), "blockdev-del: no node 'top'");
}

/* Runs @fn with stdout going to a string, which it returns (free it). */
static char *stdout_of(int (*fn)(enum object_kind, const char *, struct loop *),
		       enum object_kind kind, const char *opts, int *ret)
{
	char path[] = "/tmp/ember-object-XXXXXX";
	int fd = mkstemp(path), save;
	char *buf = calloc(1, 4096);

	assert_true(fd >= 0);
	assert_non_null(buf);
	fflush(stdout);
	save = dup(1);
	dup2(fd, 1);
	*ret = fn(kind, opts, NULL);
	fflush(stdout);
	dup2(save, 1);
	close(save);
	assert_true(pread(fd, buf, 4095, 0) >= 0);
	close(fd);
	unlink(path);
	return buf;
}

static int check(enum object_kind kind, const char *opts, struct loop *loop)
{
	return object_check(kind, opts);
}

static void t_create(void **state)
{
	assert_int_equal(object_create(OBJ_OBJECT, "fake-thing,id=o1,n=7", NULL), 0);
	assert_non_null(object_find(OBJ_OBJECT, "o1"));
	assert_string_equal(last_owner, "-object fake-thing");
	assert_int_equal(fake_n, 7);
	/* The type's own props parse what is left. */
	assert_int_equal(object_create(OBJ_OBJECT, "fake-thing,id=o2,n=x", NULL), -EINVAL);
	assert_string_equal(log_last(), "-object fake-thing: property 'n': 'x' is not a number");
	assert_null(object_find(OBJ_OBJECT, "o2"));
	/* The id is checked before the type sees it. */
	assert_int_equal(object_create(OBJ_OBJECT, "fake-thing,id=o1", NULL), -EINVAL);
	assert_string_equal(log_last(), "-object fake-thing: duplicate id 'o1'");
	assert_int_equal(object_create(OBJ_OBJECT, "fake-thing", NULL), -EINVAL);
	assert_string_equal(log_last(), "-object fake-thing: property 'id' is required");
	assert_int_equal(object_create(OBJ_OBJECT, "fake-thing,id=", NULL), -EINVAL);
	assert_string_equal(log_last(), "-object fake-thing: property 'id' is required");
	assert_int_equal(object_create(OBJ_OBJECT, "fake-thing,id=9", NULL), -EINVAL);
	assert_string_equal(log_last(), "-object fake-thing: invalid id '9' "
			    "(use letters, digits, '-', '.', '_', starting with a letter)");
	assert_int_equal(object_create(OBJ_OBJECT, "nope,id=o2", NULL), -EINVAL);
	assert_string_equal(log_last(), "-object nope: unknown object type "
			    "(supported: fake-thing; try -object help)");
	assert_int_equal(object_create(OBJ_OBJECT, "id=o3", NULL), -EINVAL);
	assert_string_equal(log_last(), "-object: no object type given "
			    "(supported: fake-thing; try -object help)");
	assert_int_equal(object_create(OBJ_OBJECT, "qom-type=fake-thing,id=o4", NULL), 0);
	assert_int_equal(object_create(OBJ_OBJECT, "fake-thing,,id=o5", NULL), -EINVAL);
}

/* The type is looked up in the option's own table, by the option's key. */
static void t_kinds(void **state)
{
	assert_ptr_equal(object_type_find(OBJ_NETDEV, "fake-thing"), &fake_net_named);
	assert_ptr_equal(object_type_find(OBJ_OBJECT, "fake-thing"), &fake_type);
	assert_null(object_type_find(OBJ_CHARDEV, "fake-thing"));
	assert_null(object_type_find(OBJ_OBJECT, NULL));
	/* fake_net is not in the table: objects added by hand need no entry */
	assert_null(object_type_find(OBJ_NETDEV, "netdev-fake"));

	assert_int_equal(object_create(OBJ_NETDEV, "fake-thing,id=a", NULL), 0);
	assert_ptr_equal(object_find(OBJ_NETDEV, "a")->type, &fake_net_named);
	assert_string_equal(last_owner, "-netdev fake-thing");
	assert_int_equal(object_create(OBJ_NETDEV, "type=fake-thing,id=b", NULL), 0);
	assert_int_equal(object_create(OBJ_NETDEV, "fake-thing,id=a", NULL), -EINVAL);
	assert_string_equal(log_last(), "-netdev fake-thing: duplicate id 'a'");
	/* Same id, another option: another namespace. */
	assert_int_equal(object_create(OBJ_OBJECT, "fake-thing,id=a", NULL), 0);

	/* -blockdev: driver= picks the type, node-name= is the id. */
	assert_int_equal(object_create(OBJ_BLOCKDEV, "driver=fakeblk,node-name=d0", NULL), 0);
	assert_string_equal(last_owner, "-blockdev driver=fakeblk");
	assert_non_null(object_find(OBJ_BLOCKDEV, "d0"));
	assert_int_equal(object_create(OBJ_BLOCKDEV, "driver=fakeblk,id=d1", NULL), -EINVAL);
	assert_string_equal(log_last(), "-blockdev driver=fakeblk: property 'node-name' is required");
	assert_int_equal(object_create(OBJ_BLOCKDEV, "driver=fakeblk,node-name=d0", NULL), -EINVAL);
	assert_string_equal(log_last(), "-blockdev driver=fakeblk: duplicate node-name 'd0'");
	assert_int_equal(object_create(OBJ_BLOCKDEV, "driver=qcow2,node-name=d2", NULL), -EINVAL);
	assert_string_equal(log_last(), "-blockdev driver=qcow2: unknown driver "
			    "(supported: fakeblk, fb; try -blockdev help)");
	assert_int_equal(object_create(OBJ_BLOCKDEV, "node-name=d2", NULL), -EINVAL);
	assert_string_equal(log_last(), "-blockdev: no driver given "
			    "(supported: fakeblk, fb; try -blockdev help)");
}

static void t_help(void **state)
{
	char *out;
	int ret;

	out = stdout_of(object_create, OBJ_BLOCKDEV, "help", &ret);
	assert_int_equal(ret, 1);
	assert_string_equal(out, "Available -blockdev drivers (-blockdev driver=NAME,help for "
			    "options):\n  fakeblk - a fake node\n  fb      - another\n");
	free(out);
	out = stdout_of(object_create, OBJ_BLOCKDEV, "driver=fakeblk,help", &ret);
	assert_int_equal(ret, 1);
	assert_string_equal(out, "fakeblk options:\n"
			    "  node-name=<str> - name front ends refer to with drive= (required)\n"
			    "  n=<uint32> - a number (default: 0)\n"
			    "  more=<x> - not in props\n");
	free(out);
	out = stdout_of(object_create, OBJ_OBJECT, "fake-thing,help", &ret);
	assert_int_equal(ret, 1);
	assert_non_null(strstr(out, "  id=<str> - name to refer to it by (required)\n"));
	free(out);
	out = stdout_of(check, OBJ_NETDEV, "help", &ret);
	assert_int_equal(ret, 1);
	assert_string_equal(out, "Available -netdev types (-netdev NAME,help for options):\n"
			    "  fake-thing - a fake net\n");
	free(out);
	/* An unknown type's help is an error, not the list. */
	out = stdout_of(object_create, OBJ_NETDEV, "nope,help", &ret);
	assert_int_equal(ret, -EINVAL);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(created, 0);
}

/* object_check answers help and bad types, and creates nothing. */
static void t_check(void **state)
{
	assert_int_equal(object_check(OBJ_OBJECT, "fake-thing,id=c1,n=bad"), 0);
	assert_null(object_find(OBJ_OBJECT, "c1"));
	assert_int_equal(object_check(OBJ_OBJECT, "nope"), -EINVAL);
	assert_string_equal(log_last(), "-object nope: unknown object type "
			    "(supported: fake-thing; try -object help)");
	assert_int_equal(object_check(OBJ_BLOCKDEV, "driver=fakeblk,,x"), -EINVAL);
	assert_int_equal(created, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_add_find, setup, teardown),
		cmocka_unit_test_setup_teardown(t_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(t_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(t_claim_release, setup, teardown),
		cmocka_unit_test_setup_teardown(t_cleanup_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(t_del, setup, teardown),
		cmocka_unit_test_setup_teardown(t_create, setup, teardown),
		cmocka_unit_test_setup_teardown(t_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(t_help, setup, teardown),
		cmocka_unit_test_setup_teardown(t_check, setup, teardown),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
