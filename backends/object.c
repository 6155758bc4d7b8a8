/*
 * The back-end registry (see object.h): one list of every back end, the
 * -object type table, claiming and cleanup.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/object.h"
#include "lib/log.h"

#define MAX_TYPES	16

static const struct object_type *types[MAX_TYPES];	/* -object types, by name */
static unsigned nr_types;
static struct object *objects;				/* oldest first */

/* What "duplicate ..." calls the id in each namespace. */
static const char *const id_key[OBJ_KINDS] = {
	[OBJ_OBJECT] = "id", [OBJ_CHARDEV] = "id", [OBJ_NETDEV] = "id",
	[OBJ_BLOCKDEV] = "node-name",
};

void object_type_register(const struct object_type *t)
{
	unsigned i;

	if (nr_types == MAX_TYPES) {
		/* A build-time mistake: say so on the first run. */
		err_msg("object type '%s': raise MAX_TYPES in backends/object.c", t->name);
		abort();
	}
	/* Sorted, so that help and messages list them alphabetically. */
	for (i = nr_types; i && strcmp(types[i - 1]->name, t->name) > 0; i--)
		types[i] = types[i - 1];
	types[i] = t;
	nr_types++;
}

static const struct object_type *type_find(const char *name)
{
	for (unsigned i = 0; i < nr_types; i++)
		if (!strcmp(types[i]->name, name))
			return types[i];
	return NULL;
}

struct object *object_find(enum object_kind kind, const char *id)
{
	for (struct object *o = objects; o && id; o = o->next)
		if (o->type->kind == kind && o->id && !strcmp(o->id, id))
			return o;
	return NULL;
}

struct object *object_next(const struct object_type *t, const struct object *prev)
{
	struct object *o = prev ? prev->next : objects;

	while (o && o->type != t)
		o = o->next;
	return o;
}

int object_id_free(enum object_kind kind, const char *id, const char *owner)
{
	if (!object_find(kind, id))
		return 0;
	err_msg("%s: duplicate %s '%s'", owner, id_key[kind], id);
	return -EINVAL;
}

int object_add(struct object *o, const struct object_type *t, const char *id,
	       const char *owner)
{
	struct object **tail;
	int ret = id ? object_id_free(t->kind, id, owner) : 0;

	if (ret)
		return ret;
	o->type = t;
	o->id = id ? strdup(id) : NULL;
	if (id && !o->id) {
		err_msg("%s: out of memory", owner);
		return -ENOMEM;
	}
	o->next = NULL;
	for (tail = &objects; *tail; tail = &(*tail)->next)
		;
	*tail = o;
	return 0;
}

void object_del(struct object *o)
{
	for (struct object **pp = &objects; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	free(o->id);
	free(o->owner);
	o->id = o->owner = NULL;
	o->next = NULL;
}

int object_claim(struct object *o, const char *owner)
{
	if (o->owner) {
		err_msg("%s: %s '%s' is already used by %s", owner, o->type->noun,
			o->id ? o->id : "?", o->owner);
		return -EBUSY;
	}
	o->owner = strdup(owner);
	if (!o->owner) {
		err_msg("%s: out of memory", owner);
		return -ENOMEM;
	}
	return 0;
}

void object_release(struct object *o)
{
	free(o->owner);
	o->owner = NULL;
}

void object_cleanup_all(void)
{
	while (objects) {
		struct object **pp = &objects, *o;

		while ((*pp)->next)
			pp = &(*pp)->next;
		o = *pp;
		*pp = NULL;
		/* Unlinked first: destroy's object_del() then frees id and owner only. */
		if (o->type->destroy)
			o->type->destroy(o);
		else
			object_del(o);
	}
}

static void types_list(char *buf, size_t size, const char *sep)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < nr_types && n < size; i++)
		n += snprintf(buf + n, size - n, "%s%s", i ? sep : "", types[i]->name);
}

int object_create_opts(const char *opts)
{
	const struct object_type *t;
	char owner[80], list[256];
	struct keyval kv;
	int ret;

	ret = keyval_parse(opts, "qom-type", "-object", &kv);
	if (ret)
		return ret;
	if (kv.help) {
		types_list(list, sizeof(list), "\n");
		printf("Objects:\n%s\n", list);
		ret = 1;
	} else if (!kv.implied) {
		err_msg("-object %s: the object type comes first", opts);
		ret = -EINVAL;
	} else if (!(t = type_find(kv.implied))) {
		types_list(list, sizeof(list), ", ");
		err_msg("-object %s: unknown object type (supported: %s)", kv.implied, list);
		ret = -EINVAL;
	} else {
		snprintf(owner, sizeof(owner), "-object %s", t->name);
		ret = t->create(&kv, owner);
	}
	keyval_free(&kv);
	return ret;
}
