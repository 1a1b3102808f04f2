/* Dropping privileges after the capture device is open. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "privs.h"

int privs_drop(const char *user, const char *chroot_dir, char *err, size_t errlen)
{
	struct passwd *pw;
	char *end;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		unsigned long id = strtoul(user, &end, 10);
		if (*user && !*end)
			pw = getpwuid((uid_t)id);
	}
	if (!pw) {
		snprintf(err, errlen, "-U %s: no such user", user);
		return -1;
	}
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	/* The group file is read now: inside the chroot it may not exist. */
	if (initgroups(pw->pw_name, gid) != 0 && geteuid() == 0) {
		snprintf(err, errlen, "-U %s: cannot set its groups: %s", user, strerror(errno));
		return -1;
	}
	if (chroot_dir && (chroot(chroot_dir) != 0 || chdir("/") != 0)) {
		snprintf(err, errlen, "-z %s: cannot chroot: %s", chroot_dir, strerror(errno));
		return -1;
	}
	if (setgid(gid) != 0 || setuid(uid) != 0) {
		snprintf(err, errlen, "-U %s: cannot become uid %lu gid %lu: %s", user,
			 (unsigned long)uid, (unsigned long)gid, strerror(errno));
		return -1;
	}
	/* Make sure the change sticks. */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "-U %s: root could be regained; refusing to go on", user);
		return -1;
	}
	return 0;
}
