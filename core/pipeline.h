/* The run: open the store and the report, feed every input's packets
 * through decode -> tcp, close everything, write the report. */
#ifndef TCPFLOW_PIPELINE_H
#define TCPFLOW_PIPELINE_H

#include "config.h"

/* Returns the process exit status: 0, or 2 when the run could not go on. */
int pipeline_run(const struct tf_config *cfg, int argc, char **argv);

#endif
