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
#include <stdlib.h>
#include <string.h>

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

/* -object fake-thing,id=ID: the table's create op. */
static int fake_create(struct keyval *kv, const char *owner)
{
	const char *id = keyval_get(kv, "id");

	assert_string_equal(owner, "-object fake-thing");
	return fake_new(&fake_type, id) ? 0 : -EINVAL;
}

static const struct object_type fake_type = {
	.name = "fake-thing",
	.kind = OBJ_OBJECT,
	.noun = "fake",
	.create = fake_create,
	.destroy = fake_destroy,
}, fake_net = {
	.name = "netdev-fake",
	.kind = OBJ_NETDEV,
	.noun = "netdev",
	.destroy = fake_destroy,
};
OBJECT_TYPE(fake_type)

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

static void t_create_opts(void **state)
{
	assert_int_equal(object_create_opts("fake-thing,id=o1"), 0);
	assert_non_null(object_find(OBJ_OBJECT, "o1"));
	assert_int_equal(object_create_opts("fake-thing,id=o1"), -EINVAL);
	assert_string_equal(log_last(), "-object fake-thing: duplicate id 'o1'");
	assert_int_equal(object_create_opts("nope,id=o2"), -EINVAL);
	assert_string_equal(log_last(),
			    "-object nope: unknown object type (supported: fake-thing)");
	assert_int_equal(object_create_opts("id=o3"), -EINVAL);
	assert_string_equal(log_last(), "-object id=o3: the object type comes first");
	assert_int_equal(object_create_opts("help"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_add_find, setup, teardown),
		cmocka_unit_test_setup_teardown(t_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(t_claim_release, setup, teardown),
		cmocka_unit_test_setup_teardown(t_cleanup_newest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(t_del, setup, teardown),
		cmocka_unit_test_setup_teardown(t_create_opts, setup, teardown),
	};

	log_set_quiet(1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
