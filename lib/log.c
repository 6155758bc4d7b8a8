/*
 * Messages for the user (log.h): one line each on stderr, written under a
 * lock because vCPU threads and the event loop log at the same time.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include "lib/log.h"

static enum log_level max_level = LOG_INFO;
static int quiet, timestamps;
static FILE *out;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static __thread char last[512];

static const char *const prefix[] = {
	[LOG_ERROR] = "error: ",
	[LOG_WARN] = "warning: ",
	[LOG_INFO] = "",
	[LOG_DEBUG] = "debug: ",
};

void log_set_level(enum log_level max) { max_level = max; }
void log_set_quiet(int q) { quiet = q; }
void log_set_file(FILE *f) { out = f; }
void log_set_timestamps(int on) { timestamps = on; }
const char *log_last(void) { return last; }

void ember_log(enum log_level lvl, const char *fmt, ...)
{
	char stamp[40] = "";
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last, sizeof(last), fmt, ap);
	va_end(ap);
	if (lvl > max_level || quiet)
		return;
	/*
	 * One fprintf per message under a lock: vCPU threads and the event loop
	 * log concurrently and the console may be in raw mode, hence \r\n-free
	 * plain lines on stderr.
	 */
	if (timestamps) {
		/* QEMU's -msg timestamp=on: UTC, to the microsecond, first on the line */
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%06ldZ ",
			 ts.tv_nsec / 1000);
	}
	pthread_mutex_lock(&out_lock);
	fprintf(out ? out : stderr, "%sember: %s%s\n", stamp, prefix[lvl], last);
	fflush(out ? out : stderr);
	pthread_mutex_unlock(&out_lock);
}

int boot_tracing;
static struct timespec t_start;

__attribute__((constructor)) static void boot_trace_init(void)
{
	const char *t = getenv("EMBER_TRACE");

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	boot_tracing = t && !strcmp(t, "boot");
}

void boot_trace_msg(const char *stage)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ember_log(LOG_INFO, "trace %.3f %s", (ts.tv_sec - t_start.tv_sec) * 1e3 +
		  (ts.tv_nsec - t_start.tv_nsec) / 1e6, stage);
}
