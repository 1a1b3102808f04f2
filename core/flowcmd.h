/* Flow notifications, as tcpflow 1.6's tcpdemux settings:
 *
 *   -S tcp_alert_fd=N  "open\tPATH\n" when a flow file is created and
 *                      "close\tPATH\n" when it is complete, written to fd N;
 *   -S tcp_cmd=CMD     CMD PATH run through /bin/sh for every flow file once
 *                      it is closed (PATH passed as one argument, never
 *                      parsed by the shell), up to FLOWCMD_MAX_CHILDREN at a
 *                      time; all have finished when flowcmd_free returns.
 *
 * Only flows that have a file get notifications (not -FX or console runs). */
#ifndef TCPFLOW_FLOWCMD_H
#define TCPFLOW_FLOWCMD_H

#include <stddef.h>

#define FLOWCMD_MAX_CHILDREN 8

struct flowcmd;

/* cmd may be NULL, alert_fd -1. NULL + reason when alert_fd is not an open
 * descriptor or memory runs out. */
struct flowcmd *flowcmd_new(const char *cmd, int alert_fd, char *err, size_t errlen);

void flowcmd_opened(struct flowcmd *fc, const char *path);
void flowcmd_closed(struct flowcmd *fc, const char *path);

/* Commands that could not be started or exited with a non-zero status. */
unsigned long flowcmd_failures(const struct flowcmd *fc);

/* Wait for the commands still running. */
void flowcmd_wait(struct flowcmd *fc);

/* flowcmd_wait, then free. NULL is fine. */
void flowcmd_free(struct flowcmd *fc);

#endif
