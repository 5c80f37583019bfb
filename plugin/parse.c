/*
 * parse.c - see parse.h.  Digits are accumulated with explicit bounds, so no
 * input can overflow; nothing depends on the locale.
 */
#include "parse.h"

#include <string.h>
#include <strings.h>

#define MAX_DURATION_MS 604800000L   /* one week */

int parse_duration_ms(const char *s, long *out)
{
	unsigned long long whole = 0, frac = 0, frac_div = 1, unit;
	const char *p = s;
	size_t digits = 0;

	while (*p >= '0' && *p <= '9') {
		if (++digits > 12)
			return -1;
		whole = whole * 10 + (unsigned long long)(*p++ - '0');
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return -1;
		while (*p >= '0' && *p <= '9') {
			if (frac_div < 1000000000ULL) {
				frac = frac * 10 + (unsigned long long)(*p - '0');
				frac_div *= 10;
			}
			p++;
		}
	}
	if (digits == 0 && frac_div == 1)
		return -1;
	if (strcmp(p, "ms") == 0)
		unit = 1;
	else if (strcmp(p, "s") == 0 || *p == '\0')
		unit = 1000;
	else if (strcmp(p, "m") == 0)
		unit = 60000;
	else if (strcmp(p, "h") == 0)
		unit = 3600000;
	else
		return -1;
	if (whole > (unsigned long long)MAX_DURATION_MS / unit)
		return -1;
	whole = whole * unit + frac * unit / frac_div;
	if (whole > (unsigned long long)MAX_DURATION_MS)
		return -1;
	*out = (long)whole;
	return 0;
}

int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int parse_port(const char *s, int *out)
{
	long v;

	if (strlen(s) > 5 || parse_count(s, 1, 65535, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

int parse_count(const char *s, long min, long max, long *out)
{
	long v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 9)
			return -1;
		v = v * 10 + (s[n] - '0');
	}
	if (n == 0 || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
