/*
 * test_oauth2_form.c - the pure parts of the OAuth2 token client, linked
 * without the network code: request bodies (plugin/oauth2_form.c), Basic
 * credentials of RFC 6749 §2.3.1, the cache key of SPEC §10, base64url and
 * the PKCE S256 challenge (RFC 7636 Appendix B), and what a token
 * endpoint's reply means (plugin/oauth2_reply.c): tokens, expiry, the
 * error texts of the leg's `error` field, scrubbing of secrets.
 */
#include <stdlib.h>
#include <string.h>

#include "oauth2_form.h"
#include "oauth2_reply.h"
#include "secret_file.h"
#include "unit.h"

static void form(void)
{
	struct oauth2_form f;

	oauth2_form_init(&f);
	oauth2_form_add(&f, "grant_type", "refresh_token");
	oauth2_form_add(&f, "refresh_token", "1//0g+a/b=c&d");
	oauth2_form_add(&f, "client_id", "9d8e-app.apps.googleusercontent.com");
	oauth2_form_add(&f, "scope", "https://outlook.office.com/IMAP.AccessAsUser.All offline_access");
	oauth2_form_add(&f, "absent", NULL);
	CHECK(!f.failed && f.buf && strcmp(f.buf,
	      "grant_type=refresh_token&refresh_token=1%2F%2F0g%2Ba%2Fb%3Dc%26d"
	      "&client_id=9d8e-app.apps.googleusercontent.com"
	      "&scope=https%3A%2F%2Foutlook.office.com%2FIMAP.AccessAsUser.All%20offline_access") == 0,
	      "form: pairs joined by &, values percent-encoded, NULL skipped: %s", f.buf ? f.buf : "(null)");
	CHECK(f.len == strlen(f.buf), "form: len is the body's length");
	oauth2_form_free(&f);
	CHECK(f.buf == NULL && f.len == 0 && !f.failed, "form: freed and empty");

	oauth2_form_init(&f);
	oauth2_form_add(&f, "code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	CHECK(f.buf && strcmp(f.buf, "code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == 0,
	      "form: unreserved characters - . _ ~ stay as they are");
	oauth2_form_free(&f);

	oauth2_form_init(&f);
	for (int i = 0; i < 200; i++)
		oauth2_form_add(&f, "k", "0123456789abcdef\xc3\xa9");
	CHECK(!f.failed && f.len == 200 * strlen("k=0123456789abcdef%C3%A9") + 199,
	      "form: grows past its first buffer (200 pairs, UTF-8 percent-encoded)");
	oauth2_form_free(&f);
	oauth2_form_init(&f);
	oauth2_form_add(&f, "redirect_uri", "http://127.0.0.1:41234/");
	CHECK(f.buf && strcmp(f.buf, "redirect_uri=http%3A%2F%2F127.0.0.1%3A41234%2F") == 0, "form: redirect_uri");
	oauth2_form_free(&f);
}

static void basic(void)
{
	char *u, *p;

	CHECK(oauth2_basic_credentials("my client:1", "s3cr+t/=&%", &u, &p) == 0 &&
	      strcmp(u, "my%20client%3A1") == 0 && strcmp(p, "s3cr%2Bt%2F%3D%26%25") == 0,
	      "Basic: id and secret each form-urlencoded (a ':' in the id cannot split the pair)");
	secret_free(u);
	secret_free(p);
	CHECK(oauth2_basic_credentials("00001111-aaaa-2222-bbbb-3333cccc4444", "Xy8Q~abc.DEF_ghi", &u, &p) == 0 &&
	      strcmp(u, "00001111-aaaa-2222-bbbb-3333cccc4444") == 0 && strcmp(p, "Xy8Q~abc.DEF_ghi") == 0,
	      "Basic: a Microsoft client id and secret (unreserved only) unchanged");
	secret_free(u);
	secret_free(p);
}

static void cache_key(void)
{
	struct route a, b, c, d;
	char *ka, *kb, *kc, *kd;

	memset(&a, 0, sizeof(a));
	a.oauth2_token_url = "https://login.microsoftonline.com/common/oauth2/v2.0/token";
	a.oauth2_client_id = "cid";
	a.oauth2_refresh_token_file = "/etc/mail-e2e/alice.refresh";
	a.oauth2_scope = "https://outlook.office.com/IMAP.AccessAsUser.All";
	b = a;
	b.oauth2_scope = "https://outlook.office.com/SMTP.Send";    /* same account, other scope */
	b.name = "other-route";
	c = a;
	c.oauth2_refresh_token_file = NULL;                          /* client credentials */
	d = c;
	d.oauth2_scope = "https://outlook.office365.com/.default";
	ka = oauth2_cache_key(&a);
	kb = oauth2_cache_key(&b);
	kc = oauth2_cache_key(&c);
	kd = oauth2_cache_key(&d);
	CHECK(ka && kb && strcmp(ka, kb) == 0, "cache key: refresh grant = URL + client + file (scope and route do not split it)");
	CHECK(kc && kd && strcmp(kc, kd) != 0, "cache key: client credentials = URL + client + scope");
	CHECK(strcmp(ka, kc) != 0, "cache key: a refresh grant and client credentials never share");
	CHECK(strstr(ka, "/etc/mail-e2e/alice.refresh") && strstr(kd, ".default"), "cache key: names the file / scope");
	free(ka);
	free(kb);
	free(kc);
	free(kd);
	a.oauth2_client_id = NULL;
	a.oauth2_scope = NULL;
	ka = oauth2_cache_key(&a);
	CHECK(ka != NULL, "cache key: NULL client id and scope are fine");
	free(ka);
}

static void b64url(void)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "Zg" }, { "fo", "Zm8" }, { "foo", "Zm9v" }, { "foob", "Zm9vYg" },
		{ "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" }, { "\xfb\xff\xbf", "-_-_" },
	};
	unsigned char raw[32];
	char out[64];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = oauth2_base64url((const unsigned char *)v[i].in, strlen(v[i].in), out, sizeof(out));
		CHECK(n == strlen(v[i].out) && strcmp(out, v[i].out) == 0, "base64url(\"%s\") = \"%s\" (RFC 4648 §10, no padding)",
		      v[i].in, v[i].out);
	}
	memset(raw, 0xAB, sizeof(raw));
	CHECK(oauth2_base64url(raw, 32, out, 43) == 0, "base64url: 32 bytes need 43 + NUL: 43 is too small");
	CHECK(oauth2_base64url(raw, 32, out, 44) == 43 && strlen(out) == 43, "base64url: 32 bytes -> 43 characters");
}

static void pkce(void)
{
	char ch[OAUTH2_PKCE_CHALLENGE_LEN + 1];

	oauth2_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", ch);
	CHECK(strcmp(ch, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") == 0,
	      "PKCE S256: the challenge of RFC 7636 Appendix B: %s", ch);
}

struct reply_row {
	const char *name;
	long status;
	const char *body;
	int want;
	const char *want_text;    /* err (want -1) or access token (want 0) */
	const char *want_refresh; /* want 0: refresh token or NULL */
	long want_expires;
	const char *want_code;    /* out.error */
};

#define AT "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.c2ln"

static const struct reply_row replies[] = {
	{ "Microsoft refresh reply", 200,
	  "{\"token_type\":\"Bearer\",\"scope\":\"https://outlook.office.com/IMAP.AccessAsUser.All\","
	  "\"expires_in\":4939,\"ext_expires_in\":4939,\"access_token\":\"" AT "\",\"refresh_token\":\"0.AXoA-rt\"}",
	  0, AT, "0.AXoA-rt", 4939, "" },
	{ "Google refresh reply, no refresh_token", 200,
	  "{\n  \"access_token\": \"ya29.a0Af\",\n  \"expires_in\": 3599,\n  \"scope\": \"https://mail.google.com/\",\n"
	  "  \"token_type\": \"Bearer\"\n}", 0, "ya29.a0Af", NULL, 3599, "" },
	{ "expires_in as a string", 200, "{\"access_token\":\"t\",\"expires_in\":\"3599\"}", 0, "t", NULL, 3599, "" },
	{ "no expires_in", 200, "{\"access_token\":\"t\",\"token_type\":\"bearer\"}", 0, "t", NULL, -1, "" },
	{ "expires_in garbage counts as none", 200, "{\"access_token\":\"t\",\"expires_in\":\"soon\"}", 0, "t", NULL, -1, "" },
	{ "negative expires_in is 0", 200, "{\"access_token\":\"t\",\"expires_in\":-5}", 0, "t", NULL, 0, "" },
	{ "expires_in 2^63-1 is cut to a day", 200, "{\"access_token\":\"t\",\"expires_in\":9223372036854775807}", 0,
	  "t", NULL, 86400, "" },
	{ "expires_in a day and a second is cut", 200, "{\"access_token\":\"t\",\"expires_in\":86401}", 0, "t", NULL,
	  86400, "" },
	{ "expires_in a day stays", 200, "{\"access_token\":\"t\",\"expires_in\":86400}", 0, "t", NULL, 86400, "" },
	{ "expires_in as a string of 18 nines is cut", 200, "{\"access_token\":\"t\",\"expires_in\":\"999999999999999999\"}",
	  0, "t", NULL, 86400, "" },
	{ "expires_in beyond a long counts as none", 200,
	  "{\"access_token\":\"t\",\"expires_in\":99999999999999999999}", 0, "t", NULL, -1, "" },
	{ "refresh_token null", 200, "{\"access_token\":\"t\",\"refresh_token\":null}", 0, "t", NULL, -1, "" },
	{ "HTTP 201 is success too", 201, "{\"access_token\":\"t\"}", 0, "t", NULL, -1, "" },
	{ "Google invalid_grant", 400,
	  "{\n  \"error\": \"invalid_grant\",\n  \"error_description\": \"Token has been expired or revoked.\"\n}",
	  -1, "invalid_grant: Token has been expired or revoked.", NULL, 0, "invalid_grant" },
	{ "Microsoft AADSTS70008, CR LF tidied", 400,
	  "{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: The refresh token has expired due to "
	  "inactivity.\\r\\nTrace ID: 0a1b\\r\\nCorrelation ID: 7e8f\",\"error_codes\":[70008]}",
	  -1, "invalid_grant: AADSTS70008: The refresh token has expired due to inactivity. Trace ID: 0a1b Correlation ID: 7e8f",
	  NULL, 0, "invalid_grant" },
	{ "invalid_client without description", 401, "{\"error\":\"invalid_client\"}", -1, "invalid_client", NULL, 0,
	  "invalid_client" },
	{ "error in a 200 reply still an error", 200, "{\"error\":\"slow_down\",\"access_token\":\"t\"}", -1, "slow_down",
	  NULL, 0, "slow_down" },
	{ "error code with odd bytes", 400, "{\"error\":\"bad\\u0001code\\u00e9\"}", -1, "bad?code??", NULL, 0, "bad?code??" },
	{ "HTTP 500 with an HTML page", 500, "<html><body>500</body></html>", -1, "token endpoint: HTTP 500", NULL, 0, "" },
	{ "HTTP 503 with empty body", 503, "", -1, "token endpoint: HTTP 503", NULL, 0, "" },
	{ "HTTP 200 with HTML", 200, "<html>Sign in</html>", -1, "token endpoint: reply is not JSON", NULL, 0, "" },
	{ "HTTP 200 with no access_token", 200, "{\"token_type\":\"Bearer\",\"expires_in\":3600}", -1,
	  "token endpoint: reply has no access_token", NULL, 0, "" },
	{ "access_token not a string", 200, "{\"access_token\":42}", -1, "token endpoint: reply has no access_token", NULL, 0, "" },
	{ "access_token empty", 200, "{\"access_token\":\"\"}", -1,
	  "token endpoint: access_token is empty or holds a blank or control character", NULL, 0, "" },
	{ "access_token with a blank", 200, "{\"access_token\":\"a b\"}", -1,
	  "token endpoint: access_token is empty or holds a blank or control character", NULL, 0, "" },
	{ "access_token with an escaped LF", 200, "{\"access_token\":\"a\\nb\"}", -1,
	  "token endpoint: access_token is empty or holds a blank or control character", NULL, 0, "" },
	{ "token_type mac", 200, "{\"access_token\":\"t\",\"token_type\":\"mac\"}", -1,
	  "token endpoint: token_type mac is not Bearer", NULL, 0, "" },
	{ "refresh_token with a control character", 200, "{\"access_token\":\"t\",\"refresh_token\":\"r\\u0007\"}", -1,
	  "token endpoint: refresh_token is empty or holds a blank or control character", NULL, 0, "" },
	{ "cut JSON", 200, "{\"access_token\":\"t\"", -1, "token endpoint: reply is not JSON", NULL, 0, "" },
};

static void reply_table(void)
{
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		const struct reply_row *r = &replies[i];
		struct oauth2_reply out;
		char err[256] = "";
		int rc = oauth2_reply_parse(r->status, r->body, strlen(r->body), &out, err, sizeof(err));
		bool ok;

		if (r->want == 0)
			ok = rc == 0 && out.access_token && strcmp(out.access_token, r->want_text) == 0 &&
			     (r->want_refresh ? out.refresh_token && strcmp(out.refresh_token, r->want_refresh) == 0
			                      : out.refresh_token == NULL) &&
			     out.expires_in == r->want_expires;
		else
			ok = rc == -1 && strcmp(err, r->want_text) == 0 && out.access_token == NULL &&
			     out.refresh_token == NULL && strcmp(out.error, r->want_code) == 0;
		CHECK(ok, "reply: %s -> %s (rc %d, err \"%s\", expires %ld)", r->name, r->want_text, rc, err, out.expires_in);
		oauth2_reply_free(&out);
	}
}

#define LONG_DESC "{\"error\":\"invalid_grant\",\"error_description\":\"Gr\\u00fc\\u00dfe aus M\\u00fcnchen und noch viel mehr Text\"}"
#define EURO_DESC "{\"error\":\"e\",\"error_description\":\"ab\\u20ac\"}"

static void reply_edges(void)
{
	char big[SECRET_MAX + 64], err[64];
	struct oauth2_reply out;
	size_t n;

	n = (size_t)snprintf(big, sizeof(big), "{\"access_token\":\"");
	memset(big + n, 'a', SECRET_MAX);
	n += SECRET_MAX;
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\"}");
	CHECK(oauth2_reply_parse(200, big, n, &out, err, sizeof(err)) == -1 &&
	      strstr(err, "access_token is longer than") != NULL, "reply: an access token of SECRET_MAX bytes is refused: %s", err);
	oauth2_reply_free(&out);
	CHECK(oauth2_reply_parse(400, LONG_DESC, strlen(LONG_DESC), &out, err, 40) == -1 &&
	      strlen(err) < 40, "reply: a long description is cut to errlen: \"%s\"", err);
	{
		char text[200];
		snprintf(text, sizeof(text), "invalid_grant: refresh token 0.AXoA-secret-rt is bad; 0.AXoA-secret-rt");
		oauth2_redact(text, "0.AXoA-secret-rt");
		CHECK(strcmp(text, "invalid_grant: refresh token *** is bad; ***") == 0, "redact: every copy of a secret: %s", text);
		oauth2_redact(text, "xyz");
		oauth2_redact(text, NULL);
		oauth2_redact(text, "");
		CHECK(strcmp(text, "invalid_grant: refresh token *** is bad; ***") == 0, "redact: NULL, \"\" and absent secrets change nothing");
	}
	{
		static const struct { const char *text, *secret, *want; } rows[] = {
			{ "invalid_client: secret k3y is wrong", "k3y", "invalid_client: secret *** is wrong" },
			{ "got secret=!# and !#", "!#", "got secret=** and **" },
			{ "x=Q;Q", "Q", "x=*;*" },
			{ "star * and **", "*", "star * and **" },
			{ "***abc***abc", "***abc", "******" },
			{ "no code here", "code-1-9f", "no code here" },
		};
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
			char text[80];
			snprintf(text, sizeof(text), "%s", rows[i].text);
			oauth2_redact(text, rows[i].secret);
			CHECK(strcmp(text, rows[i].want) == 0, "redact '%s' from '%s': '%s'", rows[i].secret, rows[i].text, text);
		}
	}
	{
		char words[200];
		CHECK(oauth2_error_words("invalid_grant", true, "gmail", "invalid_grant: Token has been expired or revoked.",
		                         words, sizeof(words)) == 1 &&
		      strcmp(words, "refresh token expired or revoked: run --oauth2-login gmail again (invalid_grant: Token "
		             "has been expired or revoked.)") == 0, "words: invalid_grant of a refresh: %s", words);
		snprintf(words, sizeof(words), "untouched");
		CHECK(oauth2_error_words("invalid_grant", false, "cc", "invalid_grant: x", words, sizeof(words)) == 0 &&
		      strcmp(words, "untouched") == 0, "words: invalid_grant of client credentials has none");
		CHECK(oauth2_error_words("invalid_scope", false, "r", "invalid_scope: AADSTS70011", words, sizeof(words)) == 1 &&
		      strcmp(words, "the token endpoint refused the scope: check oauth2_scope (README, OAuth2) "
		             "(invalid_scope: AADSTS70011)") == 0, "words: invalid_scope: %s", words);
		CHECK(oauth2_error_words("temporarily_unavailable", true, "r", "x", words, sizeof(words)) == 0,
		      "words: a code withwords plainer words");
		CHECK(oauth2_error_words("invalid_grant", true, "r", "invalid_grant: \xc3\xa9\xc3\xa9\xc3\xa9", words, 81) == 1 &&
		      strlen(words) == 79 && strcmp(words + 77, "\xc3\xa9") == 0,
		      "words: cut to cap, no half UTF-8 character: %s", words);
	}
	/* A description cut inside a multi-byte character loses the whole character. */
	CHECK(oauth2_reply_parse(400, EURO_DESC, strlen(EURO_DESC), &out, err, 7) == -1 &&
	      strcmp(err, "e: ab") == 0, "reply: no half UTF-8 character at the cut: \"%s\"", err);
}

int main(void)
{
	form();
	basic();
	cache_key();
	b64url();
	pkce();
	reply_table();
	reply_edges();
	return unit_done();
}
