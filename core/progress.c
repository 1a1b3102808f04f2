/* The progress line. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

struct progress {
	FILE *out;
	const char *label;
	uint64_t total;
	double start, last;
	unsigned calls;
	int shown;
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct progress *progress_new(FILE *out, const char *label, uint64_t total, int quiet)
{
	if (quiet || total <= PROGRESS_MIN_SIZE || !isatty(fileno(out)))
		return NULL;
	struct progress *pg = calloc(1, sizeof *pg);
	if (!pg)
		return NULL;
	pg->out = out;
	pg->label = label;
	pg->total = total;
	pg->start = pg->last = now();
	return pg;
}

/* 1234567 -> "1.2 MB" (decimal units, as file sizes are usually shown). */
static void human(char *buf, size_t len, double v)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	int u = 0;
	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

void progress_update(struct progress *pg, uint64_t done, uint64_t flows_open)
{
	if (!pg || ++pg->calls % PROGRESS_EVERY)
		return;
	double t = now();
	if (pg->shown && t - pg->last < 1.0)
		return;   /* the first line at once, then once a second */
	pg->last = t;
	char d[32], tot[32], rate[32];
	human(d, sizeof d, (double)done);
	human(tot, sizeof tot, (double)pg->total);
	human(rate, sizeof rate, t > pg->start ? (double)done / (t - pg->start) : 0);
	fprintf(pg->out, "\rtcpflow: %s: %s of %s (%.0f%%), %s/s, %llu flows open\033[K",
		pg->label, d, tot, pg->total ? 100.0 * (double)done / (double)pg->total : 0.0,
		rate, (unsigned long long)flows_open);
	fflush(pg->out);
	pg->shown = 1;
}

void progress_end(struct progress *pg)
{
	if (!pg)
		return;
	if (pg->shown) {
		fputs("\r\033[K", pg->out);
		fflush(pg->out);
	}
	free(pg);
}
