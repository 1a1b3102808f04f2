/* portbytes: an example tcpflow scanner.
 *
 * Counts the stream bytes of every flow by service port (the lower of the
 * two ports), adds <portbytes port= bytes=/> to each flow's <fileobject>,
 * and at the end a summary to the report:
 *   <portbytes_summary><port number='80' flows='2' bytes='1234'/>...</portbytes_summary>
 * Parameter: portbytes_min=N lists only ports with at least N bytes.
 *
 * Build (only the installed SDK is needed): make
 * Run:   tcpflow -P . -S portbytes -r capture.pcap */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpflow/scanner.h>

static const struct tf_host *host;

struct port_count {
	uint64_t bytes;
	uint64_t flows;
};

struct flow_count {         /* kept in each flow's slot */
	uint64_t bytes;
};

struct state {
	struct port_count *ports;   /* 65536 entries */
	unsigned long long min;
};

static const struct tf_param params[] = {
	{ "portbytes_min", "0", "list only ports with at least this many bytes" },
	{ NULL, NULL, NULL },
};

static int pb_init(struct tf_ctx *ctx, void **state)
{
	struct state *st = calloc(1, sizeof *st);
	if (!st || !(st->ports = calloc(65536, sizeof *st->ports))) {
		free(st);
		tf_logf(host, ctx, TF_LOG_ERROR, "out of memory");
		return -ENOMEM;
	}
	const char *v = host->get_param(ctx, "portbytes_min");
	char *end;
	st->min = strtoull(v, &end, 10);
	if (!*v || *end) {
		tf_logf(host, ctx, TF_LOG_ERROR, "portbytes_min: '%s' is not a number", v);
		free(st->ports);
		free(st);
		return -EINVAL;
	}
	*state = st;
	return 0;
}

static uint16_t service_port(const struct tf_flow *flow)
{
	return flow->sport < flow->dport ? flow->sport : flow->dport;
}

/* In-order bytes as they arrive: count them (a partial-stream scanner). */
static void pb_data(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
		    void **flow_state, uint64_t offset, const uint8_t *data, size_t len)
{
	struct state *st = state;
	(void)ctx;
	(void)offset;
	(void)data;
	struct flow_count *fc = *flow_state;
	if (!fc) {
		if (!(fc = calloc(1, sizeof *fc)))
			return;
		*flow_state = fc;
	}
	fc->bytes += len;
	st->ports[service_port(flow)].bytes += len;
}

static void pb_close(struct tf_ctx *ctx, void *state, const struct tf_flow *flow,
		     void **flow_state)
{
	struct state *st = state;
	struct flow_count *fc = *flow_state;
	char num[32];
	uint16_t port = service_port(flow);
	st->ports[port].flows++;
	host->report_start(ctx, flow->entry, "portbytes");
	snprintf(num, sizeof num, "%u", (unsigned)port);
	host->report_attr(ctx, flow->entry, "port", num);
	snprintf(num, sizeof num, "%llu", (unsigned long long)(fc ? fc->bytes : 0));
	host->report_attr(ctx, flow->entry, "bytes", num);
	host->report_end(ctx, flow->entry);
	free(fc);
	*flow_state = NULL;
}

static void pb_shutdown(struct tf_ctx *ctx, void *state)
{
	struct state *st = state;
	char num[32];
	host->report_start(ctx, NULL, "portbytes_summary");
	for (unsigned p = 0; p < 65536; p++) {
		if (!st->ports[p].flows || st->ports[p].bytes < st->min)
			continue;
		host->report_start(ctx, NULL, "port");
		snprintf(num, sizeof num, "%u", p);
		host->report_attr(ctx, NULL, "number", num);
		snprintf(num, sizeof num, "%llu", (unsigned long long)st->ports[p].flows);
		host->report_attr(ctx, NULL, "flows", num);
		snprintf(num, sizeof num, "%llu", (unsigned long long)st->ports[p].bytes);
		host->report_attr(ctx, NULL, "bytes", num);
		host->report_end(ctx, NULL);
	}
	host->report_end(ctx, NULL);
	free(st->ports);
	free(st);
}

static const struct tf_scanner scanner = {
	.size = sizeof(struct tf_scanner),
	.abi_major = TF_ABI_MAJOR,
	.abi_minor = TF_ABI_MINOR,
	.name = "portbytes",
	.version = "1.0",
	.description = "example: stream bytes per service port",
	.params = params,
	.init = pb_init,
	.shutdown = pb_shutdown,
	.on_data = pb_data,
	.on_flow_close = pb_close,
};

TF_EXPORT const struct tf_scanner *TF_ENTRY(const struct tf_host *h)
{
	if (h->abi_major != TF_ABI_MAJOR)
		return NULL;
	host = h;
	return &scanner;
}
