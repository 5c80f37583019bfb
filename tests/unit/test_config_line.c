/*
 * test_config_line.c - the one rule for comments and quotes
 * (plugin/config_line.c): each row a line as config.c hands it over
 * (leading blanks already gone) and what it must split into.
 */
#include <string.h>

#include "config_line.h"
#include "unit.h"

#define E CONFIG_LINE_EMPTY
#define S CONFIG_LINE_SECTION
#define P CONFIG_LINE_PAIR
#define O CONFIG_LINE_OTHER
#define B CONFIG_LINE_BAD

static const struct row {
	const char *line;
	enum config_line_kind kind;
	const char *key, *value;     /* P, B: key; P: value */
	const char *text;            /* S, O: the text up to the comment */
} rows[] = {
	/* whole-line comments and blank lines */
	{ "", E, NULL, NULL, NULL },
	{ "# a comment", E, NULL, NULL, NULL },
	{ "; a comment", E, NULL, NULL, NULL },
	{ "#timeout = 5s", E, NULL, NULL, NULL },
	{ "   ", E, NULL, NULL, NULL },
	/* plain values; a comment starts at ';' or '#' after a blank */
	{ "timeout = 30s", P, "timeout", "30s", NULL },
	{ "timeout=30s", P, "timeout", "30s", NULL },
	{ "timeout = 30s # half a minute", P, "timeout", "30s", NULL },
	{ "timeout = 30s ; half a minute", P, "timeout", "30s", NULL },
	{ "timeout = 30s\t# after a tab", P, "timeout", "30s", NULL },
	{ "timeout = 30s   #", P, "timeout", "30s", NULL },
	{ "smtp_password = pass#word", P, "smtp_password", "pass#word", NULL },
	{ "smtp_password = a;b#c", P, "smtp_password", "a;b#c", NULL },
	{ "subject_prefix = [e2e] #1", P, "subject_prefix", "[e2e]", NULL },
	{ "subject_prefix = probe  for  alice", P, "subject_prefix", "probe  for  alice", NULL },
	{ "smtp_password=#starts-with-hash", P, "smtp_password", "#starts-with-hash", NULL },
	{ "smtp_password = #a comment, so empty", P, "smtp_password", "", NULL },
	{ "delete =", P, "delete", "", NULL },
	{ "delete = ", P, "delete", "", NULL },
	{ "smtp_host: mail.example.org", P, "smtp_host", "mail.example.org", NULL },
	{ "imap_host = ::1 # loopback", P, "imap_host", "::1", NULL },
	{ "oauth2_token_url = https://a.test/t?x=1#frag", P, "oauth2_token_url", "https://a.test/t?x=1#frag", NULL },
	{ "time out = 5s", P, "time out", "5s", NULL },
	{ "timeout\t=\t5s\t", P, "timeout", "5s", NULL },
	/* quoted values keep ';', '#' and blanks; the quotes go */
	{ "subject_prefix = \"[probe #1]\"", P, "subject_prefix", "[probe #1]", NULL },
	{ "subject_prefix = \"[e2e ;monitoring]\" ; why", P, "subject_prefix", "[e2e ;monitoring]", NULL },
	{ "smtp_password = \"  pass word  \"   # blanks kept", P, "smtp_password", "  pass word  ", NULL },
	{ "smtp_password = \"a\"b\"", P, "smtp_password", "a\"b", NULL },
	{ "subject_prefix = \"say \"hi\" twice\"", P, "subject_prefix", "say \"hi\" twice", NULL },
	{ "subject_prefix = \"a\" # say \"hi\"", P, "subject_prefix", "a", NULL },
	{ "subject_prefix = \"\"", P, "subject_prefix", "", NULL },
	{ "subject_prefix = \"# not a comment\"", P, "subject_prefix", "# not a comment", NULL },
	{ "subject_prefix = x \"y\"", P, "subject_prefix", "x \"y\"", NULL },
	/* quoting gone wrong */
	{ "subject_prefix = \"abc", B, "subject_prefix", NULL, NULL },
	{ "subject_prefix = \"", B, "subject_prefix", NULL, NULL },
	{ "subject_prefix = \"abc\" def", B, "subject_prefix", NULL, NULL },
	{ "subject_prefix = \"abc\"# tight", B, "subject_prefix", NULL, NULL },
	{ "subject_prefix = \"abc # def", B, "subject_prefix", NULL, NULL },
	{ "= value", B, "", NULL, NULL },
	{ " = value", B, "", NULL, NULL },
	/* sections, and lines that are neither */
	{ "[outbound]", S, NULL, NULL, "[outbound]" },
	{ "[outbound] # the main route", S, NULL, NULL, "[outbound]" },
	{ "[outbound]; tight", S, NULL, NULL, "[outbound]; tight" },
	{ "this line has no equals sign", O, NULL, NULL, "this line has no equals sign" },
	{ "timeout # = 5s", O, NULL, NULL, "timeout" },
	{ "x ; y=z", O, NULL, NULL, "x" },
};

static int same(const char *p, size_t n, const char *want)
{
	return want && strlen(want) == n && strncmp(p ? p : "", want, n) == 0;
}

int main(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		struct config_line cl;
		enum config_line_kind k = config_line_split(r->line, &cl);
		int ok = k == r->kind;

		if (ok && (k == P || k == B))
			ok = same(cl.key, cl.key_len, r->key);
		if (ok && k == P)
			ok = same(cl.value, cl.value_len, r->value);
		if (ok && (k == S || k == O))
			ok = same(r->line, cl.text_len, r->text);
		if (ok && k == B)
			ok = cl.error && *cl.error;
		CHECK(ok, "'%s' -> kind %d, key '%.*s', value '%.*s', text %zu", r->line, (int)k,
		      (int)cl.key_len, cl.key ? cl.key : "", (int)cl.value_len, cl.value ? cl.value : "",
		      cl.text_len);
	}
	return unit_done();
}
