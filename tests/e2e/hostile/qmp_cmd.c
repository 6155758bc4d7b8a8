/*
 * qmp_cmd [-x] SOCKET JSON...: a minimal QMP client for the e2e cases. Connects
 * (retrying for up to 30 s while ember starts), checks the greeting, sends
 * qmp_capabilities, then each JSON text in turn, printing every reply on
 * its own line. A raw text (not checked) is sent as is, so that cases can
 * send malformed input too. -x: send the texts without a line end, read no
 * reply and leave (a client that goes away mid-command).
 * Exit status: 0 when every reply came, 1 otherwise.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

static int fd;
static char buf[1 << 20];
static size_t have;

/* One reply line (without CR LF) into line; 0 at EOF or after 20 s. */
static int read_line(char *line, size_t max)
{
	for (;;) {
		char *nl = memchr(buf, '\n', have);

		if (nl) {
			size_t n = (size_t)(nl - buf) + 1, len = n - 1;

			if (len && buf[len - 1] == '\r')
				len--;
			if (len >= max)
				len = max - 1;
			memcpy(line, buf, len);
			line[len] = 0;
			memmove(buf, buf + n, have - n);
			have -= n;
			return 1;
		}
		if (have == sizeof(buf))
			return 0;
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);

		if (r <= 0)
			return 0;
		have += (size_t)r;
	}
}

/* The text and its newline in one write: ember may answer and close at the '}'. */
static int send_all(const char *s)
{
	size_t len = strlen(s), done = 0;
	char *b = malloc(len + 1);
	int ret = 0;

	if (!b)
		return -1;
	memcpy(b, s, len);
	b[len++] = '\n';
	while (done < len) {
		ssize_t w = write(fd, b + done, len - done);

		if (w <= 0) {
			ret = -1;
			break;
		}
		done += (size_t)w;
	}
	free(b);
	return ret;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 20 };
	static char line[1 << 20];
	int tries = 0, leave = 0;

	if (argc > 1 && !strcmp(argv[1], "-x")) {
		leave = 1;
		argv++;
		argc--;
	}
	if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: qmp_cmd SOCKET [JSON...]\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	/* ember may close the connection first (quit, a command too long). */
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		if (fd >= 0)
			close(fd);
		if (++tries > 300) {
			fprintf(stderr, "qmp_cmd: cannot connect to %s: %s\n", argv[1],
				strerror(errno));
			return 1;
		}
		usleep(100000);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!read_line(line, sizeof(line)) || !strstr(line, "\"QMP\"")) {
		fprintf(stderr, "qmp_cmd: no greeting\n");
		return 1;
	}
	printf("%s\n", line);
	if (send_all("{\"execute\": \"qmp_capabilities\"}") || !read_line(line, sizeof(line)))
		return 1;
	printf("%s\n", line);
	for (int i = 2; leave && i < argc; i++)
		if (write(fd, argv[i], strlen(argv[i])) < 0)
			return 1;
	for (int i = 2; !leave && i < argc; i++) {
		/* A failed send may still have an error reply waiting. */
		int sent = !send_all(argv[i]), got = read_line(line, sizeof(line));

		if (got)
			printf("%s\n", line);
		if (!sent || !got) {
			fprintf(stderr, "qmp_cmd: %s %.80s\n",
				sent ? "no reply to" : "could not send all of", argv[i]);
			return 1;
		}
	}
	return 0;
}
