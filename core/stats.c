#include "stats.h"

struct tf_stats tf_stats;

void tf_stats_visit(tf_stats_visit_fn fn, void *arg)
{
#define TF_STATS_VISIT(name) fn(#name, tf_stats.name, arg);
	TF_COUNTERS(TF_STATS_VISIT)
#undef TF_STATS_VISIT
}
