/*
 * result_classes.h - the result classes of SPEC §5, in one table: the
 * enum (result.h), the names (result.c, the `result` tag, `expect`) and the
 * tests (tests/lib/e2e.py result_classes() reads this file) all come from
 * here, so a class is added in one line.
 *
 * RESULT_CLASSES(X) calls X(ID, name, code, meaning) once per class, in
 * code order; codes are 0, 1, 2, ... without gaps (result.c checks).
 * Keep each entry on one line: the tests read them with a regular
 * expression.
 */
#ifndef MAIL_E2E_RESULT_CLASSES_H
#define MAIL_E2E_RESULT_CLASSES_H

#define RESULT_CLASSES(X) \
	X(SUCCESS,             "success",             0,  "probe found in time") \
	X(TIMEOUT,             "timeout",             1,  "sent, not found within timeout") \
	X(SMTP_CONNECT_FAILED, "smtp_connect_failed", 2,  "DNS, refused, unreachable, connect timeout") \
	X(SMTP_TLS_FAILED,     "smtp_tls_failed",     3,  "handshake, certificate, or STARTTLS not offered") \
	X(SMTP_AUTH_FAILED,    "smtp_auth_failed",    4,  "AUTH refused, or no usable mechanism") \
	X(SMTP_REJECTED,       "smtp_rejected",       5,  "MAIL, RCPT or DATA refused, or SMTP dialogue timed out") \
	X(IMAP_CONNECT_FAILED, "imap_connect_failed", 6,  "as smtp_connect_failed, for IMAP") \
	X(IMAP_TLS_FAILED,     "imap_tls_failed",     7,  "as smtp_tls_failed, for IMAP") \
	X(IMAP_AUTH_FAILED,    "imap_auth_failed",    8,  "LOGIN/AUTHENTICATE refused") \
	X(IMAP_ERROR,          "imap_error",          9,  "mailbox missing, NO/BAD replies, connection lost, IMAP dialogue timed out") \
	X(INTERNAL_ERROR,      "internal_error",      10, "anything else") \
	X(JUNK,                "junk",                11, "found in the junk mailbox and junk_is_failure = true") \
	X(AUTH_FAILED,         "auth_failed",         12, "found, but a verdict named in require_auth is not pass") \
	X(BOUNCED,             "bounced",             13, "a delivery status notification proved this probe failed") \
	X(TLS_POLICY_FAILED,   "tls_policy_failed",   14, "the recipient domain's MTA-STS or DANE policy could not be met, or a required one is missing") \
	X(SPAM_FLAGGED,        "spam_flagged",        15, "found, but the receiver's filter called it spam or scored it above max_spam_score")

#endif
