/*
 * test_json.c - table-driven tests of the flat JSON object reader
 * (plugin/json.c), linked alone.  The samples are replies of the Microsoft
 * identity platform (login.microsoftonline.com, compact, \r\n escaped in
 * error_description) and of Google's token and device endpoints
 * (oauth2.googleapis.com, pretty-printed), as their documentation shows
 * them, with made-up token values.  Every valid sample is also read at
 * every cut length, from a buffer of exactly that size (ASan catches a read
 * past the end): a cut object is never valid.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "unit.h"

#define MS_AT "eyJ0eXAiOiJKV1QiLCJub25jZSI6IjZ4X2h1Yk1aZ0ZVIiwiYWxnIjoiUlMyNTYifQ.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlLmNvbSJ9.c2lnbmF0dXJl"
#define MS_RT "0.AXoAtnbKq2-dQUaNy1Lq8YRGUQ0FXGvm-2BIu3aCZHMzBLIAAA.AgABAAEAAADnfolhJpSnRYB1SVj-Hgd8AgDs_wUA9P8"
#define G_AT "ya29.a0AfB_byCdEfGhIjKlMnOpQrStUvWxYz0123456789-abcdefghijklmnopqrstuvwxyz_ABCDEFG"
#define G_RT "1//0gLkMnOpQrStUCgYIARAAGBASNwF-L9IrAbCdEfGhIjKlMnOpQrStUvWxYz"

static const char MS_REFRESH[] =
	"{\"token_type\":\"Bearer\",\"scope\":\"https://outlook.office.com/IMAP.AccessAsUser.All "
	"https://outlook.office.com/SMTP.Send\",\"expires_in\":4939,\"ext_expires_in\":4939,"
	"\"access_token\":\"" MS_AT "\",\"refresh_token\":\"" MS_RT "\"}";
static const char MS_CLIENT_CRED[] =
	"{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,"
	"\"access_token\":\"" MS_AT "\"}";
static const char MS_70008[] =
	"{\"error\":\"invalid_grant\",\"error_description\":\"AADSTS70008: The provided "
	"authorization code or refresh token has expired due to inactivity. Trace ID: "
	"0a1b2c3d-1111-2222-3333-444455556666\\r\\nCorrelation ID: 7e8f9a0b-aaaa-bbbb-cccc-"
	"ddddeeeeffff\\r\\nTimestamp: 2024-05-01 10:00:00Z\",\"error_codes\":[70008],"
	"\"timestamp\":\"2024-05-01 10:00:00Z\",\"trace_id\":\"0a1b2c3d-1111-2222-3333-444455556666\","
	"\"correlation_id\":\"7e8f9a0b-aaaa-bbbb-cccc-ddddeeeeffff\","
	"\"error_uri\":\"https://login.microsoftonline.com/error?code=70008\"}";
static const char MS_7000215[] =
	"{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client "
	"secret provided. Ensure the secret being sent in the request is the client secret "
	"value, not the client secret ID, for a secret added to app '00001111-aaaa-2222-bbbb-"
	"3333cccc4444'.\",\"error_codes\":[7000215],\"timestamp\":\"2024-05-01 10:00:00Z\"}";
static const char MS_PENDING[] =
	"{\"error\":\"authorization_pending\",\"error_description\":\"AADSTS70016: OAuth 2.0 "
	"device flow error. Authorization is pending. Continue polling.\",\"error_codes\":[70016]}";
static const char MS_DEVICE[] =
	"{\"user_code\":\"ABCD1234\",\"device_code\":\"DAQABAAEAAADnfolhJpSnRYB1SVj\","
	"\"verification_uri\":\"https:\\/\\/microsoft.com\\/devicelogin\",\"expires_in\":900,"
	"\"interval\":5,\"message\":\"To sign in, use a web browser to open the page "
	"https://microsoft.com/devicelogin and enter the code ABCD1234 to authenticate.\"}";
static const char G_REFRESH[] =
	"{\n  \"access_token\": \"" G_AT "\",\n  \"expires_in\": 3599,\n"
	"  \"scope\": \"https://mail.google.com/\",\n  \"token_type\": \"Bearer\"\n}";
static const char G_CODE[] =
	"{\n  \"access_token\": \"" G_AT "\",\n  \"expires_in\": 3599,\n  \"refresh_token\": \""
	G_RT "\",\n  \"scope\": \"https://mail.google.com/\",\n  \"token_type\": \"Bearer\"\n}\n";
static const char G_EXPIRED[] =
	"{\n  \"error\": \"invalid_grant\",\n  \"error_description\": \"Token has been expired or revoked.\"\n}";
static const char G_DEVICE[] =
	"{\n  \"device_code\": \"AH-1Ng2Ut7F1dLjVqzJ\",\n  \"user_code\": \"GQVQ-JKEC\",\n"
	"  \"expires_in\": 1800,\n  \"interval\": 5,\n  \"verification_url\": \"https://www.google.com/device\"\n}";

enum kind { VALID, STR, NUM };

struct row {
	const char *name;
	const char *json;
	enum kind kind;
	const char *key;
	int want;              /* VALID: 1/0; else the json_result */
	const char *want_str;  /* STR, JSON_OK */
	long want_num;         /* NUM, JSON_OK */
	size_t cap;            /* STR: out size, 0: 20000 */
};

static const struct row rows[] = {
	/* real replies */
	{ "MS refresh: valid", MS_REFRESH, VALID, NULL, 1 },
	{ "MS refresh: access_token", MS_REFRESH, STR, "access_token", JSON_OK, MS_AT },
	{ "MS refresh: refresh_token", MS_REFRESH, STR, "refresh_token", JSON_OK, MS_RT },
	{ "MS refresh: expires_in", MS_REFRESH, NUM, "expires_in", JSON_OK, NULL, 4939 },
	{ "MS refresh: token_type", MS_REFRESH, STR, "token_type", JSON_OK, "Bearer" },
	{ "MS refresh: no error", MS_REFRESH, STR, "error", JSON_ABSENT },
	{ "MS client credentials: no refresh_token", MS_CLIENT_CRED, STR, "refresh_token", JSON_ABSENT },
	{ "MS client credentials: expires_in", MS_CLIENT_CRED, NUM, "expires_in", JSON_OK, NULL, 3599 },
	{ "MS AADSTS70008: error", MS_70008, STR, "error", JSON_OK, "invalid_grant" },
	{ "MS AADSTS70008: description with \\r\\n decoded", MS_70008, STR, "error_description", JSON_OK,
	  "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity. "
	  "Trace ID: 0a1b2c3d-1111-2222-3333-444455556666\r\nCorrelation ID: 7e8f9a0b-aaaa-bbbb-cccc-"
	  "ddddeeeeffff\r\nTimestamp: 2024-05-01 10:00:00Z" },
	{ "MS AADSTS70008: error_codes is an array", MS_70008, NUM, "error_codes", JSON_TYPE },
	{ "MS AADSTS70008: no access_token", MS_70008, STR, "access_token", JSON_ABSENT },
	{ "MS invalid_client", MS_7000215, STR, "error", JSON_OK, "invalid_client" },
	{ "MS device pending", MS_PENDING, STR, "error", JSON_OK, "authorization_pending" },
	{ "MS device: verification_uri with \\/", MS_DEVICE, STR, "verification_uri", JSON_OK,
	  "https://microsoft.com/devicelogin" },
	{ "MS device: interval", MS_DEVICE, NUM, "interval", JSON_OK, NULL, 5 },
	{ "Google refresh: valid (pretty-printed)", G_REFRESH, VALID, NULL, 1 },
	{ "Google refresh: access_token", G_REFRESH, STR, "access_token", JSON_OK, G_AT },
	{ "Google refresh: scope", G_REFRESH, STR, "scope", JSON_OK, "https://mail.google.com/" },
	{ "Google code exchange: refresh_token, trailing LF", G_CODE, STR, "refresh_token", JSON_OK, G_RT },
	{ "Google expired: error_description", G_EXPIRED, STR, "error_description", JSON_OK,
	  "Token has been expired or revoked." },
	{ "Google device: verification_url", G_DEVICE, STR, "verification_url", JSON_OK,
	  "https://www.google.com/device" },
	{ "Google device: expires_in", G_DEVICE, NUM, "expires_in", JSON_OK, NULL, 1800 },

	/* escapes */
	{ "\\u0041 is A", "{\"k\":\"\\u0041\"}", STR, "k", JSON_OK, "A" },
	{ "all simple escapes", "{\"k\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}", STR, "k", JSON_OK, "\"\\/\b\f\n\r\t" },
	{ "\\u00e9 to 2-byte UTF-8", "{\"k\":\"caf\\u00e9\"}", STR, "k", JSON_OK, "caf\xc3\xa9" },
	{ "\\u20AC (upper-case hex) to 3 bytes", "{\"k\":\"\\u20AC\"}", STR, "k", JSON_OK, "\xe2\x82\xac" },
	{ "surrogate pair to 4 bytes", "{\"k\":\"\\ud83d\\ude00\"}", STR, "k", JSON_OK, "\xf0\x9f\x98\x80" },
	{ "U+10FFFF pair", "{\"k\":\"\\udbff\\udfff\"}", STR, "k", JSON_OK, "\xf4\x8f\xbf\xbf" },
	{ "lone high surrogate", "{\"k\":\"\\ud83d\"}", VALID, NULL, 0 },
	{ "high surrogate then \\n", "{\"k\":\"\\ud83d\\n\"}", VALID, NULL, 0 },
	{ "high surrogate then non-surrogate \\u", "{\"k\":\"\\ud83d\\u0041\"}", VALID, NULL, 0 },
	{ "lone low surrogate", "{\"k\":\"\\ude00\"}", VALID, NULL, 0 },
	{ "reversed pair", "{\"k\":\"\\ude00\\ud83d\"}", VALID, NULL, 0 },
	{ "\\u0000 refused", "{\"k\":\"a\\u0000b\"}", STR, "k", JSON_INVALID },
	{ "unknown escape \\x", "{\"k\":\"\\x41\"}", VALID, NULL, 0 },
	{ "\\U is not \\u", "{\"k\":\"\\U0041\"}", VALID, NULL, 0 },
	{ "short \\u", "{\"k\":\"\\u12\"}", VALID, NULL, 0 },
	{ "bad hex in \\u", "{\"k\":\"\\u12G4\"}", VALID, NULL, 0 },
	{ "escape at end of text", "{\"k\":\"\\", VALID, NULL, 0 },
	{ "raw tab in a string", "{\"k\":\"a\tb\"}", VALID, NULL, 0 },
	{ "raw LF in a string", "{\"k\":\"a\nb\"}", VALID, NULL, 0 },
	{ "DEL is allowed raw", "{\"k\":\"a\x7f\"}", STR, "k", JSON_OK, "a\x7f" },
	{ "raw UTF-8 kept", "{\"k\":\"Gr\xc3\xbc\xc3\x9f \xf0\x9f\x98\x80\"}", STR, "k", JSON_OK,
	  "Gr\xc3\xbc\xc3\x9f \xf0\x9f\x98\x80" },
	{ "invalid UTF-8 byte 0xff", "{\"k\":\"a\xff\"}", VALID, NULL, 0 },
	{ "overlong UTF-8 (C0 AF)", "{\"k\":\"\xc0\xaf\"}", VALID, NULL, 0 },
	{ "overlong UTF-8 (E0 80 AF)", "{\"k\":\"\xe0\x80\xaf\"}", VALID, NULL, 0 },
	{ "UTF-8 encoded surrogate (ED A0 80)", "{\"k\":\"\xed\xa0\x80\"}", VALID, NULL, 0 },
	{ "UTF-8 beyond U+10FFFF (F4 90)", "{\"k\":\"\xf4\x90\x80\x80\"}", VALID, NULL, 0 },
	{ "UTF-8 cut by the quote", "{\"k\":\"\xe2\x82\"}", VALID, NULL, 0 },
	{ "escaped key matches", "{\"acc\\u0065ss_token\":\"t\"}", STR, "access_token", JSON_OK, "t" },

	/* sizes: a token is never cut */
	{ "fits exactly (10 + NUL)", "{\"k\":\"0123456789\"}", STR, "k", JSON_OK, "0123456789", 0, 11 },
	{ "one byte short: too long", "{\"k\":\"0123456789\"}", STR, "k", JSON_TOO_LONG, NULL, 0, 10 },
	{ "multi-byte escape does not fit", "{\"k\":\"abcdefgh\\u20ac\"}", STR, "k", JSON_TOO_LONG, NULL, 0, 11 },
	{ "empty string, cap 1", "{\"k\":\"\"}", STR, "k", JSON_OK, "", 0, 1 },

	/* numbers */
	{ "string of digits", "{\"expires_in\":\"3599\"}", NUM, "expires_in", JSON_OK, NULL, 3599 },
	{ "empty string is no number", "{\"expires_in\":\"\"}", NUM, "expires_in", JSON_TYPE },
	{ "digits and a letter", "{\"expires_in\":\"35a9\"}", NUM, "expires_in", JSON_TYPE },
	{ "signed string", "{\"expires_in\":\"+5\"}", NUM, "expires_in", JSON_TYPE },
	{ "19-digit string", "{\"expires_in\":\"1234567890123456789\"}", NUM, "expires_in", JSON_TYPE },
	{ "fraction", "{\"expires_in\":3599.5}", NUM, "expires_in", JSON_TYPE },
	{ "exponent", "{\"expires_in\":3.6e3}", NUM, "expires_in", JSON_TYPE },
	{ "1e999", "{\"expires_in\":1e999}", NUM, "expires_in", JSON_TYPE },
	{ "negative", "{\"n\":-42}", NUM, "n", JSON_OK, NULL, -42 },
	{ "zero", "{\"n\":0}", NUM, "n", JSON_OK, NULL, 0 },
	{ "LONG_MAX", "{\"n\":9223372036854775807}", NUM, "n", JSON_OK, NULL, LONG_MAX },
	{ "LONG_MAX + 1", "{\"n\":9223372036854775808}", NUM, "n", JSON_RANGE },
	{ "LONG_MIN", "{\"n\":-9223372036854775808}", NUM, "n", JSON_OK, NULL, LONG_MIN },
	{ "LONG_MIN - 1", "{\"n\":-9223372036854775809}", NUM, "n", JSON_RANGE },
	{ "huge number",
	  "{\"n\":123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890}",
	  NUM, "n", JSON_RANGE },
	{ "leading zero", "{\"n\":0123}", VALID, NULL, 0 },
	{ "bare minus", "{\"n\":-}", VALID, NULL, 0 },
	{ "dot without digits", "{\"n\":1.}", VALID, NULL, 0 },
	{ "true is no number", "{\"n\":true}", NUM, "n", JSON_TYPE },
	{ "null reads as absent", "{\"n\":null}", NUM, "n", JSON_ABSENT },

	/* types and structure */
	{ "number is no string", "{\"access_token\":123}", STR, "access_token", JSON_TYPE },
	{ "object is no string", "{\"access_token\":{\"a\":1}}", STR, "access_token", JSON_TYPE },
	{ "null string reads as absent", "{\"refresh_token\":null}", STR, "refresh_token", JSON_ABSENT },
	{ "duplicate key: first wins", "{\"k\":\"first\",\"k\":\"second\"}", STR, "k", JSON_OK, "first" },
	{ "duplicate key: first null wins", "{\"k\":null,\"k\":\"second\"}", STR, "k", JSON_ABSENT },
	{ "nested values skipped",
	  "{\"a\":{\"b\":[1,2.5e-3,{\"c\":null}],\"d\":[]},\"e\":[true,false,\"x\"],\"k\":\"v\"}",
	  STR, "k", JSON_OK, "v" },
	{ "nested key is not top-level", "{\"a\":{\"access_token\":\"inner\"}}", STR, "access_token", JSON_ABSENT },
	{ "nested garbage invalid", "{\"a\":[1,,2],\"k\":\"v\"}", STR, "k", JSON_INVALID },
	{ "empty object", "{}", VALID, NULL, 1 },
	{ "empty object: key absent", " \r\n\t{ } \n", STR, "k", JSON_ABSENT },
	{ "blanks everywhere", " { \"k\" : \"v\" , \"n\" : 1 } ", STR, "k", JSON_OK, "v" },
	{ "key longer than JSON_KEY_MAX matches nothing",
	  "{\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "\":\"v\"}", VALID, NULL, 1 },

	/* garbage */
	{ "empty text", "", VALID, NULL, 0 },
	{ "blanks only", "  \n", VALID, NULL, 0 },
	{ "null", "null", VALID, NULL, 0 },
	{ "array at top", "[{\"k\":\"v\"}]", VALID, NULL, 0 },
	{ "string at top", "\"access_token\"", VALID, NULL, 0 },
	{ "HTML error page", "<html><head><title>500 Internal Server Error</title></head></html>", STR, "error", JSON_INVALID },
	{ "text after the object", "{\"k\":\"v\"} x", STR, "k", JSON_INVALID },
	{ "two objects", "{}{}", VALID, NULL, 0 },
	{ "trailing comma", "{\"k\":\"v\",}", VALID, NULL, 0 },
	{ "single quotes", "{'k':'v'}", VALID, NULL, 0 },
	{ "unquoted key", "{k:\"v\"}", VALID, NULL, 0 },
	{ "missing colon", "{\"k\" \"v\"}", VALID, NULL, 0 },
	{ "missing value", "{\"k\":}", VALID, NULL, 0 },
	{ "True is no literal", "{\"k\":True}", VALID, NULL, 0 },
	{ "nul literal cut", "{\"k\":nul}", VALID, NULL, 0 },
	{ "byte order mark", "\xef\xbb\xbf{}", VALID, NULL, 0 },
	{ "unterminated string", "{\"k\":\"v}", VALID, NULL, 0 },
	{ "form-encoded reply", "access_token=abc&expires_in=3600&token_type=bearer", VALID, NULL, 0 },
};

static void run_row(const struct row *r)
{
	size_t len = strlen(r->json), cap = r->cap ? r->cap : 20000;
	char *out = malloc(cap);
	long num = 12345;
	int rc;

	if (!out) {
		CHECK(0, "%s: out of memory", r->name);
		return;
	}
	switch (r->kind) {
	case VALID:
		CHECK(json_valid(r->json, len) == (r->want == 1), "%s: %s", r->name, r->want ? "valid" : "invalid");
		break;
	case STR:
		memset(out, 'X', cap);
		rc = json_get_string(r->json, len, r->key, out, cap);
		if (r->want == JSON_OK)
			CHECK(rc == JSON_OK && strcmp(out, r->want_str) == 0, "%s: \"%s\" -> ok (rc %d)", r->name, r->key, rc);
		else {
			size_t zero = 0;
			while (zero < cap && out[zero] == '\0')
				zero++;
			CHECK(rc == r->want && out[0] == '\0' && (rc != JSON_TOO_LONG || zero == cap),
			      "%s: \"%s\" -> %s (rc %d)%s", r->name, r->key, json_result_text(r->want), rc,
			      rc == JSON_TOO_LONG ? ", out wiped" : "");
		}
		break;
	case NUM:
		rc = json_get_number(r->json, len, r->key, &num);
		CHECK(rc == r->want && (rc != JSON_OK || num == r->want_num) && (rc == JSON_OK || num == 12345),
		      "%s: \"%s\" -> %s %ld (rc %d, got %ld)", r->name, r->key, json_result_text(r->want),
		      r->want_num, rc, num);
		break;
	}
	free(out);
}

/* Every cut of a valid sample short of its closing brace is invalid, and
 * no reader goes past the cut (exact-size heap copies). */
static void cuts(const char *name, const char *json)
{
	size_t len = strlen(json), last = len, bad = 0;
	char out[64];
	long num;

	while (last > 0 && json[last - 1] != '}')
		last--;
	for (size_t n = 0; n + 1 < last; n++) {
		char *b = malloc(n ? n : 1);
		if (!b)
			break;
		memcpy(b, json, n);
		if (json_valid(b, n) || json_get_string(b, n, "access_token", out, sizeof(out)) != JSON_INVALID ||
		    json_get_number(b, n, "expires_in", &num) != JSON_INVALID)
			bad++;
		free(b);
	}
	CHECK(bad == 0 && last > 0, "%s: all %zu cuts before the closing brace are invalid", name, last - 1);
}

/* Nesting: JSON_DEPTH_MAX levels in all (the top object counts) pass, one
 * more fails, and a deep text does not blow the stack. */
static void depth(void)
{
	char buf[4096];
	size_t n = 0;

	for (int k = JSON_DEPTH_MAX - 2; k <= JSON_DEPTH_MAX; k++) {
		n = 0;
		buf[n++] = '{';
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\"a\":");
		for (int i = 0; i < k; i++)
			buf[n++] = '[';
		for (int i = 0; i < k; i++)
			buf[n++] = ']';
		buf[n++] = '}';
		CHECK(json_valid(buf, n) == (1 + k <= JSON_DEPTH_MAX), "top object + %d nested arrays: %s", k,
		      1 + k <= JSON_DEPTH_MAX ? "valid" : "too deep, invalid");
	}
	n = 0;
	buf[n++] = '{';
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\"a\":");
	while (n < sizeof(buf) - 1)
		buf[n++] = '[';
	CHECK(!json_valid(buf, n), "4 KiB of '[' is invalid, no stack overflow");
}

static void odd_inputs(void)
{
	static const char nul[] = "{\"k\":\"a\0b\"}";
	char out[16];
	long num = 7;

	CHECK(!json_valid(nul, sizeof(nul) - 1), "a NUL byte inside a string is invalid");
	CHECK(json_get_string("{\"k\":\"v\"}", 9, "k", out, 0) == JSON_TOO_LONG, "cap 0: too long, nothing written");
	CHECK(!json_valid(NULL, 0), "NULL text is invalid");
	CHECK(json_get_number("{\"k\":\"v\"}", 9, "k", &num) == JSON_TYPE && num == 7, "string of letters: type, *out untouched");
	CHECK(json_get_string("{\"k\":\"v\"}", 8, "k", out, sizeof(out)) == JSON_INVALID && out[0] == '\0',
	      "length excludes the closing brace: invalid, out empty");
	CHECK(strcmp(json_result_text(JSON_TOO_LONG), "too long") == 0 && json_result_text(99) != NULL,
	      "json_result_text names results");
}

int main(void)
{
	static const struct { const char *name, *json; } samples[] = {
		{ "MS refresh", MS_REFRESH }, { "MS client credentials", MS_CLIENT_CRED },
		{ "MS AADSTS70008", MS_70008 }, { "MS AADSTS7000215", MS_7000215 },
		{ "MS pending", MS_PENDING }, { "MS device", MS_DEVICE },
		{ "Google refresh", G_REFRESH }, { "Google code", G_CODE },
		{ "Google expired", G_EXPIRED }, { "Google device", G_DEVICE },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&rows[i]);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		cuts(samples[i].name, samples[i].json);
	depth();
	odd_inputs();
	return unit_done();
}
