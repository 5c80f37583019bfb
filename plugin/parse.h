/*
 * parse.h - small, pure, bounded parsers for configuration values.
 *
 * Contract: each function parses the whole NUL-terminated string s (no
 * leading/trailing junk accepted, no whitespace trimming), writes *out only
 * on success, and returns 0 on success or -1 on failure.  No allocation, no
 * global state, never atoi/strtol without range checks.
 */
#ifndef MAIL_E2E_PARSE_H
#define MAIL_E2E_PARSE_H

#include <stdbool.h>

/* "250ms", "10s", "2m", "1h", a bare number of seconds ("30"), or units
 * together from the largest to the smallest, each once: "1m30s",
 * "1h30m", "2s500ms".  Each number may have a decimal part ("1.5s",
 * "0.5", "1.5h30m").  Result in milliseconds, each part rounded down; 0 is
 * allowed (callers enforce their own minimum); anything above one week
 * (604800000 ms), and text of DURATION_TEXT_MAX characters or more, fails. */
#define DURATION_TEXT_MAX 32
int parse_duration_ms(const char *s, long *out);

/* true/false, yes/no, on/off, 1/0 (case-insensitive). */
int parse_bool(const char *s, bool *out);

/* 1..65535, decimal digits only. */
int parse_port(const char *s, int *out);

/* A whole number in min..max, decimal digits only (at most 9). */
int parse_count(const char *s, long min, long max, long *out);

#endif
