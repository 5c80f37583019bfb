/*
 * mx_result.h - the fields of SPEC §12 in a probe's result: where the
 * message went (mx, mx_tried, the smtp_server tag) and what the recipient
 * domain's transport-security policy made of it (mx_tls, mta_sts, dane,
 * tlsrpt, tls_policy).  Plain data (no heap), one member of struct
 * probe_result; filled by the MX walk (plugin/smtp/mx.c), written by
 * output_mx.c.  All zero means "not an mx route": nothing is written.
 * Each enum's 0 is "absent" (not known: the walk ended before it).
 */
#ifndef MAIL_E2E_MX_RESULT_H
#define MAIL_E2E_MX_RESULT_H

#include <stdbool.h>

#include "dns_rr.h"

enum mx_tls { MX_TLS_ABSENT = 0, MX_TLS_VERIFIED, MX_TLS_UNVERIFIED, MX_TLS_NONE };
enum mx_sts { MX_STS_ABSENT = 0, MX_STS_NONE, MX_STS_TESTING, MX_STS_ENFORCE, MX_STS_INVALID };
enum mx_dane { MX_DANE_ABSENT = 0, MX_DANE_NONE, MX_DANE_PASS, MX_DANE_FAIL, MX_DANE_UNUSABLE, MX_DANE_BOGUS };
enum mx_policy { MX_POLICY_ABSENT = 0, MX_POLICY_NONE, MX_POLICY_PASS, MX_POLICY_FAIL };
enum mx_tlsrpt { MX_TLSRPT_ABSENT = 0, MX_TLSRPT_NO, MX_TLSRPT_YES };

struct mx_result {
	bool used;                       /* smtp_via = mx: the fields are written */
	char mx[DNS_NAME_MAX];           /* the host that accepted; "" none */
	char server[DNS_NAME_MAX + 8];   /* smtp_server tag: "host:port" that accepted, else
	                                    the first tried; "" none tried */
	int tried;                       /* MX hosts a TCP connection was attempted to */
	enum mx_tls tls;                 /* of the host that accepted, else the last judged */
	enum mx_sts mta_sts;
	enum mx_dane dane;
	enum mx_tlsrpt tlsrpt;
	enum mx_policy policy;
};

#endif
