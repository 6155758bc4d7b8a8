/*
 * The back-end registry: every -object, -chardev, -netdev and -blockdev
 * instance embeds a struct object, so that finding one by id, claiming it
 * for a front end (one only, and the error names the first), releasing it
 * and freeing everything at exit are written once, here.
 *
 * Every type of every option comes from one table (OBJECT_TYPE() registers
 * them, as DEVICE_TYPE() does devices): the option's parser, its `help`
 * and `TYPE,help`, and its errors come from it.
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
struct object_type;
struct loop;

/* What a type's create gets; the registry has checked the type and the id. */
struct object_args {
	const struct object_type *type;
	struct keyval *kv;	/* the options; the type and id keys are used up */
	const char *id;		/* well-formed and free in the kind's namespace */
	const char *owner;	/* "-chardev socket": names the option in messages */
	struct loop *loop;	/* for back ends with input or io_uring */
};

struct object_type {
	const char *name;	/* as users write it: "socket", "tap", "raw", "rng-random" */
	enum object_kind kind;
	const char *noun;	/* "netdev" in "netdev 'n0' is already used by ..." */
	const char *desc;
	/*
	 * Its options, for help and qom-list. For -object types the offsets are
	 * from the start of the struct that embeds its struct object first, so
	 * that qom-get reads them.
	 */
	const struct prop *props;
	const void *ops;	/* the kind's own: a chardev back end's open and close */
	/* Parses a->kv and adds the object named a->id. One message on error. */
	int (*create)(const struct object_args *a);
	/* Help for options outside props (blockdev's throttling.*); optional. */
	void (*help)(FILE *f);
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
/* The object of @kind after @prev (NULL: the first), oldest first. */
struct object *object_next_of_kind(enum object_kind kind, const struct object *prev);
/*
 * @owner (a front end, "-device virtio-net-pci,id=n") takes @o; only one
 * may. -EBUSY after "OWNER: NOUN 'ID' is already used by FIRST".
 */
int object_claim(struct object *o, const char *owner);
void object_release(struct object *o);

/* The type of @kind called @name, or NULL. */
const struct object_type *object_type_find(enum object_kind kind, const char *name);
/* The @i-th type of @kind (alphabetical), NULL past the last. */
const struct object_type *object_type_at(enum object_kind kind, unsigned i);
/* "-chardev help": every type of @kind, one a line. */
void object_types_help(enum object_kind kind, FILE *f);
/* "-chardev socket,help": the id and the type's options. */
void object_type_help(const struct object_type *t, FILE *f);
/*
 * One option of @kind ("-netdev tap,id=n0,..."): picks the type by the
 * kind's key (-chardev BACKEND, -netdev TYPE, -blockdev driver=, -object
 * QOM-TYPE), checks the id and calls the type's create. 0; 1 when help was
 * printed; <0 after one message naming the option.
 */
int object_create(enum object_kind kind, const char *opts, struct loop *loop);
/*
 * What object_create does before it creates anything: answers help (1) or
 * checks that the type exists (0; else -EINVAL, one message).
 */
int object_check(enum object_kind kind, const char *opts);
/*
 * blockdev-del: frees the object of @kind called @id, and the
 * nested nodes only it used (a raw node's file.*). -ENOENT, or -EBUSY
 * while a front end uses it; one message (@owner names the command).
 */
int object_remove(enum object_kind kind, const char *id, const char *owner);
/* Frees every object, newest first (a raw node before its file node). */
void object_cleanup_all(void);

#endif
