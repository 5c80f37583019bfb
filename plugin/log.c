/*
 * log.c - see log.h.  One write(2) per line keeps lines whole even when
 * several processes share stderr (Telegraf reads it line by line).
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool trace_on;

void log_set_trace(bool on) { trace_on = on; }
bool log_trace_enabled(void) { return trace_on; }

static void log_line(const char *prefix, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX + 8];
	size_t plen = strlen(prefix), len;
	int n;

	memcpy(line, prefix, plen);
	n = vsnprintf(line + plen, LOG_LINE_MAX - plen, fmt, ap);
	if (n < 0)
		return;
	len = plen + (size_t)n;
	if (len >= LOG_LINE_MAX) {
		len = LOG_LINE_MAX - 1;
		memcpy(line + len - 3, "...", 3);
	}
	/* Telegraf splits on newlines: a CR/LF inside a message (a server's
	 * reply, say) must not start a new, unprefixed line. */
	for (size_t i = plen; i < len; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
			line[i] = ' ';
	line[len++] = '\n';
	for (size_t off = 0; off < len;) {
		ssize_t w = write(STDERR_FILENO, line + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;   /* nowhere left to report it */
		}
		off += (size_t)w;
	}
}

#define LOGGER(name, prefix, cond)                   \
	void name(const char *fmt, ...)              \
	{                                            \
		va_list ap;                          \
		if (!(cond))                         \
			return;                      \
		va_start(ap, fmt);                   \
		log_line(prefix, fmt, ap);           \
		va_end(ap);                          \
	}

LOGGER(log_error, "E! ", true)
LOGGER(log_warn, "W! ", true)
LOGGER(log_info, "I! ", true)
LOGGER(log_debug, "D! ", trace_on)
