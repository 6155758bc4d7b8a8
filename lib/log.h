/*
 * Messages for the user. Errors are reported once, where the user's input is
 * known, and the failing function returns a negative errno. The last message
 * is kept (per thread) so tests can check what the user would have read.
 */
#ifndef EMBER_LOG_H
#define EMBER_LOG_H

#include <stdio.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void ember_log(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_set_level(enum log_level max);
/* Silence output (unit tests); messages are still kept for log_last(). */
void log_set_quiet(int quiet);
/* Redirect output (default stderr). */
void log_set_file(FILE *f);
/* -msg timestamp=on: each line starts with the UTC time, as QEMU's do. */
void log_set_timestamps(int on);
const char *log_last(void);

/*
 * EMBER_TRACE=boot: one line on stderr per stage of a start and a stop,
 * "ember: trace MS STAGE", MS since the process began (a constructor, the
 * first code a static ember runs after exec). docs/cli.md lists the stages.
 */
extern int boot_tracing;
void boot_trace_msg(const char *stage);
#define boot_trace(stage)                                     \
	do {                                                  \
		if (__builtin_expect(boot_tracing, 0))        \
			boot_trace_msg(stage);                \
	} while (0)
/* The same, the first time only (a stage a vCPU or device reaches often). */
#define boot_trace_once(stage)                                \
	do {                                                  \
		static int once_;                             \
		if (__builtin_expect(boot_tracing, 0) &&      \
		    !__atomic_exchange_n(&once_, 1, __ATOMIC_RELAXED)) \
			boot_trace_msg(stage);                \
	} while (0)

#define err_msg(...) ember_log(LOG_ERROR, __VA_ARGS__)
#define warn_msg(...) ember_log(LOG_WARN, __VA_ARGS__)
#define info_msg(...) ember_log(LOG_INFO, __VA_ARGS__)
#define debug_msg(...) ember_log(LOG_DEBUG, __VA_ARGS__)

/* For guest-triggered conditions: say it once, never flood the log. */
#define warn_once(...)                                        \
	do {                                                  \
		static int warned_;                           \
		if (!__atomic_exchange_n(&warned_, 1, __ATOMIC_RELAXED)) \
			ember_log(LOG_WARN, __VA_ARGS__);     \
	} while (0)

#endif
