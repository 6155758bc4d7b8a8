/*
 * The back-end registry (see object.h): one list of every back end, the
 * type table of every option and its parser, claiming and cleanup.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/object.h"
#include "lib/log.h"

#define MAX_TYPES	32

static const struct object_type *types[MAX_TYPES];	/* every kind, by name */
static unsigned nr_types;
static struct object *objects;				/* oldest first */

/* How each option is written, and what its messages call things. */
static const struct kind {
	const char *option;
	const char *type_key;	/* picks the type */
	bool keyed;		/* the type is written KEY=NAME (QEMU's -blockdev) */
	const char *id_key;
	const char *word;	/* "unknown back-end type" */
	const char *words;	/* "Available -chardev back-end types" */
	const char *ref;	/* how front ends name one, or NULL */
} kinds[OBJ_KINDS] = {
	[OBJ_OBJECT] = { "-object", "qom-type", false, "id", "object type", "types", NULL },
	[OBJ_CHARDEV] = { "-chardev", "backend", false, "id", "back-end type", "back-end types",
			  "chardev=" },
	[OBJ_NETDEV] = { "-netdev", "type", false, "id", "type", "types", "netdev=" },
	[OBJ_BLOCKDEV] = { "-blockdev", "driver", true, "node-name", "driver", "drivers",
			   "drive=" },
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

const struct object_type *object_type_find(enum object_kind kind, const char *name)
{
	for (unsigned i = 0; i < nr_types && name; i++)
		if (types[i]->kind == kind && !strcmp(types[i]->name, name))
			return types[i];
	return NULL;
}

const struct object_type *object_type_at(enum object_kind kind, unsigned i)
{
	for (unsigned k = 0; k < nr_types; k++)
		if (types[k]->kind == kind && !i--)
			return types[k];
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

struct object *object_next_of_kind(enum object_kind kind, const struct object *prev)
{
	struct object *o = prev ? prev->next : objects;

	while (o && o->type->kind != kind)
		o = o->next;
	return o;
}

int object_id_free(enum object_kind kind, const char *id, const char *owner)
{
	if (!object_find(kind, id))
		return 0;
	err_msg("%s: duplicate %s '%s'", owner, kinds[kind].id_key, id);
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

static void destroy(struct object *o)
{
	if (o->type->destroy)
		o->type->destroy(o);
	else
		object_del(o);
}

int object_remove(enum object_kind kind, const char *id, const char *owner)
{
	struct object *o = object_find(kind, id);
	bool again = true;

	if (!o) {
		err_msg("%s: no %s '%s'", owner, kind == OBJ_BLOCKDEV ? "node" : "object", id);
		return -ENOENT;
	}
	if (o->owner) {
		err_msg("%s: %s '%s' is busy: %s uses it", owner, o->type->noun, id, o->owner);
		return -EBUSY;
	}
	destroy(o);
	/* Anonymous ("#...") nodes nobody uses any more were made for it. */
	while (again) {
		again = false;
		for (o = objects; o; o = o->next)
			if (o->type->kind == kind && o->id && o->id[0] == '#' && !o->owner) {
				destroy(o);
				again = true;
				break;
			}
	}
	return 0;
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

static void types_list(enum object_kind kind, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < nr_types && n < size; i++)
		if (types[i]->kind == kind)
			n += snprintf(buf + n, size - n, "%s%s", n ? ", " : "", types[i]->name);
}

void object_types_help(enum object_kind kind, FILE *f)
{
	const struct kind *k = &kinds[kind];
	int width = 0;

	for (unsigned i = 0; i < nr_types; i++)
		if (types[i]->kind == kind && (int)strlen(types[i]->name) > width)
			width = (int)strlen(types[i]->name);
	fprintf(f, "Available %s %s (%s %sNAME,help for options):\n", k->option, k->words,
		k->option, k->keyed ? "driver=" : "");
	for (unsigned i = 0; i < nr_types; i++)
		if (types[i]->kind == kind)
			fprintf(f, "  %-*s - %s\n", width, types[i]->name,
				types[i]->desc ? types[i]->desc : "");
}

void object_type_help(const struct object_type *t, FILE *f)
{
	const struct kind *k = &kinds[t->kind];

	fprintf(f, "%s options:\n", t->name);
	if (k->ref)
		fprintf(f, "  %s=<str> - name front ends refer to with %s (required)\n",
			k->id_key, k->ref);
	else
		fprintf(f, "  %s=<str> - name to refer to it by (required)\n", k->id_key);
	props_help(t->props, f);
	if (t->help)
		t->help(f);
}

/*
 * Parses @opts and finds its type: 0 with @kv to free and *@out set; 1
 * after help; <0 after one message (@kv freed).
 */
static int pick(enum object_kind kind, const char *opts, struct keyval *kv,
		const struct object_type **out)
{
	const struct kind *k = &kinds[kind];
	const struct object_type *t;
	char list[256];
	int ret;

	ret = keyval_parse(opts, k->type_key, k->option, kv);
	if (ret)
		return ret;
	t = object_type_find(kind, kv->implied);
	if (kv->help && t)
		object_type_help(t, stdout);
	else if (kv->help && !kv->implied)
		object_types_help(kind, stdout);
	if (kv->help && (t || !kv->implied)) {
		ret = 1;
	} else if (!t) {
		types_list(kind, list, sizeof(list));
		if (kv->implied)
			err_msg("%s %s%s%s: unknown %s (supported: %s; try %s help)", k->option,
				k->keyed ? k->type_key : "", k->keyed ? "=" : "", kv->implied,
				k->word, list, k->option);
		else
			err_msg("%s: no %s given (supported: %s; try %s help)", k->option, k->word,
				list, k->option);
		ret = -EINVAL;
	}
	if (ret)
		keyval_free(kv);
	*out = t;
	return ret;
}

int object_check(enum object_kind kind, const char *opts)
{
	const struct object_type *t;
	struct keyval kv;
	int ret = pick(kind, opts, &kv, &t);

	if (!ret)
		keyval_free(&kv);
	return ret;
}

int object_create(enum object_kind kind, const char *opts, struct loop *loop)
{
	const struct kind *k = &kinds[kind];
	struct object_args a = { .loop = loop };
	char owner[96];
	struct keyval kv;
	int ret;

	ret = pick(kind, opts, &kv, &a.type);
	if (ret)
		return ret;
	snprintf(owner, sizeof(owner), "%s %s%s%s", k->option, k->keyed ? k->type_key : "",
		 k->keyed ? "=" : "", a.type->name);
	a.kv = &kv;
	a.owner = owner;
	a.id = keyval_get(&kv, k->id_key);
	if (!a.id || !*a.id) {
		err_msg("%s: property '%s' is required", owner, k->id_key);
		ret = -EINVAL;
	}
	if (!ret)
		ret = id_check(a.id, owner);
	if (!ret)
		ret = object_id_free(kind, a.id, owner);
	if (!ret)
		ret = a.type->create(&a);
	keyval_free(&kv);
	return ret;
}
