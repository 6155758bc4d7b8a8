/*
 * The back-end registry: every -object, -chardev, -netdev and -blockdev
 * instance embeds a struct object, so that finding one by id, claiming it
 * for a front end (one only, and the error names the first), releasing it
 * and freeing everything at exit are written once, here.
 *
 * The -object types come from a table (OBJECT_TYPE() registers them, as
 * DEVICE_TYPE() does devices): `-object help` and dispatch come from it.
 */
#ifndef EMBER_OBJECT_H
#define EMBER_OBJECT_H

#include <stdio.h>

#include "lib/keyval.h"
#include "lib/props.h"

/* Each option has its own id namespace, as in QEMU. */
enum object_kind {
	OBJ_OBJECT,		/* -object: memory-backend-memfd, rng-random */
	OBJ_CHARDEV,		/* -chardev */
	OBJ_NETDEV,		/* -netdev */
	OBJ_BLOCKDEV,		/* -blockdev node-name= */
	OBJ_KINDS,
};

struct object;

struct object_type {
	const char *name;	/* "rng-random", "chardev", "netdev-tap", "blockdev-raw" */
	enum object_kind kind;
	const char *noun;	/* "netdev" in "netdev 'n0' is already used by ..." */
	const char *desc;
	const struct prop *props;
	/* -object types: parses @kv and adds the object; @owner is "-object NAME". */
	int (*create)(struct keyval *kv, const char *owner);
	/* Frees the back end holding @o, which calls object_del() on it. */
	void (*destroy)(struct object *o);
};

struct object {
	const struct object_type *type;
	char *id;		/* NULL: anonymous (the RAM of a plain -m) */
	char *owner;		/* the front end that claimed it, or NULL */
	struct object *next;
};

void object_type_register(const struct object_type *t);
#define OBJECT_TYPE(var)                                               \
	static void __attribute__((constructor)) register_##var(void) \
	{                                                              \
		object_type_register(&var);                            \
	}

/*
 * -EINVAL after "OWNER: duplicate id 'ID'" (node-name for -blockdev) if
 * @id is taken in @kind's namespace; else 0.
 */
int object_id_free(enum object_kind kind, const char *id, const char *owner);
/* Names @o (@id may be NULL) and adds it, newest last. One message on error. */
int object_add(struct object *o, const struct object_type *t, const char *id,
	       const char *owner);
/* Forgets @o (if added) and its id and owner; does not call destroy. */
void object_del(struct object *o);
/* The object of @kind called @id (NULL: none). */
struct object *object_find(enum object_kind kind, const char *id);
/* The object of type @t after @prev (NULL: the first), oldest first. */
struct object *object_next(const struct object_type *t, const struct object *prev);
/*
 * @owner (a front end, "-device virtio-net-pci,id=n") takes @o; only one
 * may. -EBUSY after "OWNER: NOUN 'ID' is already used by FIRST".
 */
int object_claim(struct object *o, const char *owner);
void object_release(struct object *o);

/* "-object TYPE,id=..,..." and "-object help"; 1: help printed. */
int object_create_opts(const char *opts);
/* Frees every object, newest first (a raw node before its file node). */
void object_cleanup_all(void);

#endif
