/*
 * config_value.c - see config_value.h.
 */
#include "config_value.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int config_keep(char **field, const char *value, char *why, size_t cap)
{
	char *copy = strdup(value);

	if (!copy) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	config_drop_string(field);
	*field = copy;
	return 0;
}

void config_drop_string(char **field)
{
	if (*field) {
		explicit_bzero(*field, strlen(*field));
		free(*field);
		*field = NULL;
	}
}

const char *config_shown(const char *v, char *buf, size_t len)
{
	size_t i = 0;

	for (; *v && i + 4 < len; v++)
		buf[i++] = ((unsigned char)*v < 0x20 || *v == 0x7f) ? '?' : *v;
	if (*v && len > 4) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

int config_refuse(const char *text, const char *value, char *why, size_t cap)
{
	char b[80];

	snprintf(why, cap, "%s \"%s\"", text, config_shown(value, b, sizeof(b)));
	return -1;
}
