/*
 * leg_token.c - see leg_token.h.
 */
#include "leg_token.h"

#include <stdio.h>

#include "oauth2.h"
#include "result.h"
#include "secret_file.h"

static int from_client(int rc, const char *why, char *err, size_t errlen)
{
	if (rc < 0)
		snprintf(err, errlen, "OAuth2 token: %.*s", (int)errlen - 16, why);
	return rc;
}

int leg_token_begin(struct leg_token *lt, CURLM *multi, const struct route *r, bool imap,
                    long timeout_ms, char **token, char *err, size_t errlen)
{
	const char *file = imap ? r->imap_token_file : r->smtp_token_file;
	char why[RESULT_ERROR_MAX];
	int rc;

	*token = NULL;
	lt->wait = NULL;
	if (imap ? r->imap_oauth2_client : r->smtp_oauth2_client) {
		rc = oauth2_token(multi, r, timeout_ms, token, &lt->wait, why, sizeof(why));
		return from_client(rc, why, err, errlen);
	}
	if (!file)
		return 1;
	if (secret_file_read(file, SECRET_TOKEN, token, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "OAuth2 token: %.*s", (int)errlen - 16, why);
		return -1;
	}
	return 1;
}

int leg_token_poll(struct leg_token *lt, char **token, char *err, size_t errlen)
{
	char why[RESULT_ERROR_MAX];
	int rc;

	*token = NULL;
	if (!lt->wait)
		return 1;
	rc = oauth2_wait_result(lt->wait, token, why, sizeof(why));
	if (rc != 0)
		leg_token_end(lt);
	return from_client(rc, why, err, errlen);
}

bool leg_token_waiting(const struct leg_token *lt)
{
	return lt->wait != NULL;
}

void leg_token_end(struct leg_token *lt)
{
	oauth2_wait_free(lt->wait);
	lt->wait = NULL;
}

void leg_token_refused(const struct route *r, bool imap)
{
	if (imap ? r->imap_oauth2_client : r->smtp_oauth2_client)
		oauth2_token_refused(r, NULL);
}
