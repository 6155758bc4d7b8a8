/* ember-jail's lines on stderr: progress with -v, warnings, the one error line. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"
#include "jail/jail.h"

bool jail_verbose;

void jail_say(const char *fmt, ...)
{
	va_list ap;

	if (!jail_verbose)
		return;
	va_start(ap, fmt);
	fputs("ember-jail: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* The one error line, from the last err_msg(). */
void jail_print_error(void)
{
	fprintf(stderr, "ember-jail: error: %s\n", log_last());
}

void jail_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("ember-jail: warning: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int jail_fail(const char *what)
{
	int e = errno;

	err_msg("%s: %s", what, strerror(e));
	return -e;
}
