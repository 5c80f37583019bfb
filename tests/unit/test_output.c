/*
 * test_output.c - table-driven tests of line-protocol and JSON rendering
 * (plugin/output.c, plugin/result.c), linked alone.
 */
#include <math.h>
#include <string.h>

#include "output.h"
#include "unit.h"

typedef ssize_t (*escape_fn)(const char *, char *, size_t);

struct esc_case {
	const char *name;
	escape_fn fn;
	const char *in, *want;   /* want NULL: must fail (buffer too small) */
	size_t buflen;
};

static const struct esc_case escapes[] = {
	{ "tag plain", lp_escape_tag, "bob@example.test", "bob@example.test", 64 },
	{ "tag comma", lp_escape_tag, "a,b", "a\\,b", 64 },
	{ "tag space", lp_escape_tag, "a b", "a\\ b", 64 },
	{ "tag equals", lp_escape_tag, "a=b", "a\\=b", 64 },
	{ "tag all three", lp_escape_tag, ", =", "\\,\\ \\=", 64 },
	{ "tag empty becomes -", lp_escape_tag, "", "-", 64 },
	{ "tag CR LF TAB become spaces, escaped", lp_escape_tag, "a\r\n\tb", "a\\ \\ \\ b", 64 },
	{ "tag trailing backslash", lp_escape_tag, "a\\", "a/", 64 },
	{ "tag quote kept", lp_escape_tag, "a\"b", "a\"b", 64 },
	{ "tag UTF-8 kept", lp_escape_tag, "j\xc3\xb6rg@b\xc3\xbc" "cher.test", "j\xc3\xb6rg@b\xc3\xbc" "cher.test", 64 },
	{ "tag buffer too small", lp_escape_tag, "abcdef", NULL, 4 },
	{ "tag escape does not fit", lp_escape_tag, "ab,", NULL, 4 },
	{ "measurement comma space", lp_escape_measurement, "mail e2e,x", "mail\\ e2e\\,x", 64 },
	{ "measurement equals kept", lp_escape_measurement, "a=b", "a=b", 64 },
	{ "field quote", lp_escape_field_string, "say \"hi\"", "say \\\"hi\\\"", 64 },
	{ "field backslash", lp_escape_field_string, "C:\\dir", "C:\\\\dir", 64 },
	{ "field trailing backslash", lp_escape_field_string, "end\\", "end\\\\", 64 },
	{ "field comma space equals kept", lp_escape_field_string, "a, b=c", "a, b=c", 64 },
	{ "field newline becomes space", lp_escape_field_string, "a\nb", "a b", 64 },
	{ "field empty", lp_escape_field_string, "", "", 64 },
	{ "field too small", lp_escape_field_string, "\"\"\"", NULL, 6 },
	{ "field invalid byte", lp_escape_field_string, "a\xff" "b\xc3\x28", "a\xef\xbf\xbd" "b\xef\xbf\xbd(", 64 },
	{ "field UTF-8 kept", lp_escape_field_string, "\xe2\x82\xac", "\xe2\x82\xac", 64 },
	{ "json quote backslash", json_escape, "a\"b\\c", "a\\\"b\\\\c", 64 },
	{ "json control", json_escape, "a\nb\x01", "a\\u000ab\\u0001", 64 },
	{ "json UTF-8 kept", json_escape, "\xe2\x82\xac", "\xe2\x82\xac", 64 },
	{ "json invalid byte", json_escape, "a\xff" "b", "a\xef\xbf\xbd" "b", 64 },
	{ "json overlong", json_escape, "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", 64 },
	{ "json truncated sequence", json_escape, "\xe2\x82", "\xef\xbf\xbd\xef\xbf\xbd", 64 },
	{ "json surrogate", json_escape, "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 64 },
	{ "json too small", json_escape, "abcdef", NULL, 3 },
};

static void test_escapes(void)
{
	for (size_t i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
		const struct esc_case *c = &escapes[i];
		char buf[64];
		ssize_t n = c->fn(c->in, buf, c->buflen);
		if (!c->want)
			CHECK(n == -1, "escape %s: fails when it does not fit (%zd)", c->name, n);
		else
			CHECK(n == (ssize_t)strlen(c->want) && strcmp(buf, c->want) == 0,
			      "escape %s: got '%s'", c->name, n >= 0 ? buf : "(fail)");
	}
}

static struct route test_route(void)
{
	static char name[] = "out bound", from[] = "alice@a.test", to[] = "bob@b.test",
	            sh[] = "smtp.a.test", ih[] = "::1";
	struct route r = { 0 };
	r.name = name; r.from = from; r.to = to;
	r.smtp_host = sh; r.smtp_port = 587; r.imap_host = ih; r.imap_port = 143;
	return r;
}

static struct probe_result success_result(void)
{
	struct probe_result r;
	result_init(&r, 1795467151607549382LL);
	r.result = RESULT_SUCCESS;
	r.success = true;
	strcpy(r.token, "0123456789abcdef0123456789abcdef");
	r.t_imap_start = 0.001;
	r.t_smtp_start = 0.050;
	r.t_smtp_done = 0.153;
	r.t_imap_search_start = 0.154;
	r.t_found = 3.153;
	r.t_end = 3.153;
	r.tries = 1;
	r.smtp_code = 250;
	return r;
}

struct line_case {
	const char *name;
	enum out_format fmt;
	void (*edit)(struct probe_result *);
	const char *want;
};

static void as_auth_failure(struct probe_result *r)
{
	r->success = false;
	r->result = RESULT_SMTP_AUTH_FAILED;
	r->t_smtp_done = -1;
	r->t_found = -1;
	r->t_imap_search_start = -1;
	r->t_end = 0.25;
	r->tries = 0;
	r->smtp_code = 535;
	strcpy(r->error, "AUTH refused: 535 5.7.8 \"bad\" C:\\x");
}

static void as_imap_connect_failure(struct probe_result *r)
{
	r->success = false;
	r->result = RESULT_IMAP_CONNECT_FAILED;
	r->t_smtp_start = r->t_smtp_done = r->t_found = r->t_imap_search_start = -1;
	r->t_end = 0.002;
	r->tries = -1;
	r->smtp_code = -1;
	strcpy(r->error, "Couldn't connect to server");
}

static void as_timeout(struct probe_result *r)
{
	r->success = false;
	r->result = RESULT_TIMEOUT;
	r->t_found = -1;
	r->t_end = 60.0;
	r->tries = 31;
	strcpy(r->error, "probe not found within 60s");
}

static void with_tls(struct probe_result *r)
{
	strcpy(r->smtp_tls_version, "TLSv1.3");
	strcpy(r->imap_tls_version, "TLSv1.2");
	r->smtp_cert_known = r->imap_cert_known = true;
	r->smtp_cert_expiry = 86400;
	r->imap_cert_expiry = -3600;   /* expired, let through by insecure_skip_verify */
}

static void in_junk_with_late(struct probe_result *r)
{
	r->success = false;
	r->result = RESULT_JUNK;
	strcpy(r->mailbox, "junk");
	r->late = 2;
	strcpy(r->error, "delivered to the junk mailbox");
}

static void with_evidence(struct probe_result *r)
{
	strcpy(r->smtp_status, "2.0.0");
	strcpy(r->verdict[AUTH_SPF], "pass");
	strcpy(r->verdict[AUTH_DKIM], "fail");
	strcpy(r->verdict[AUTH_DMARC], "pass");
	r->hops = 3;
	r->plain_hops = 1;
	r->has_transit = true;
	r->transit_time = 2.5;
}

/* The steps of SPEC §11: some reached, one not (no AUTH on this leg). */
static void with_steps(struct probe_result *r)
{
	r->step[STEP_SMTP_CONNECT] = 0.0004;
	r->step[STEP_SMTP_GREETING] = 1.0002;
	r->step[STEP_SMTP_TLS] = 0.0031;
	r->step[STEP_SMTP_SEND] = 0.012;
	r->step[STEP_IMAP_CONNECT] = 0.0003;
	r->step[STEP_IMAP_TLS] = 0.004;
	r->step[STEP_IMAP_LOGIN] = 0.0091;
	r->step[STEP_IMAP_SELECT] = 0.0015;
}

/* expect = smtp_rejected, and the server did refuse: a success. */
static void as_expected_refusal(struct probe_result *r)
{
	r->result = RESULT_SMTP_REJECTED;
	r->success = true;
	r->t_smtp_done = r->t_found = r->t_imap_search_start = -1;
	r->t_end = 0.2;
	r->smtp_code = 554;
	strcpy(r->smtp_status, "5.7.1");
	strcpy(r->error, "RCPT refused: 554 5.7.1 Relay access denied");
}

static void as_bounce(struct probe_result *r)
{
	r->result = RESULT_BOUNCED;
	r->success = false;
	r->t_found = -1;
	strcpy(r->dsn_status, "5.1.1");
	r->delayed = true;
	strcpy(r->error, "550 5.1.1 <nouser@b.test>: Recipient address rejected");
}

/* SPEC §13's keys when nothing was read or looked up. */
#define REP_NULLS "\"spam_score\":null,\"spam_threshold\":null,\"spam\":null,\"spam_filter\":null," \
                  "\"scl\":null,\"dnsbl_ip\":null,\"dnsbl_listed\":null,\"dnsbl_zones\":null"

/* rspamd's delivered spam, over max_spam_score, and two zones listing. */
static void as_spam_flagged(struct probe_result *r)
{
	r->result = RESULT_SPAM_FLAGGED;
	r->success = false;
	r->rep.spam.filter = SPAM_FILTER_RSPAMD;
	r->rep.spam.has_score = r->rep.spam.has_threshold = true;
	r->rep.spam.score = 10;
	r->rep.spam.threshold = 15;
	r->rep.spam.spam = SPAM_SPAM;
	r->rep.dnsbl_looked = true;
	strcpy(r->rep.dnsbl_ip, "192.0.2.25");
	r->rep.dnsbl_listed = 2;
	strcpy(r->rep.dnsbl_zones, "bl-listed.test,bl-insecure.test");
	strcpy(r->error, "rspamd: X-Spam: Yes, score 10 > max_spam_score 5");
}

/* Microsoft's verdict (no score), an address no zone lists. */
static void with_microsoft(struct probe_result *r)
{
	r->rep.spam.filter = SPAM_FILTER_MICROSOFT;
	r->rep.spam.has_scl = true;
	r->rep.spam.scl = -1;
	r->rep.spam.spam = SPAM_HAM;
	r->rep.dnsbl_looked = true;
	strcpy(r->rep.dnsbl_ip, "2001:db8::25");
}

static void with_nan(struct probe_result *r)
{
	r->t_found = NAN;
}

static const struct line_case lines[] = {
	{ "influx success", FORMAT_INFLUX, NULL,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=success success=1i,result_code=0i,total_time=3.153000,"
	  "smtp_time=0.103000,delivery_time=3.000000,tries=1i,smtp_code=250i 1795467151607549382\n" },
	{ "influx auth failure", FORMAT_INFLUX, as_auth_failure,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=smtp_auth_failed success=0i,result_code=4i,total_time=0.250000,"
	  "tries=0i,smtp_code=535i,error=\"AUTH refused: 535 5.7.8 \\\"bad\\\" C:\\\\x\" 1795467151607549382\n" },
	{ "influx imap connect failure", FORMAT_INFLUX, as_imap_connect_failure,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=imap_connect_failed success=0i,result_code=6i,total_time=0.002000,"
	  "error=\"Couldn't connect to server\" 1795467151607549382\n" },
	{ "influx timeout", FORMAT_INFLUX, as_timeout,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=timeout success=0i,result_code=1i,total_time=60.000000,"
	  "smtp_time=0.103000,tries=31i,smtp_code=250i,error=\"probe not found within 60s\" 1795467151607549382\n" },
	{ "influx TLS health", FORMAT_INFLUX, with_tls,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=success success=1i,result_code=0i,total_time=3.153000,"
	  "smtp_time=0.103000,delivery_time=3.000000,tries=1i,smtp_code=250i,smtp_cert_expiry=86400i,"
	  "imap_cert_expiry=-3600i,smtp_tls_version=\"TLSv1.3\",imap_tls_version=\"TLSv1.2\" 1795467151607549382\n" },
	{ "influx junk, late arrivals", FORMAT_INFLUX, in_junk_with_late,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=junk,mailbox=junk success=0i,result_code=11i,total_time=3.153000,"
	  "smtp_time=0.103000,delivery_time=3.000000,tries=1i,smtp_code=250i,late=2i,"
	  "error=\"delivered to the junk mailbox\" 1795467151607549382\n" },
	{ "json junk, late arrivals", FORMAT_JSON, in_junk_with_late,
	  "{\"probe\":\"out bound\",\"success\":false,\"result\":\"junk\",\"result_code\":11,"
	  "\"hash\":\"0123456789abcdef0123456789abcdef\",\"start\":\"2026-11-23T20:52:31.607549Z\","
	  "\"start_time_smtp\":\"2026-11-23T20:52:31.657549Z\",\"start_time_imap\":\"2026-11-23T20:52:31.608549Z\","
	  "\"start_time_imap_search\":\"2026-11-23T20:52:31.761549Z\",\"found\":\"2026-11-23T20:52:34.760549Z\","
	  "\"end\":\"2026-11-23T20:52:34.760549Z\",\"tries\":1,\"total_duration\":3.153000,\"queue_time\":null,"
	  "\"smtp_duration\":0.103000,\"delivery_duration\":3.000000,\"imap_duration\":3.152000,"
	  "\"smtp_connect_time\":null,\"smtp_greeting_time\":null,\"smtp_tls_time\":null,\"smtp_auth_time\":null,"
	  "\"smtp_send_time\":null,\"imap_connect_time\":null,\"imap_tls_time\":null,\"imap_login_time\":null,"
	  "\"imap_select_time\":null,"
	  "\"smtp_code\":250,\"error\":\"delivered to the junk mailbox\",\"mailbox\":\"junk\",\"late\":2,"
	  "\"smtp_cert_expiry\":null,\"imap_cert_expiry\":null,"
	  "\"smtp_tls_version\":null,\"imap_tls_version\":null,\"from\":\"alice@a.test\",\"to\":\"bob@b.test\","
	  "\"smtp_server\":\"smtp.a.test:587\",\"imap_server\":\"[::1]:143\","
	  "\"smtp_status\":null,\"spf\":null,\"dkim\":null,\"dmarc\":null,\"arc\":null,\"hops\":null,"
	  "\"plain_hops\":null,\"transit_time\":null,\"dsn_status\":null,\"delayed\":null," REP_NULLS ","
	  "\"mx\":null,\"mx_tried\":null,\"mx_tls\":null,\"mta_sts\":null,\"dane\":null,\"tlsrpt\":null,\"tls_policy\":null}\n" },
	{ "influx evidence", FORMAT_INFLUX, with_evidence,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=success,spf=pass,dkim=fail,dmarc=pass success=1i,result_code=0i,"
	  "total_time=3.153000,smtp_time=0.103000,delivery_time=3.000000,tries=1i,smtp_code=250i,hops=3i,"
	  "plain_hops=1i,transit_time=2.500000,smtp_status=\"2.0.0\" 1795467151607549382\n" },
	{ "influx steps, smtp_auth_time not reached", FORMAT_INFLUX, with_steps,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=success success=1i,result_code=0i,"
	  "total_time=3.153000,smtp_time=0.103000,delivery_time=3.000000,smtp_connect_time=0.000400,"
	  "smtp_greeting_time=1.000200,smtp_tls_time=0.003100,smtp_send_time=0.012000,"
	  "imap_connect_time=0.000300,imap_tls_time=0.004000,imap_login_time=0.009100,"
	  "imap_select_time=0.001500,tries=1i,smtp_code=250i 1795467151607549382\n" },
	{ "influx expected refusal", FORMAT_INFLUX, as_expected_refusal,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=smtp_rejected success=1i,result_code=5i,total_time=0.200000,"
	  "tries=1i,smtp_code=554i,smtp_status=\"5.7.1\",error=\"RCPT refused: 554 5.7.1 Relay access denied\" "
	  "1795467151607549382\n" },
	{ "influx bounce", FORMAT_INFLUX, as_bounce,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=bounced success=0i,result_code=13i,total_time=3.153000,"
	  "smtp_time=0.103000,tries=1i,smtp_code=250i,dsn_status=\"5.1.1\",delayed=1i,"
	  "error=\"550 5.1.1 <nouser@b.test>: Recipient address rejected\" 1795467151607549382\n" },
	{ "influx NaN time omitted", FORMAT_INFLUX, with_nan,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=success success=1i,result_code=0i,total_time=3.153000,"
	  "smtp_time=0.103000,tries=1i,smtp_code=250i 1795467151607549382\n" },
	{ "influx spam flagged, listed", FORMAT_INFLUX, as_spam_flagged,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=spam_flagged success=0i,result_code=15i,total_time=3.153000,"
	  "smtp_time=0.103000,delivery_time=3.000000,tries=1i,smtp_code=250i,spam_score=10.000000,"
	  "spam_threshold=15.000000,spam=\"spam\",spam_filter=\"rspamd\",dnsbl_ip=\"192.0.2.25\","
	  "dnsbl_listed=2i,dnsbl_zones=\"bl-listed.test,bl-insecure.test\","
	  "error=\"rspamd: X-Spam: Yes, score 10 > max_spam_score 5\" 1795467151607549382\n" },
	{ "influx microsoft, not listed", FORMAT_INFLUX, with_microsoft,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=smtp.a.test:587,"
	  "imap_server=[::1]:143,result=success success=1i,result_code=0i,total_time=3.153000,"
	  "smtp_time=0.103000,delivery_time=3.000000,tries=1i,smtp_code=250i,spam=\"ham\","
	  "spam_filter=\"microsoft\",scl=-1i,dnsbl_ip=\"2001:db8::25\",dnsbl_listed=0i 1795467151607549382\n" },
	{ "json spam flagged, listed", FORMAT_JSON, as_spam_flagged,
	  "{\"probe\":\"out bound\",\"success\":false,\"result\":\"spam_flagged\",\"result_code\":15,"
	  "\"hash\":\"0123456789abcdef0123456789abcdef\",\"start\":\"2026-11-23T20:52:31.607549Z\","
	  "\"start_time_smtp\":\"2026-11-23T20:52:31.657549Z\",\"start_time_imap\":\"2026-11-23T20:52:31.608549Z\","
	  "\"start_time_imap_search\":\"2026-11-23T20:52:31.761549Z\",\"found\":\"2026-11-23T20:52:34.760549Z\","
	  "\"end\":\"2026-11-23T20:52:34.760549Z\",\"tries\":1,\"total_duration\":3.153000,\"queue_time\":null,"
	  "\"smtp_duration\":0.103000,\"delivery_duration\":3.000000,\"imap_duration\":3.152000,"
	  "\"smtp_connect_time\":null,\"smtp_greeting_time\":null,\"smtp_tls_time\":null,\"smtp_auth_time\":null,"
	  "\"smtp_send_time\":null,\"imap_connect_time\":null,\"imap_tls_time\":null,\"imap_login_time\":null,"
	  "\"imap_select_time\":null,"
	  "\"smtp_code\":250,\"error\":\"rspamd: X-Spam: Yes, score 10 > max_spam_score 5\",\"mailbox\":null,"
	  "\"late\":null,\"smtp_cert_expiry\":null,\"imap_cert_expiry\":null,"
	  "\"smtp_tls_version\":null,\"imap_tls_version\":null,\"from\":\"alice@a.test\",\"to\":\"bob@b.test\","
	  "\"smtp_server\":\"smtp.a.test:587\",\"imap_server\":\"[::1]:143\","
	  "\"smtp_status\":null,\"spf\":null,\"dkim\":null,\"dmarc\":null,\"arc\":null,\"hops\":null,"
	  "\"plain_hops\":null,\"transit_time\":null,\"dsn_status\":null,\"delayed\":null,"
	  "\"spam_score\":10.000000,\"spam_threshold\":15.000000,\"spam\":\"spam\",\"spam_filter\":\"rspamd\","
	  "\"scl\":null,\"dnsbl_ip\":\"192.0.2.25\",\"dnsbl_listed\":2,"
	  "\"dnsbl_zones\":\"bl-listed.test,bl-insecure.test\","
	  "\"mx\":null,\"mx_tried\":null,\"mx_tls\":null,\"mta_sts\":null,\"dane\":null,\"tlsrpt\":null,\"tls_policy\":null}\n" },
	{ "json microsoft, not listed", FORMAT_JSON, with_microsoft,
	  "{\"probe\":\"out bound\",\"success\":true,\"result\":\"success\",\"result_code\":0,"
	  "\"hash\":\"0123456789abcdef0123456789abcdef\",\"start\":\"2026-11-23T20:52:31.607549Z\","
	  "\"start_time_smtp\":\"2026-11-23T20:52:31.657549Z\",\"start_time_imap\":\"2026-11-23T20:52:31.608549Z\","
	  "\"start_time_imap_search\":\"2026-11-23T20:52:31.761549Z\",\"found\":\"2026-11-23T20:52:34.760549Z\","
	  "\"end\":\"2026-11-23T20:52:34.760549Z\",\"tries\":1,\"total_duration\":3.153000,\"queue_time\":null,"
	  "\"smtp_duration\":0.103000,\"delivery_duration\":3.000000,\"imap_duration\":3.152000,"
	  "\"smtp_connect_time\":null,\"smtp_greeting_time\":null,\"smtp_tls_time\":null,\"smtp_auth_time\":null,"
	  "\"smtp_send_time\":null,\"imap_connect_time\":null,\"imap_tls_time\":null,\"imap_login_time\":null,"
	  "\"imap_select_time\":null,"
	  "\"smtp_code\":250,\"error\":null,\"mailbox\":null,\"late\":null,\"smtp_cert_expiry\":null,\"imap_cert_expiry\":null,"
	  "\"smtp_tls_version\":null,\"imap_tls_version\":null,\"from\":\"alice@a.test\",\"to\":\"bob@b.test\","
	  "\"smtp_server\":\"smtp.a.test:587\",\"imap_server\":\"[::1]:143\","
	  "\"smtp_status\":null,\"spf\":null,\"dkim\":null,\"dmarc\":null,\"arc\":null,\"hops\":null,"
	  "\"plain_hops\":null,\"transit_time\":null,\"dsn_status\":null,\"delayed\":null,"
	  "\"spam_score\":null,\"spam_threshold\":null,\"spam\":\"ham\",\"spam_filter\":\"microsoft\","
	  "\"scl\":-1,\"dnsbl_ip\":\"2001:db8::25\",\"dnsbl_listed\":0,\"dnsbl_zones\":null,"
	  "\"mx\":null,\"mx_tried\":null,\"mx_tls\":null,\"mta_sts\":null,\"dane\":null,\"tlsrpt\":null,\"tls_policy\":null}\n" },
	{ "json success", FORMAT_JSON, NULL,
	  "{\"probe\":\"out bound\",\"success\":true,\"result\":\"success\",\"result_code\":0,"
	  "\"hash\":\"0123456789abcdef0123456789abcdef\",\"start\":\"2026-11-23T20:52:31.607549Z\","
	  "\"start_time_smtp\":\"2026-11-23T20:52:31.657549Z\",\"start_time_imap\":\"2026-11-23T20:52:31.608549Z\","
	  "\"start_time_imap_search\":\"2026-11-23T20:52:31.761549Z\",\"found\":\"2026-11-23T20:52:34.760549Z\","
	  "\"end\":\"2026-11-23T20:52:34.760549Z\",\"tries\":1,\"total_duration\":3.153000,\"queue_time\":null,"
	  "\"smtp_duration\":0.103000,\"delivery_duration\":3.000000,\"imap_duration\":3.152000,"
	  "\"smtp_connect_time\":null,\"smtp_greeting_time\":null,\"smtp_tls_time\":null,\"smtp_auth_time\":null,"
	  "\"smtp_send_time\":null,\"imap_connect_time\":null,\"imap_tls_time\":null,\"imap_login_time\":null,"
	  "\"imap_select_time\":null,"
	  "\"smtp_code\":250,\"error\":null,\"mailbox\":null,\"late\":null,\"smtp_cert_expiry\":null,\"imap_cert_expiry\":null,"
	  "\"smtp_tls_version\":null,\"imap_tls_version\":null,\"from\":\"alice@a.test\",\"to\":\"bob@b.test\","
	  "\"smtp_server\":\"smtp.a.test:587\",\"imap_server\":\"[::1]:143\","
	  "\"smtp_status\":null,\"spf\":null,\"dkim\":null,\"dmarc\":null,\"arc\":null,\"hops\":null,"
	  "\"plain_hops\":null,\"transit_time\":null,\"dsn_status\":null,\"delayed\":null," REP_NULLS ","
	  "\"mx\":null,\"mx_tried\":null,\"mx_tls\":null,\"mta_sts\":null,\"dane\":null,\"tlsrpt\":null,\"tls_policy\":null}\n" },
	{ "json imap connect failure", FORMAT_JSON, as_imap_connect_failure,
	  "{\"probe\":\"out bound\",\"success\":false,\"result\":\"imap_connect_failed\",\"result_code\":6,"
	  "\"hash\":\"0123456789abcdef0123456789abcdef\",\"start\":\"2026-11-23T20:52:31.607549Z\","
	  "\"start_time_smtp\":null,\"start_time_imap\":\"2026-11-23T20:52:31.608549Z\","
	  "\"start_time_imap_search\":null,\"found\":null,\"end\":\"2026-11-23T20:52:31.609549Z\","
	  "\"tries\":null,\"total_duration\":0.002000,\"queue_time\":null,\"smtp_duration\":null,\"delivery_duration\":null,"
	  "\"imap_duration\":0.001000,\"smtp_connect_time\":null,\"smtp_greeting_time\":null,\"smtp_tls_time\":null,\"smtp_auth_time\":null,\"smtp_send_time\":null,\"imap_connect_time\":null,\"imap_tls_time\":null,\"imap_login_time\":null,\"imap_select_time\":null,\"smtp_code\":null,\"error\":\"Couldn't connect to server\",\"mailbox\":null,\"late\":null,"
	  "\"smtp_cert_expiry\":null,\"imap_cert_expiry\":null,\"smtp_tls_version\":null,\"imap_tls_version\":null,"
	  "\"from\":\"alice@a.test\",\"to\":\"bob@b.test\",\"smtp_server\":\"smtp.a.test:587\","
	  "\"imap_server\":\"[::1]:143\","
	  "\"smtp_status\":null,\"spf\":null,\"dkim\":null,\"dmarc\":null,\"arc\":null,\"hops\":null,"
	  "\"plain_hops\":null,\"transit_time\":null,\"dsn_status\":null,\"delayed\":null," REP_NULLS ","
	  "\"mx\":null,\"mx_tried\":null,\"mx_tls\":null,\"mta_sts\":null,\"dane\":null,\"tlsrpt\":null,\"tls_policy\":null}\n" },
};

static void test_lines(void)
{
	struct route route = test_route();

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const struct line_case *c = &lines[i];
		struct probe_result res = success_result();
		char buf[OUTPUT_LINE_MAX];
		ssize_t n;

		if (c->edit)
			c->edit(&res);
		n = output_format_line(c->fmt, "mail_e2e", &route, &res, buf, sizeof(buf));
		bool same = n == (ssize_t)strlen(c->want) && strcmp(buf, c->want) == 0;
		CHECK(same, "line %s: exact text", c->name);
		if (!same)
			printf("#   got:  %s#   want: %s", n >= 0 ? buf : "(fail)\n", c->want);
		CHECK(!strstr(buf, "nan") && !strstr(buf, "inf") && strchr(buf, '\n') == buf + n - 1,
		      "line %s: no nan/inf, exactly one newline at the end", c->name);
	}
}

/* SPEC §12: an mx route's smtp_server tag and fields. */
static void mx_delivered(struct probe_result *r)
{
	r->mx = (struct mx_result){ .used = true, .mx = "mx2.dane-walk.test", .server = "mx2.dane-walk.test:25",
	                            .tried = 2, .tls = MX_TLS_VERIFIED, .mta_sts = MX_STS_ENFORCE,
	                            .dane = MX_DANE_PASS, .tlsrpt = MX_TLSRPT_YES, .policy = MX_POLICY_PASS };
}

static void mx_null(struct probe_result *r)
{
	r->result = RESULT_SMTP_REJECTED;
	r->success = false;
	r->t_smtp_done = r->t_found = r->t_imap_search_start = -1;
	r->smtp_code = -1;
	strcpy(r->error, "nullmx.test publishes a null MX (RFC 7505)");
	r->mx = (struct mx_result){ .used = true, .dane = MX_DANE_NONE, .policy = MX_POLICY_NONE };
}

static void mx_policy_failed(struct probe_result *r)
{
	r->result = RESULT_TLS_POLICY_FAILED;
	r->success = false;
	r->t_smtp_done = r->t_found = r->t_imap_search_start = -1;
	r->smtp_code = 220;
	strcpy(r->error, "MTA-STS enforce: mx.a.test: certificate not valid: hostname mismatch");
	r->mx = (struct mx_result){ .used = true, .server = "mx.a.test:25", .tried = 1, .tls = MX_TLS_UNVERIFIED,
	                            .mta_sts = MX_STS_ENFORCE, .dane = MX_DANE_NONE, .tlsrpt = MX_TLSRPT_NO,
	                            .policy = MX_POLICY_FAIL };
}

static const struct line_case mx_lines[] = {
	{ "influx mx delivered", FORMAT_INFLUX, mx_delivered,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=mx2.dane-walk.test:25,"
	  "imap_server=[::1]:143,result=success success=1i,result_code=0i,total_time=3.153000,"
	  "smtp_time=0.103000,delivery_time=3.000000,tries=1i,smtp_code=250i,mx=\"mx2.dane-walk.test\",mx_tried=2i,"
	  "mx_tls=\"verified\",mta_sts=\"enforce\",dane=\"pass\",tlsrpt=1i,tls_policy=\"pass\" 1795467151607549382\n" },
	{ "influx null MX: no smtp_server, no mx", FORMAT_INFLUX, mx_null,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,"
	  "imap_server=[::1]:143,result=smtp_rejected success=0i,result_code=5i,total_time=3.153000,"
	  "tries=1i,mx_tried=0i,dane=\"none\",tls_policy=\"none\","
	  "error=\"nullmx.test publishes a null MX (RFC 7505)\" 1795467151607549382\n" },
	{ "influx policy failed: smtp_server the first tried", FORMAT_INFLUX, mx_policy_failed,
	  "mail_e2e,probe=out\\ bound,from=alice@a.test,to=bob@b.test,smtp_server=mx.a.test:25,"
	  "imap_server=[::1]:143,result=tls_policy_failed success=0i,result_code=14i,total_time=3.153000,"
	  "tries=1i,smtp_code=220i,mx_tried=1i,mx_tls=\"unverified\",mta_sts=\"enforce\",dane=\"none\",tlsrpt=0i,"
	  "tls_policy=\"fail\",error=\"MTA-STS enforce: mx.a.test: certificate not valid: hostname mismatch\" "
	  "1795467151607549382\n" },
};

/* JSON: the same names, null where absent; smtp_server null when no host
 * was tried. */
static void test_mx_json(const struct route *route)
{
	static const struct { void (*edit)(struct probe_result *); const char *want; } rows[] = {
		{ mx_delivered, "\"smtp_server\":\"mx2.dane-walk.test:25\"" },
		{ mx_delivered, ",\"mx\":\"mx2.dane-walk.test\",\"mx_tried\":2,\"mx_tls\":\"verified\",\"mta_sts\":"
		  "\"enforce\",\"dane\":\"pass\",\"tlsrpt\":1,\"tls_policy\":\"pass\"}\n" },
		{ mx_null, "\"smtp_server\":null" },
		{ mx_null, ",\"mx\":null,\"mx_tried\":0,\"mx_tls\":null,\"mta_sts\":null,\"dane\":\"none\","
		  "\"tlsrpt\":null,\"tls_policy\":\"none\"}\n" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct probe_result res = success_result();
		char buf[OUTPUT_LINE_MAX];
		rows[i].edit(&res);
		CHECK(output_format_line(FORMAT_JSON, "mail_e2e", route, &res, buf, sizeof(buf)) > 0 &&
		      strstr(buf, rows[i].want), "json mx row %zu has %s", i, rows[i].want);
	}
}

static void test_mx_lines(void)
{
	struct route route = test_route();

	route.smtp_via = SMTP_VIA_MX;
	route.smtp_host = NULL;
	for (size_t i = 0; i < sizeof(mx_lines) / sizeof(mx_lines[0]); i++) {
		const struct line_case *c = &mx_lines[i];
		struct probe_result res = success_result();
		char buf[OUTPUT_LINE_MAX];
		ssize_t n;
		c->edit(&res);
		n = output_format_line(c->fmt, "mail_e2e", &route, &res, buf, sizeof(buf));
		bool same = n == (ssize_t)strlen(c->want) && strcmp(buf, c->want) == 0;
		CHECK(same, "line %s: exact text", c->name);
		if (!same)
			printf("#   got:  %s#   want: %s", n >= 0 ? buf : "(fail)\n", c->want);
	}
	test_mx_json(&route);
}

static void test_small_buffer_and_names(void)
{
	struct route route = test_route();
	struct probe_result res = success_result();
	char buf[100];

	CHECK(output_format_line(FORMAT_INFLUX, "mail_e2e", &route, &res, buf, sizeof(buf)) == -1,
	      "a line that does not fit fails instead of being cut");
	CHECK(strcmp(result_name(RESULT_SMTP_REJECTED), "smtp_rejected") == 0 &&
	      strcmp(result_name(RESULT_INTERNAL_ERROR), "internal_error") == 0 &&
	      strcmp(result_name((enum result_class)99), "internal_error") == 0,
	      "result names, unknown ones as internal_error");
}

/* Every class of result_classes.h: its enum value is its code, its name
 * goes both ways, and the two classes SPEC §5 added last are there. */
static void test_result_classes(void)
{
	static const struct { int id, code; const char *name; } table[] = {
#define ROW(id, name, code, meaning) { RESULT_##id, code, name },
		RESULT_CLASSES(ROW)
#undef ROW
	};
	size_t n = sizeof(table) / sizeof(table[0]);

	CHECK(n == RESULT_N && n >= 16, "result_classes.h: %zu classes, RESULT_N %d", n, RESULT_N);
	for (size_t i = 0; i < n; i++) {
		enum result_class back = RESULT_INTERNAL_ERROR;
		CHECK(table[i].id == table[i].code && table[i].code == (int)i &&
		      strcmp(result_name((enum result_class)table[i].id), table[i].name) == 0 &&
		      result_from_name(table[i].name, &back) && (int)back == table[i].code,
		      "result class %s = %d: enum, name and code agree", table[i].name, table[i].code);
	}
	CHECK(RESULT_TLS_POLICY_FAILED == 14 && RESULT_SPAM_FLAGGED == 15,
	      "tls_policy_failed = 14, spam_flagged = 15 (SPEC §5)");
}

/* Whatever a server said, the line is written (issue 14, defect 7): the
 * worst error text escapes to more than twice its length in line protocol
 * and six times in JSON. */
/* The longest SPEC §13 part: every field, dnsbl_zones at its limit. */
static void full_reputation(struct probe_result *r)
{
	as_spam_flagged(r);
	r->rep.spam.has_scl = true;
	r->rep.spam.scl = 9;
	r->rep.spam.score = r->rep.spam.threshold = -999999999.999999;
	strcpy(r->rep.dnsbl_ip, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	memset(r->rep.dnsbl_zones, 'z', sizeof(r->rep.dnsbl_zones) - 1);
	r->rep.dnsbl_zones[sizeof(r->rep.dnsbl_zones) - 1] = '\0';
}

static void test_worst_error_text(void)
{
	static const char *fills[] = { "\"", "\\", "\x01", "\xff" };
	struct route route = test_route();

	for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
		for (int fmt = 0; fmt < 2; fmt++) {
			struct probe_result res = success_result();
			char buf[OUTPUT_LINE_MAX];
			ssize_t n;

			as_auth_failure(&res);
			full_reputation(&res);
			memset(res.error, fills[f][0], sizeof(res.error) - 1);
			res.error[sizeof(res.error) - 1] = '\0';
			n = output_format_line(fmt ? FORMAT_JSON : FORMAT_INFLUX, "mail_e2e", &route, &res,
			                       buf, sizeof(buf));
			CHECK(n > 0 && buf[n - 1] == '\n' && strchr(buf, '\n') == buf + n - 1 &&
			      strstr(buf, fmt ? "\"error\":\"" : ",error=\"") && !memchr(buf, 0xff, (size_t)n) &&
			      strstr(buf, "zzzzzzzzzz\"") && strstr(buf, "scl"),
			      "%s line with %zu bytes of 0x%02x in error: written (%zd bytes), valid",
			      fmt ? "JSON" : "influx", sizeof(res.error) - 1, (unsigned char)fills[f][0], n);
		}
	}
}

int main(void)
{
	test_escapes();
	test_worst_error_text();
	test_lines();
	test_mx_lines();
	test_small_buffer_and_names();
	test_result_classes();
	return unit_done();
}
