/*
 * message.c - see message.h.  The message is deliberately plain: 7-bit
 * headers, text/plain body, Auto-Submitted so that vacation responders and
 * mailing-list software leave it alone.
 */
#include "message.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The domain part of an address, for the Message-ID; "localhost" if none. */
static const char *address_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return (at && at[1]) ? at + 1 : "localhost";
}

char *message_build(const char *from, const char *to, const char *subject_prefix,
                    const char *route_name, const char *token,
                    const char *msgid_local, time_t now, size_t *len)
{
	char date[64];
	struct tm tm;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;

	/* RFC 5322 date in UTC; strftime's %a/%b are locale-free in the C locale,
	 * which is the only locale this program ever sets. */
	if (!gmtime_r(&now, &tm) ||
	    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
		return NULL;

	f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	fprintf(f,
		"From: %s\r\n"
		"To: %s\r\n"
		"Subject: %s %s\r\n"
		"Date: %s\r\n"
		"Message-ID: <%s@%s>\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: text/plain; charset=us-ascii\r\n"
		"Content-Transfer-Encoding: 7bit\r\n"
		"Auto-Submitted: auto-generated\r\n"
		MESSAGE_TOKEN_HEADER ": %s\r\n"
		"\r\n"
		"This is an automated end-to-end delivery probe sent by mail-e2e\r\n"
		"(route %s). It is deleted automatically once found.\r\n"
		"Token: %s\r\n",
		from, to, subject_prefix, token, date, msgid_local, address_domain(from),
		token, route_name, token);
	if (ferror(f)) {
		fclose(f);
		free(buf);
		return NULL;
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
