/*
 * smtp_reply.c - see smtp_reply.h.
 */
#include "smtp_reply.h"

#include <ctype.h>
#include <stdio.h>

/* 1 to 3 digits at *p; advances it. */
static bool digits(const char **p)
{
	int n = 0;

	while (isdigit((unsigned char)**p) && n < 4) {
		(*p)++;
		n++;
	}
	return n >= 1 && n <= 3;
}

bool smtp_reply_status(const char *line, char *out, size_t cap)
{
	const char *p = line + 4, *start;

	for (int i = 0; i < 3; i++)
		if (!isdigit((unsigned char)line[i]))
			return false;
	if ((line[3] != ' ' && line[3] != '-') || line[0] < '2' || line[0] > '5')
		return false;
	/* A class that contradicts the reply code is text, not a status. */
	if (*p != line[0] || (*p != '2' && *p != '4' && *p != '5') || p[1] != '.')
		return false;
	start = p;
	p += 2;
	if (!digits(&p) || *p != '.')
		return false;
	p++;
	if (!digits(&p) || (*p != ' ' && *p != '\0'))
		return false;
	if ((size_t)(p - start) + 1 > cap)
		return false;
	snprintf(out, cap, "%.*s", (int)(p - start), start);
	return true;
}
