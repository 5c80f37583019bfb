/*
 * config_line.h - one line of the configuration file, split by the one
 * rule for comments (README "Configuration", mail-e2e.conf(5)):
 *
 *   - a line whose first character (after blanks) is ';' or '#' is a
 *     comment;
 *   - elsewhere a ';' or '#' that follows a blank (space or tab) starts a
 *     comment that runs to the end of the line: "timeout = 30s # half a
 *     minute" is 30s; a ';' or '#' right after another character is text
 *     ("pass#word", "a;b");
 *   - a value that starts with '"' is quoted: it runs to a closing '"'
 *     that only blanks, or blanks and a comment, follow; inside, ';', '#'
 *     and blanks are text (subject_prefix = "[probe #1]").  The quotes
 *     are dropped.  There are no escapes: the closing quote is the first
 *     '"' that only blanks or a comment follow, so a value may hold '"'
 *     inside ("say "hi" twice").
 *
 * inih (as Debian builds it: inline comments on, with ';' only) cuts a
 * value at " ;" even inside quotes, so config.c splits every line here
 * first and hands inih only the key; the value never passes through inih.
 *
 * Contract: config_line_split() is pure: no allocation, no state.  line is
 * one line without its line end and without leading blanks.  The pieces
 * point into line (not NUL-terminated: use the lengths).  Returns the kind;
 * for CONFIG_LINE_BAD, *error says why (a static string).
 */
#ifndef MAIL_E2E_CONFIG_LINE_H
#define MAIL_E2E_CONFIG_LINE_H

#include <stddef.h>

enum config_line_kind {
	CONFIG_LINE_EMPTY,    /* blank, or a comment */
	CONFIG_LINE_SECTION,  /* starts with '[': inih and config.c read it */
	CONFIG_LINE_PAIR,     /* key = value (or key: value, as inih allows) */
	CONFIG_LINE_OTHER,    /* none of these: text (comment cut) for inih to refuse */
	CONFIG_LINE_BAD,      /* a pair whose value is wrongly quoted */
};

struct config_line {
	const char *key;      /* PAIR, BAD: the key, blanks around it removed */
	size_t key_len;
	const char *value;    /* PAIR: the value, comment, blanks and quotes removed */
	size_t value_len;
	size_t text_len;      /* OTHER, SECTION: the line up to its comment */
	const char *error;    /* BAD */
};

enum config_line_kind config_line_split(const char *line, struct config_line *out);

#endif
