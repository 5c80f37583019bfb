/*
 * log.h - one-line log messages on stderr, prefixed for Telegraf.
 *
 * Contract: every call writes exactly one line "E! text\n" (W!, I!, D!) to
 * stderr with a single write, so concurrent writers never interleave mid-line.
 * CR, LF and other control characters in the formatted text are replaced by
 * spaces and the line is cut at LOG_LINE_MAX bytes.  log_debug() prints only
 * when log_set_trace(true) was called (--trace).  Nothing here allocates.
 * Callers must never pass a secret; trace callers redact before logging.
 */
#ifndef MAIL_E2E_LOG_H
#define MAIL_E2E_LOG_H

#include <stdbool.h>

#define LOG_LINE_MAX 1024

#define LOG_PRINTF(f, a) __attribute__((format(printf, f, a)))

void log_set_trace(bool on);
bool log_trace_enabled(void);

void log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);

#endif
