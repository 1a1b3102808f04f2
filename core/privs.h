/* Giving up root (-U USER, -z DIR), as tcpdump does after opening the
 * capture device: supplementary groups, chroot and chdir("/"), then the
 * user's group and user id. */
#ifndef TCPFLOW_PRIVS_H
#define TCPFLOW_PRIVS_H

#include <stddef.h>

/* user: a name or a numeric uid; chroot_dir may be NULL. 0, or -1 with one
 * line in err. Afterwards root cannot be regained. */
int privs_drop(const char *user, const char *chroot_dir, char *err, size_t errlen);

#endif
