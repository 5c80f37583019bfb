/*
 * ascii.h - the character classes and the case-blind word comparison the
 * pure readers share (mail headers, reports, spam verdicts, blocklists,
 * MTA-STS policies).  ASCII by rule, never the locale: what a header says
 * must not change with LC_CTYPE, and bytes over 127 are no letter.
 * Header-only: each is a line or two.
 */
#ifndef MAIL_E2E_ASCII_H
#define MAIL_E2E_ASCII_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static inline char ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* A blank between words: space, tab, and a line end a folded header keeps. */
static inline bool ascii_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline bool ascii_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool ascii_is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static inline bool ascii_is_alnum(char c)
{
	return ascii_is_digit(c) || ascii_is_alpha(c);
}

/* The n bytes at s are word, ignoring case. */
static inline bool ascii_span_is(const char *s, size_t n, const char *word)
{
	if (strlen(word) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(s[i]) != ascii_lower(word[i]))
			return false;
	return true;
}

#endif
