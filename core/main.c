/* tcpflow: reassemble TCP streams from captures into one file per direction. */
#include <stdio.h>

#include "config.h"
#include "pipeline.h"

int main(int argc, char **argv)
{
	struct tf_config cfg;
	char err[512];
	int rc = config_parse(&cfg, argc, argv, err, sizeof err);
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "tcpflow: %s\n", err);
		config_free(&cfg);
		return rc < 0 ? 2 : 0;
	}
	rc = pipeline_run(&cfg, argc, argv);
	config_free(&cfg);
	return rc;
}
