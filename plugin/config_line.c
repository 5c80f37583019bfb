/*
 * config_line.c - see config_line.h.
 */
#include "config_line.h"

#include <stdbool.h>
#include <string.h>

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Where the comment of line starts (at or after from), or the line's end:
 * the first ';' or '#' that follows a blank. */
static size_t comment_at(const char *line, size_t from)
{
	size_t i;

	for (i = from; line[i]; i++)
		if ((line[i] == ';' || line[i] == '#') && i > 0 && blank(line[i - 1]))
			break;
	return i;
}

/* Only blanks, then the end or a comment, from i on. */
static bool rest_is_comment(const char *line, size_t i)
{
	while (blank(line[i]))
		i++;
	return !line[i] || comment_at(line, i) == i;
}

static size_t trim_end(const char *line, size_t end, size_t start)
{
	while (end > start && blank(line[end - 1]))
		end--;
	return end;
}

/* The value starting at line[v] (blanks skipped): quoted or plain. */
static enum config_line_kind split_value(const char *line, size_t v, struct config_line *out)
{
	if (line[v] == '"') {
		for (size_t q = v + 1; line[q]; q++)
			if (line[q] == '"' && rest_is_comment(line, q + 1)) {
				out->value = line + v + 1;
				out->value_len = q - v - 1;
				return CONFIG_LINE_PAIR;
			}
		out->error = "unterminated quote: a value that starts with \" ends with \", "
		             "and only blanks or a comment may follow it";
		return CONFIG_LINE_BAD;
	}
	out->value = line + v;
	out->value_len = trim_end(line, comment_at(line, v), v) - v;
	return CONFIG_LINE_PAIR;
}

enum config_line_kind config_line_split(const char *line, struct config_line *out)
{
	size_t end = comment_at(line, 0), sep, k0 = 0, v;

	memset(out, 0, sizeof(*out));
	if (line[0] == ';' || line[0] == '#')
		return CONFIG_LINE_EMPTY;
	end = trim_end(line, end, 0);
	out->text_len = end;
	if (end == 0)
		return CONFIG_LINE_EMPTY;
	if (line[0] == '[')
		return CONFIG_LINE_SECTION;
	sep = strcspn(line, "=:");
	if (sep >= end)
		return CONFIG_LINE_OTHER;   /* no separator before the comment */
	while (blank(line[k0]))
		k0++;
	out->key = line + k0;
	out->key_len = trim_end(line, sep, k0) - k0;
	if (out->key_len == 0) {
		out->error = "a value without a key: expected \"key = value\"";
		return CONFIG_LINE_BAD;
	}
	for (v = sep + 1; blank(line[v]); v++)
		;
	return split_value(line, v, out);
}
