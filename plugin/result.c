/*
 * result.c - see result.h.
 */
#include "result.h"

#include <string.h>

static const char *const names[] = {
	[RESULT_SUCCESS] = "success",
	[RESULT_TIMEOUT] = "timeout",
	[RESULT_SMTP_CONNECT_FAILED] = "smtp_connect_failed",
	[RESULT_SMTP_TLS_FAILED] = "smtp_tls_failed",
	[RESULT_SMTP_AUTH_FAILED] = "smtp_auth_failed",
	[RESULT_SMTP_REJECTED] = "smtp_rejected",
	[RESULT_IMAP_CONNECT_FAILED] = "imap_connect_failed",
	[RESULT_IMAP_TLS_FAILED] = "imap_tls_failed",
	[RESULT_IMAP_AUTH_FAILED] = "imap_auth_failed",
	[RESULT_IMAP_ERROR] = "imap_error",
	[RESULT_INTERNAL_ERROR] = "internal_error",
	[RESULT_JUNK] = "junk",
	[RESULT_AUTH_FAILED] = "auth_failed",
	[RESULT_BOUNCED] = "bounced",
};

const char *result_name(enum result_class r)
{
	if ((unsigned)r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "internal_error";
}

bool result_from_name(const char *name, enum result_class *r)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i] && strcmp(names[i], name) == 0) {
			*r = (enum result_class)i;
			return true;
		}
	return false;
}

void result_init(struct probe_result *r, int64_t cycle_start_ns)
{
	memset(r, 0, sizeof(*r));
	r->result = RESULT_INTERNAL_ERROR;
	r->cycle_start_ns = cycle_start_ns;
	r->t_smtp_start = r->t_smtp_done = -1;
	r->t_imap_start = r->t_imap_search_start = -1;
	r->t_found = r->t_end = -1;
	r->tries = -1;
	r->smtp_code = -1;
	r->late = -1;
	r->hops = r->plain_hops = -1;
}
