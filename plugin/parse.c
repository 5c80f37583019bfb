/*
 * parse.c - see parse.h.  Digits are accumulated with explicit bounds, so no
 * input can overflow; nothing depends on the locale.
 */
#include "parse.h"

#include <string.h>
#include <strings.h>

#define MAX_DURATION_MS 604800000L   /* one week */

/* One "<number><unit>" piece at *pp: its milliseconds (rounded down) and
 * the unit's rank (h 3, m 2, s 1, ms 0; a bare number: seconds, rank -1).
 * 0, or -1 for no number, an unknown unit or more than a week. */
static int duration_piece(const char **pp, unsigned long long *ms, int *rank)
{
	static const struct { const char *name; size_t len; unsigned long long ms; } units[] = {
		{ "ms", 2, 1 }, { "h", 1, 3600000 }, { "m", 1, 60000 }, { "s", 1, 1000 },
	};
	static const int ranks[] = { 0, 3, 2, 1 };
	unsigned long long whole = 0, frac = 0, frac_div = 1, unit = 1000;
	const char *p = *pp;
	size_t digits = 0;

	while (*p >= '0' && *p <= '9') {
		if (++digits > 12)
			return -1;
		whole = whole * 10 + (unsigned long long)(*p++ - '0');
	}
	if (*p == '.') {
		if (!(*++p >= '0' && *p <= '9'))
			return -1;
		for (; *p >= '0' && *p <= '9'; p++)
			if (frac_div < 1000000000ULL) {
				frac = frac * 10 + (unsigned long long)(*p - '0');
				frac_div *= 10;
			}
	}
	if (digits == 0 && frac_div == 1)
		return -1;
	*rank = -1;
	for (size_t i = 0; *p && i < sizeof(units) / sizeof(units[0]); i++)
		if (strncmp(p, units[i].name, units[i].len) == 0) {
			unit = units[i].ms;
			*rank = ranks[i];
			p += units[i].len;
			break;
		}
	if (whole > (unsigned long long)MAX_DURATION_MS / unit)
		return -1;
	*ms = whole * unit + frac * unit / frac_div;
	*pp = p;
	return *ms > (unsigned long long)MAX_DURATION_MS ? -1 : 0;
}

int parse_duration_ms(const char *s, long *out)
{
	unsigned long long total = 0, ms;
	const char *p = s;
	int rank, last = 4;

	if (strnlen(s, DURATION_TEXT_MAX) >= DURATION_TEXT_MAX || !*s)
		return -1;
	while (*p) {
		if (duration_piece(&p, &ms, &rank) != 0)
			return -1;
		/* A bare number stands alone; units go from large to small, once. */
		if (rank < 0 ? (p != s + strlen(s) || last != 4) : rank >= last)
			return -1;
		last = rank < 0 ? -1 : rank;
		total += ms;
		if (total > (unsigned long long)MAX_DURATION_MS)
			return -1;
	}
	*out = (long)total;
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
