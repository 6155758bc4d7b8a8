/* Paths: jail paths normalized, the jail's directory, --file specs, duplicates. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "jail/jail.h"

int jail_norm_path(char *out, size_t n, const char *in, const char *what)
{
	size_t len = 0;
	const char *p = in;

	if (n < 2)
		return -ENAMETOOLONG;
	while (*p) {
		const char *c;
		size_t cl;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		c = p;
		while (*p && *p != '/')
			p++;
		cl = (size_t)(p - c);
		if (cl == 1 && c[0] == '.')
			continue;
		if (cl == 2 && c[0] == '.' && c[1] == '.') {
			err_msg("%s: '..' is not allowed in a jail path", what);
			return -EINVAL;
		}
		if (len + 1 + cl + 1 > n) {
			err_msg("%s: jail path too long", what);
			return -ENAMETOOLONG;
		}
		out[len++] = '/';
		memcpy(out + len, c, cl);
		len += cl;
	}
	out[len] = 0;
	if (!len) {
		err_msg("%s: the jail path must name something below '/'", what);
		return -EINVAL;
	}
	return 0;
}

int jail_parse_file_spec(struct jail_file *f, const char *spec, const char *opt)
{
	const char *colon = strchr(spec, ':');
	size_t hl = colon ? (size_t)(colon - spec) : strlen(spec);
	char what[JAIL_PATH_MAX + 32];
	const char *base;

	f->spec = spec;
	snprintf(what, sizeof(what), "%s %s", opt, spec);
	if (!hl) {
		err_msg("%s: no host path", what);
		return -EINVAL;
	}
	if (hl >= sizeof(f->host)) {
		err_msg("%s: host path too long", what);
		return -ENAMETOOLONG;
	}
	memcpy(f->host, spec, hl);
	f->host[hl] = 0;
	if (colon)
		return jail_norm_path(f->jail, sizeof(f->jail), colon + 1, what);
	/* default: the basename, at the top of the jail */
	while (hl > 1 && f->host[hl - 1] == '/')
		f->host[--hl] = 0;
	base = strrchr(f->host, '/');
	base = base ? base + 1 : f->host;
	return jail_norm_path(f->jail, sizeof(f->jail), base, what);
}

int jail_dir_path(char *out, size_t n, const char *base, const char *id)
{
	size_t bl = strlen(base);

	while (bl > 1 && base[bl - 1] == '/')
		bl--;
	if (bl == 1 && base[0] == '/')
		bl = 0;
	if ((size_t)snprintf(out, n, "%.*s/ember/%s", (int)bl, base, id) >= n) {
		err_msg("--chroot-base-dir %s: path too long", base);
		return -ENAMETOOLONG;
	}
	return 0;
}

int jail_root_path(char *out, size_t n, const char *base, const char *id)
{
	int r = jail_dir_path(out, n, base, id);

	if (r)
		return r;
	if (strlen(out) + sizeof("/root") > n) {
		err_msg("--chroot-base-dir %s: path too long", base);
		return -ENAMETOOLONG;
	}
	strcat(out, "/root");
	return 0;
}

const char *jail_find_duplicate(const char *const *paths, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (!strcmp(paths[i], paths[j]))
				return paths[i];
	return NULL;
}
