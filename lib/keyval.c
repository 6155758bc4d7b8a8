/* QEMU-style "driver,key=value" option strings; see keyval.h. */
#include <stdlib.h>
#include <string.h>

#include "lib/keyval.h"
#include "lib/log.h"
#include "lib/util.h"

/*
 * Scans a value starting at @p up to a single ',' or the end, unescaping
 * ",," into @dst (when not NULL). Returns where the value ends and its
 * unescaped length in *@len.
 */
static const char *scan_value(const char *p, char *dst, size_t *len)
{
	size_t n = 0;

	while (*p) {
		if (*p == ',') {
			if (p[1] != ',')
				break;
			p++;
		}
		if (dst)
			dst[n] = *p;
		n++;
		p++;
	}
	if (dst)
		dst[n] = '\0';
	*len = n;
	return p;
}

static char *dup_value(const char *p, const char **end)
{
	size_t n;
	char *v;

	scan_value(p, NULL, &n);
	v = malloc(n + 1);
	if (v)
		*end = scan_value(p, v, &n);
	return v;
}

static bool is_help(const char *p, size_t len)
{
	return (len == 4 && !strncmp(p, "help", 4)) || (len == 1 && *p == '?');
}

static int add_pair(struct keyval *kv, char *key, char *val)
{
	struct kv_pair *np;

	if ((kv->n & (kv->n - 1)) == 0) {	/* n is 0 or a power of two: grow */
		np = realloc(kv->pairs, (kv->n ? kv->n * 2 : 4) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		kv->pairs = np;
	}
	kv->pairs[kv->n++] = (struct kv_pair){ .key = key, .val = val };
	return 0;
}

static struct kv_pair *find(const struct keyval *kv, const char *key)
{
	for (unsigned i = 0; i < kv->n; i++)
		if (!strcmp(kv->pairs[i].key, key))
			return &kv->pairs[i];
	return NULL;
}

static int take_pair(char *key, char *val, const char *implied_key, const char *what,
		     struct keyval *out);

/* QEMU's keys that may come several times (-netdev user,hostfwd=...,hostfwd=...). */
static bool repeatable(const char *key)
{
	return !strcmp(key, "hostfwd");
}

/* One "key=value" element at @p (key is @klen bytes); returns its end. */
static int parse_pair(const char *p, size_t klen, const char *implied_key,
		      const char *what, struct keyval *out, const char **end)
{
	char *key, *val;
	size_t vlen;

	if (!klen) {
		*end = scan_value(p, NULL, &vlen);
		err_msg("%s: empty key in '%.*s'", what, (int)(*end - p), p);
		return -EINVAL;
	}
	key = strndup(p, klen);
	val = key ? dup_value(p + klen + 1, end) : NULL;
	return take_pair(key, val, implied_key, what, out);
}

/* Adds @key=@val (both malloc'ed, or NULL when out of memory; taken either way). */
static int take_pair(char *key, char *val, const char *implied_key, const char *what,
		     struct keyval *out)
{
	if (!key || !val) {
		free(key);
		free(val);
		err_msg("%s: out of memory", what);
		return -ENOMEM;
	}
	if (implied_key && !strcmp(key, implied_key)) {
		if (!out->implied) {
			free(key);
			out->implied = val;
			return 0;
		}
	} else if (!find(out, key) || repeatable(key)) {
		if (!add_pair(out, key, val))
			return 0;
		free(key);
		free(val);
		err_msg("%s: out of memory", what);
		return -ENOMEM;
	}
	err_msg("%s: key '%s' given twice", what, key);
	free(key);
	free(val);
	return -EINVAL;
}

/* A bare word at @p (@len bytes up to '=' or ','): help, the implied value or an error. */
static int parse_bare(const char *p, size_t len, bool first,
		      const char *implied_key, const char *what,
		      struct keyval *out, const char **end)
{
	if (is_help(p, len)) {
		out->help = true;
		*end = p + len;
		return 0;
	}
	if (first && implied_key) {
		out->implied = dup_value(p, end);
		if (!out->implied) {
			err_msg("%s: out of memory", what);
			return -ENOMEM;
		}
		if (*end != p)
			return 0;
	}
	if (!len) {
		err_msg("%s: empty element in '%s'", what, p);
		return -EINVAL;
	}
	/* QEMU's short booleans: "server" is server=on, "nowait" is wait=off. */
	*end = p + len;
	if (len > 2 && !strncmp(p, "no", 2))
		return take_pair(strndup(p + 2, len - 2), strdup("off"), implied_key, what, out);
	return take_pair(strndup(p, len), strdup("on"), implied_key, what, out);
}

int keyval_parse(const char *s, const char *implied_key, const char *what,
		 struct keyval *out)
{
	const char *p = s;
	bool first = true;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!what)
		what = "option";
	if (!s || !*s) {
		err_msg("%s: empty option string", what);
		return -EINVAL;
	}
	for (;;) {
		size_t klen = strcspn(p, "=,");

		if (p[klen] == '=')
			ret = parse_pair(p, klen, implied_key, what, out, &p);
		else
			ret = parse_bare(p, klen, first, implied_key, what, out, &p);
		if (ret < 0) {
			keyval_free(out);
			return ret;
		}
		first = false;
		if (!*p)
			return 0;
		/* *p is the separating ',' */
		if (!*++p) {
			err_msg("%s: trailing ',' in '%s'", what, s);
			keyval_free(out);
			return -EINVAL;
		}
	}
}

const char *keyval_get(struct keyval *kv, const char *key)
{
	struct kv_pair *kp = find(kv, key);

	if (!kp)
		return NULL;
	kp->used = true;
	return kp->val;
}

bool keyval_has(const struct keyval *kv, const char *key)
{
	return find(kv, key) != NULL;
}

int keyval_check_unused(const struct keyval *kv, const char *what)
{
	for (unsigned i = 0; i < kv->n; i++) {
		if (!kv->pairs[i].used) {
			err_msg("%s: unknown property '%s'", what, kv->pairs[i].key);
			return -EINVAL;
		}
	}
	return 0;
}

void keyval_free(struct keyval *kv)
{
	for (unsigned i = 0; i < kv->n; i++) {
		free(kv->pairs[i].key);
		free(kv->pairs[i].val);
	}
	free(kv->pairs);
	free(kv->implied);
	memset(kv, 0, sizeof(*kv));
}
