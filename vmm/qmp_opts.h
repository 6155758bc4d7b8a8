/*
 * The syntax of -qmp, in one place: the command line checks it before
 * anything is set up, and the QMP server reads its socket path from it.
 */
#ifndef EMBER_QMP_OPTS_H
#define EMBER_QMP_OPTS_H

#include <stdbool.h>

/*
 * Parses "unix:PATH,server=on[,wait=on|off]". On success *@path (when
 * @path is not NULL) is a strdup of PATH and *@wait the wait flag.
 * -EINVAL (or -ENOMEM) after one message naming @opt.
 */
int qmp_parse_opts(const char *opt, char **path, bool *wait);

#endif
