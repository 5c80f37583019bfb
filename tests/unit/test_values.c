/*
 * test_values.c - table-driven tests of the configuration value parsers
 * (plugin/parse.c): durations, booleans, ports.
 */
#include <string.h>

#include "parse.h"
#include "unit.h"

static const struct { const char *in; int rc; long ms; } durations[] = {
	{ "10", 0, 10000 }, { "10s", 0, 10000 }, { "250ms", 0, 250 }, { "2m", 0, 120000 },
	{ "1h", 0, 3600000 }, { "1.5s", 0, 1500 }, { "0.5", 0, 500 }, { ".5s", 0, 500 },
	{ "0", 0, 0 }, { "0ms", 0, 0 }, { "168h", 0, 604800000 }, { "1.0001s", 0, 1000 },
	{ "100ms", 0, 100 }, { "59m", 0, 3540000 },
	{ "", -1, 0 }, { "5.", -1, 0 }, { "-1s", -1, 0 }, { "+1s", -1, 0 }, { "10 s", -1, 0 },
	{ " 10s", -1, 0 }, { "10s ", -1, 0 }, { "10x", -1, 0 }, { "ms", -1, 0 }, { "s", -1, 0 },
	{ "169h", -1, 0 }, { "99999999999999h", -1, 0 }, { "1e3", -1, 0 }, { "10S", -1, 0 },
	{ "0x10", -1, 0 },
	/* units together, largest first, each once (issue 21) */
	{ "1m30s", 0, 90000 }, { "1h30m", 0, 5400000 }, { "2s500ms", 0, 2500 },
	{ "1h1m1s1ms", 0, 3661001 }, { "1h0m0s", 0, 3600000 }, { "0m0s", 0, 0 },
	{ "1.5h30m", 0, 7200000 }, { "1m0.5s", 0, 60500 }, { "167h59m59s999ms", 0, 604799999 },
	{ "168h0ms", 0, 604800000 }, { "167h60m1ms", -1, 0 }, { "100000m1s", -1, 0 },
	{ "30s1m", -1, 0 }, { "1s1s", -1, 0 }, { "1m1m", -1, 0 }, { "1ms1s", -1, 0 },
	{ "1m30", -1, 0 }, { "30 1m", -1, 0 }, { "1m 30s", -1, 0 }, { "1m30s ", -1, 0 },
	{ "1m30x", -1, 0 }, { "1m.s", -1, 0 }, { "1mm", -1, 0 }, { "1hs", -1, 0 },
	{ "1m-30s", -1, 0 }, { "m30s", -1, 0 },
	/* bounded: the text itself (31 characters pass, 32 do not), then each number */
	{ "1.0000000000000000000000000000s", 0, 1000 }, { "1.00000000000000000000000000000s", -1, 0 },
	{ "999999999999ms", -1, 0 }, { "1000000000000ms", -1, 0 }, { "604800000ms", 0, 604800000 },
	{ "000000001m000001s", 0, 61000 },
};

static const struct { const char *in; int rc; bool v; } bools[] = {
	{ "true", 0, true }, { "TRUE", 0, true }, { "yes", 0, true }, { "On", 0, true }, { "1", 0, true },
	{ "false", 0, false }, { "No", 0, false }, { "off", 0, false }, { "0", 0, false },
	{ "", -1, false }, { "maybe", -1, false }, { "2", -1, false }, { "true ", -1, false }, { "y", -1, false },
};

static const struct { const char *in; int rc; int port; } ports[] = {
	{ "1", 0, 1 }, { "25", 0, 25 }, { "587", 0, 587 }, { "65535", 0, 65535 }, { "080", 0, 80 },
	{ "0", -1, 0 }, { "65536", -1, 0 }, { "99999", -1, 0 }, { "123456", -1, 0 }, { "80a", -1, 0 },
	{ "", -1, 0 }, { "+80", -1, 0 }, { "-80", -1, 0 }, { " 80", -1, 0 }, { "8 0", -1, 0 },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		long ms = -7;
		int rc = parse_duration_ms(durations[i].in, &ms);
		CHECK(rc == durations[i].rc && (rc != 0 || ms == durations[i].ms) && (rc == 0 || ms == -7),
		      "duration '%s' -> %d, %ld ms", durations[i].in, rc, ms);
	}
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		bool v = !bools[i].v;
		int rc = parse_bool(bools[i].in, &v);
		CHECK(rc == bools[i].rc && (rc != 0 || v == bools[i].v), "bool '%s' -> %d", bools[i].in, rc);
	}
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		int p = -7;
		int rc = parse_port(ports[i].in, &p);
		CHECK(rc == ports[i].rc && (rc != 0 || p == ports[i].port) && (rc == 0 || p == -7),
		      "port '%s' -> %d, %d", ports[i].in, rc, p);
	}
	return unit_done();
}
