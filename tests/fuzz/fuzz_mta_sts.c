/*
 * fuzz_mta_sts.c - libFuzzer target for the MTA-STS and TLS-RPT readers
 * (plugin/mta_sts.c): the input as a policy file (in a buffer of exactly
 * its size, so a read past len is an ASan report), its lines as TXT
 * records for mta_sts_txt() and tlsrpt_txt(), and every policy pattern
 * against the input's first line as a host.  Checked: a valid policy has a
 * mode, a max_age in range, patterns that are terminated, lower case and
 * match themselves (a wildcard: itself with its '*' as one label); a valid
 * TXT id is 1-32 letters and digits; the reasons are terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mta_sts.h"

static struct mta_sts_policy policy;

static void check_policy(const struct mta_sts_policy *p)
{
	char host[DNS_NAME_MAX + 4];

	if (p->max_age < 0 || p->max_age > MTA_STS_MAX_AGE_MAX || p->n_mx > MTA_STS_MX_MAX ||
	    (p->mode != MTA_STS_MODE_NONE && p->n_mx == 0))
		abort();
	for (size_t i = 0; i < p->n_mx; i++) {
		const char *m = p->mx[i];
		if (!memchr(m, '\0', DNS_NAME_MAX))
			abort();
		for (const char *c = m; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				abort();
		if (m[0] == '*') {
			strcpy(host, "x");
			strcat(host, m + 1);
		} else {
			strcpy(host, m);
		}
		if (!mta_sts_pattern_match(m, host) || !mta_sts_mx_match(p, host))
			abort();
	}
}

/* The input's lines (at most 8) as TXT records. */
static void check_txt(const char *b, size_t size)
{
	static char lines[8][512];
	const char *rec[8];
	char id[MTA_STS_ID_MAX], why[200];
	size_t n = 0, start = 0;
	int rc;

	for (size_t i = 0; i <= size && n < 8; i++)
		if (i == size || b[i] == '\n') {
			size_t len = i - start < sizeof(lines[0]) - 1 ? i - start : sizeof(lines[0]) - 1;
			memcpy(lines[n], b + start, len);
			lines[n][len] = '\0';
			rec[n] = lines[n];
			n++;
			start = i + 1;
		}
	rc = mta_sts_txt(rec, n, id, why, sizeof(why));
	if (rc == 1) {
		size_t len = strnlen(id, MTA_STS_ID_MAX);
		if (len == 0 || len >= MTA_STS_ID_MAX)
			abort();
	} else if (rc == -1 && !memchr(why, '\0', sizeof(why))) {
		abort();
	}
	(void)tlsrpt_txt(rec, n);
	for (size_t i = 0; rc >= 0 && i < policy.n_mx && n > 0; i++)
		(void)mta_sts_pattern_match(policy.mx[i], rec[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *b = malloc(size ? size : 1);
	char why[200];

	if (!b)
		return 0;
	memcpy(b, data, size);
	if (mta_sts_policy_parse(b, size, &policy, why, sizeof(why)))
		check_policy(&policy);
	else if (!memchr(why, '\0', sizeof(why)))
		abort();
	check_txt(b, size);
	free(b);
	return 0;
}
