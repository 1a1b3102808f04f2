/* Replay driver: runs a fuzz target's LLVMFuzzerTestOneInput on files,
 * without libFuzzer (any C compiler; link it with one tests/fuzz/fuzz_*.c).
 *
 *   replay_NAME [FILE|DIR]...
 *
 * Every regular file named, and every regular file below every directory
 * named (recursively, in byte order of the names, so runs are repeatable),
 * is one input. With no arguments it replays FUZZ_SEED_DIR (tests/data,
 * compiled in), which is what `make check` does. Use it to reproduce a
 * crash file from `make fuzz-smoke` under gdb or valgrind, or to check a
 * directory of fuzzer findings after a fix.
 *
 * Exit status: 0 when every input ran (a failed invariant aborts), 1 when
 * an argument could not be read, 77 (skip) with no arguments and no seed
 * directory. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned long ninputs;
static int errors;

static void run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	if (!fp) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		errors++;
		return;
	}
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			uint8_t *nb = realloc(buf, ncap);
			if (!nb) {
				fprintf(stderr, "replay: %s: out of memory\n", path);
				errors++;
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		size_t n = fread(buf + len, 1, cap - len, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		fprintf(stderr, "replay: %s: read error\n", path);
		errors++;
		goto out;
	}
	printf("replay: %s (%zu bytes)\n", path, len);
	fflush(stdout);
	/* A copy of exactly len bytes, so ASan sees reads past the input. */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		errors++;
		goto out;
	}
	if (len)
		memcpy(exact, buf, len);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	ninputs++;
out:
	free(buf);
	fclose(fp);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* top: named on the command line (symbolic links followed); below a
 * directory, only links to regular files are followed, so a link cycle
 * cannot make the walk endless. */
static void run_path(const char *path, int top)
{
	struct stat st;
	if ((top ? stat(path, &st) : lstat(path, &st)) < 0 ||
	    (S_ISLNK(st.st_mode) && (stat(path, &st) < 0 || S_ISDIR(st.st_mode)))) {
		if (!top)
			return;
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		errors++;
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (S_ISREG(st.st_mode))
			run_file(path);
		return;
	}
	struct dirent **list = NULL;
	int n = scandir(path, &list, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		errors++;
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		if (strcmp(name, ".") != 0 && strcmp(name, "..") != 0) {
			size_t need = strlen(path) + 1 + strlen(name) + 1;
			char *child = malloc(need);
			if (child) {
				snprintf(child, need, "%s/%s", path, name);
				run_path(child, 0);
				free(child);
			} else {
				errors++;
			}
		}
		free(list[i]);
	}
	free(list);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
#ifdef FUZZ_SEED_DIR
		struct stat st;
		if (stat(FUZZ_SEED_DIR, &st) < 0) {
			printf("replay: seed directory %s not found: skipped\n", FUZZ_SEED_DIR);
			return 77;
		}
		run_path(FUZZ_SEED_DIR, 1);
#else
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 77;
#endif
	}
	for (int i = 1; i < argc; i++)
		run_path(argv[i], 1);
	printf("replay: %lu inputs, %d errors\n", ninputs, errors);
	return errors ? 1 : 0;
}
