/* tcp_alert_fd lines and tcp_cmd commands for flow files. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flowcmd.h"

struct flowcmd {
	char *script;             /* "CMD \"$1\"" for sh -c */
	int alert_fd;
	int alert_failed;
	pid_t kids[FLOWCMD_MAX_CHILDREN];   /* our commands still running */
	int running;
	unsigned long failures;
};

struct flowcmd *flowcmd_new(const char *cmd, int alert_fd, char *err, size_t errlen)
{
	if (alert_fd >= 0 && fcntl(alert_fd, F_GETFD) < 0) {
		snprintf(err, errlen, "tcp_alert_fd=%d: %s", alert_fd, strerror(errno));
		return NULL;
	}
	struct flowcmd *fc = calloc(1, sizeof *fc);
	if (!fc)
		goto nomem;
	fc->alert_fd = alert_fd;
	if (cmd && *cmd) {
		size_t n = strlen(cmd) + sizeof " \"$1\"";
		fc->script = malloc(n);
		if (!fc->script)
			goto nomem;
		snprintf(fc->script, n, "%s \"$1\"", cmd);
	}
	return fc;
nomem:
	free(fc);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

static void alert(struct flowcmd *fc, const char *what, const char *path)
{
	if (fc->alert_fd < 0 || fc->alert_failed)
		return;
	char line[4200];
	int n = snprintf(line, sizeof line, "%s\t%s\n", what, path);
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	/* One write per line, so a reader never sees half a line from us. */
	for (size_t done = 0; done < (size_t)n;) {
		ssize_t w = write(fc->alert_fd, line + done, (size_t)n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "tcpflow: tcp_alert_fd=%d: %s; no more alerts\n",
				fc->alert_fd, strerror(errno));
			fc->alert_failed = 1;
			return;
		}
		done += (size_t)w;
	}
}

void flowcmd_opened(struct flowcmd *fc, const char *path)
{
	if (fc)
		alert(fc, "open", path);
}

/* Collect our finished commands (only our own pids: other children of the
 * process are not ours to reap); with block, wait for the oldest. */
static void reap(struct flowcmd *fc, int block)
{
	for (int i = 0; i < fc->running;) {
		int st;
		pid_t pid = waitpid(fc->kids[i], &st, block && i == 0 ? 0 : WNOHANG);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid == 0) {
			i++;
			continue;
		}
		if (pid > 0 && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
			fc->failures++;
		memmove(fc->kids + i, fc->kids + i + 1,
			(size_t)(fc->running - i - 1) * sizeof *fc->kids);
		fc->running--;
		block = 0;
	}
}

static void run(struct flowcmd *fc, const char *path)
{
	reap(fc, 0);
	while (fc->running >= FLOWCMD_MAX_CHILDREN)
		reap(fc, 1);
	fflush(stdout);           /* the command's output comes after ours */
	pid_t pid = fork();
	if (pid < 0) {
		fc->failures++;
		return;
	}
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", fc->script, "sh", path, (char *)NULL);
		_exit(127);
	}
	fc->kids[fc->running++] = pid;
}

void flowcmd_closed(struct flowcmd *fc, const char *path)
{
	if (!fc)
		return;
	alert(fc, "close", path);
	if (fc->script)
		run(fc, path);
}

unsigned long flowcmd_failures(const struct flowcmd *fc)
{
	return fc ? fc->failures : 0;
}

void flowcmd_wait(struct flowcmd *fc)
{
	while (fc && fc->running > 0)
		reap(fc, 1);
}

void flowcmd_free(struct flowcmd *fc)
{
	if (!fc)
		return;
	flowcmd_wait(fc);
	free(fc->script);
	free(fc);
}
