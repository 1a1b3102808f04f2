/* tcpflow: reassemble TCP streams from captures into one file per direction. */
#include <stdio.h>

#include "config.h"
#include "pipeline.h"
#include "scanner_host.h"

int main(int argc, char **argv)
{
	struct tf_config cfg;
	char err[512];
	int rc = config_parse(&cfg, argc, argv, err, sizeof err);
	if (rc > 0 && cfg.help_level > 1) {   /* -hh: the scanners too */
		struct scanner_host *h = scanner_host_load(&cfg, err, sizeof err);
		printf("\nScanners (-S NAME to enable, -H for details):\n");
		if (h)
			scanner_host_list(h, stdout);
		else
			printf("   (none could be loaded: %s)\n", err);
		scanner_host_free(h);
	}
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "tcpflow: %s\n", err);
		config_free(&cfg);
		return rc < 0 ? 2 : 0;
	}
	if (cfg.list_scanners) {   /* -H */
		struct scanner_host *h = scanner_host_load(&cfg, err, sizeof err);
		if (!h) {
			fprintf(stderr, "tcpflow: %s\n", err);
			config_free(&cfg);
			return 2;
		}
		scanner_host_list(h, stdout);
		scanner_host_free(h);
		config_free(&cfg);
		return 0;
	}
	rc = pipeline_run(&cfg, argc, argv);
	config_free(&cfg);
	return rc;
}
