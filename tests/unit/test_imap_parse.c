/*
 * test_imap_parse.c - table-driven tests of the IMAP response reader and
 * parsers (plugin/imap_parse.c), linked alone.
 */
#include <stdlib.h>
#include <string.h>

#include "imap_parse.h"
#include "imap_utf7.h"
#include "unit.h"

/* --- reader framing ------------------------------------------------------ */

struct collected {
	char text[8][IMAP_KEEP + 1];
	bool truncated[8];
	int n;
};

static int collect(void *ctx, const char *text, bool truncated)
{
	struct collected *c = ctx;
	if (c->n < 8) {
		snprintf(c->text[c->n], sizeof(c->text[c->n]), "%s", text);
		c->truncated[c->n] = truncated;
	}
	c->n++;
	return 0;
}

struct frame_case {
	const char *name;
	const char *input;
	size_t chunk;          /* feed in pieces of this size (0: all at once) */
	int n;                 /* responses expected */
	const char *first, *second;
};

static const struct frame_case frames[] = {
	{ "one CRLF line", "* OK hello\r\n", 0, 1, "* OK hello", NULL },
	{ "bare LF tolerated", "* OK hello\n", 0, 1, "* OK hello", NULL },
	{ "two lines", "* 3 EXISTS\r\nm1 OK done\r\n", 0, 2, "* 3 EXISTS", "m1 OK done" },
	{ "byte by byte", "* 3 EXISTS\r\nm1 OK done\r\n", 1, 2, "* 3 EXISTS", "m1 OK done" },
	{ "incomplete line waits", "* OK no end", 0, 0, NULL, NULL },
	{ "literal kept inline, CRLF as blanks", "* 1 FETCH (BODY[] {5}\r\nab\r\nc)\r\nm2 OK\r\n", 0, 2,
	  "* 1 FETCH (BODY[] {5}ab  c)", "m2 OK" },
	{ "literal split across chunks", "* 1 FETCH (X {5}\r\nab\r\nc)\r\nm2 OK\r\n", 3, 2,
	  "* 1 FETCH (X {5}ab  c)", "m2 OK" },
	{ "literal+ form", "* X {3+}\r\nabc\r\nm1 OK\r\n", 0, 2, "* X {3+}abc", "m1 OK" },
	{ "tab in a literal is a blank", "* X {3}\r\na\tb\r\n", 0, 1, "* X {3}a b", NULL },
	{ "zero literal", "* X {0}\r\n rest\r\n", 0, 1, "* X {0} rest", NULL },
	{ "brace not at end is text", "* OK {5} x\r\n", 0, 1, "* OK {5} x", NULL },
	{ "huge literal number ignored", "* X {9999999999999}\r\nm1 OK\r\n", 0, 2,
	  "* X {9999999999999}", "m1 OK" },
	{ "empty line", "\r\nm1 OK\r\n", 0, 2, "", "m1 OK" },
};

static void test_frames(void)
{
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		const struct frame_case *f = &frames[i];
		struct imap_reader r;
		struct collected c = { 0 };
		size_t len = strlen(f->input), chunk = f->chunk ? f->chunk : len;

		imap_reader_init(&r);
		for (size_t off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;
			imap_reader_feed(&r, f->input + off, n, collect, &c);
		}
		CHECK(c.n == f->n, "frame %s: %d responses (want %d)", f->name, c.n, f->n);
		if (f->first)
			CHECK(strcmp(c.text[0], f->first) == 0, "frame %s: first is '%s'", f->name, c.text[0]);
		if (f->second)
			CHECK(strcmp(c.text[1], f->second) == 0, "frame %s: second is '%s'", f->name, c.text[1]);
	}
}

static void test_huge_line(void)
{
	size_t big = 1 << 20;
	char *buf = malloc(big + 16);
	struct imap_reader r;
	struct collected c = { 0 };

	memset(buf, 'x', big);
	memcpy(buf, "* OK ", 5);
	memcpy(buf + big, "\r\nm1 OK\r\n", 9);
	imap_reader_init(&r);
	for (size_t off = 0; off < big + 9; off += 4000)
		imap_reader_feed(&r, buf + off, (big + 9 - off) < 4000 ? big + 9 - off : 4000,
		                 collect, &c);
	CHECK(c.n == 2, "1 MiB line: framed as one response, then the next (%d)", c.n);
	CHECK(c.truncated[0] && strlen(c.text[0]) == IMAP_KEEP, "1 MiB line: kept %d bytes, truncated", IMAP_KEEP);
	CHECK(!c.truncated[1] && strcmp(c.text[1], "m1 OK") == 0, "1 MiB line: following response intact");
	free(buf);
}

static int stop_at_first(void *ctx, const char *text, bool truncated)
{
	(void)text; (void)truncated;
	(*(int *)ctx)++;
	return 7;
}

static void test_stop(void)
{
	struct imap_reader r;
	int calls = 0;
	int rc;

	imap_reader_init(&r);
	rc = imap_reader_feed(&r, "a OK\r\nb OK\r\n", 12, stop_at_first, &calls);
	CHECK(rc == 7 && calls == 1, "callback's non-zero return stops feeding");
}

/* --- response parsing ---------------------------------------------------- */

struct resp_case {
	const char *text;
	enum imap_kind kind;
	const char *tag;
	enum imap_status status;
	const char *rest;
};

static const struct resp_case resps[] = {
	{ "m1 OK done", IMAP_TAGGED, "m1", IMAP_ST_OK, "done" },
	{ "m2 NO [NONEXISTENT] Mailbox doesn't exist", IMAP_TAGGED, "m2", IMAP_ST_NO,
	  "[NONEXISTENT] Mailbox doesn't exist" },
	{ "m3 bad error", IMAP_TAGGED, "m3", IMAP_ST_BAD, "error" },
	{ "* BYE shutting down", IMAP_UNTAGGED, "", IMAP_ST_BYE, "shutting down" },
	{ "* OK [UIDNEXT 5] Predicted", IMAP_UNTAGGED, "", IMAP_ST_OK, "[UIDNEXT 5] Predicted" },
	{ "* 4 EXISTS", IMAP_UNTAGGED, "", IMAP_ST_NONE, "4 EXISTS" },
	{ "+ idling", IMAP_CONTINUATION, "", IMAP_ST_NONE, "idling" },
	{ "+", IMAP_CONTINUATION, "", IMAP_ST_NONE, "" },
	{ "garbage", IMAP_GARBAGE, "", IMAP_ST_NONE, "garbage" },
	{ "", IMAP_GARBAGE, "", IMAP_ST_NONE, "" },
	{ "m1 HELLO world", IMAP_GARBAGE, "m1", IMAP_ST_NONE, "HELLO world" },
	{ "m1 OK", IMAP_TAGGED, "m1", IMAP_ST_OK, "" },
};

static void test_responses(void)
{
	for (size_t i = 0; i < sizeof(resps) / sizeof(resps[0]); i++) {
		const struct resp_case *c = &resps[i];
		struct imap_response r;

		imap_parse_response(c->text, &r);
		CHECK(r.kind == c->kind && r.status == c->status &&
		      (c->kind != IMAP_TAGGED || strcmp(r.tag, c->tag) == 0) &&
		      strcmp(r.rest, c->rest) == 0,
		      "response '%s': kind %d tag '%s' status %d rest '%s'",
		      c->text, r.kind, r.tag, r.status, r.rest);
	}
}

static void test_exists_and_codes(void)
{
	static const struct { const char *text; bool ok; uint32_t n; } ex[] = {
		{ "* 4 EXISTS", true, 4 }, { "* 0 exists", true, 0 },
		{ "* 4294967295 EXISTS", true, 4294967295u },
		{ "* 4294967296 EXISTS", false, 0 }, { "* 4 RECENT", false, 0 },
		{ "* EXISTS", false, 0 }, { "* 4 EXISTS x", false, 0 }, { "m1 4 EXISTS", false, 0 },
		{ "* 4 EXISTS ", true, 4 }, { "* 4 EXISTSX", false, 0 },
	};
	static const struct { const char *rest; const char *name; bool ok; uint32_t n; } codes[] = {
		{ "[UIDNEXT 12] Predicted", "UIDNEXT", true, 12 },
		{ "[uidnext 7]", "UIDNEXT", true, 7 },
		{ "[UIDVALIDITY 12]", "UIDNEXT", false, 0 },
		{ "[UIDNEXT] x", "UIDNEXT", false, 0 },
		{ "[UIDNEXT 12", "UIDNEXT", false, 0 },
		{ "[UIDNEXT -1]", "UIDNEXT", false, 0 },
		{ "UIDNEXT 12", "UIDNEXT", false, 0 },
	};
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		uint32_t n = 99;
		bool ok = imap_parse_exists(ex[i].text, &n);
		CHECK(ok == ex[i].ok && (!ok || n == ex[i].n), "exists '%s' -> %d %u", ex[i].text, ok, n);
	}
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		uint32_t n = 99;
		bool ok = imap_parse_code_number(codes[i].rest, codes[i].name, &n);
		CHECK(ok == codes[i].ok && (!ok || n == codes[i].n), "code '%s' -> %d %u",
		      codes[i].rest, ok, n);
	}
}

static void test_search(void)
{
	static const struct { const char *text; bool ok; size_t count; uint32_t first; } s[] = {
		{ "* SEARCH", true, 0, 0 }, { "* SEARCH 5", true, 1, 5 },
		{ "* SEARCH 5 9 12", true, 3, 5 }, { "* search 7", true, 1, 7 },
		{ "* SEARCH 5 x", false, 0, 0 }, { "* SEARCHING 5", false, 0, 0 },
		{ "* SEARCH 99999999999", false, 0, 0 }, { "* 5 EXISTS", false, 0, 0 },
		{ "* SEARCH 1 2 3 4 5 6 7 8 9 10", true, 4, 1 },   /* capped at max */
		{ "* SEARCH 3 (MODSEQ 5)", true, 1, 3 },
		/* Yahoo, AOL, GreenMail: a blank before the line end (defect 1) */
		{ "* SEARCH 42 ", true, 1, 42 }, { "* SEARCH 42 43  ", true, 2, 42 },
		{ "* SEARCH ", true, 0, 0 }, { "* SEARCH 42\t", true, 1, 42 },
	};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		uint32_t uids[4] = { 0 };
		size_t count = 99;
		bool ok = imap_parse_search(s[i].text, uids, 4, &count);
		CHECK(ok == s[i].ok && (!ok || (count == s[i].count && (count == 0 || uids[0] == s[i].first))),
		      "search '%s' -> %d count %zu first %u", s[i].text, ok, count, uids[0]);
	}
}

static void test_capability(void)
{
	static const struct { const char *text; const char *cap; bool is, has; } c[] = {
		{ "* CAPABILITY IMAP4rev1 IDLE UIDPLUS", "IDLE", true, true },
		{ "* CAPABILITY IMAP4rev1 IDLE UIDPLUS", "UIDPLUS", true, true },
		{ "* CAPABILITY IMAP4rev1 IDLEX", "IDLE", true, false },
		{ "* CAPABILITY IMAP4rev1 XIDLE", "IDLE", true, false },
		{ "* capability idle", "IDLE", true, true },
		{ "m1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in", "IDLE", true, true },
		{ "m1 OK [CAPABILITY IMAP4rev1] IDLE", "IDLE", true, false },
		{ "* OK [CAPABILITY IMAP4rev1 UIDPLUS", "UIDPLUS", true, true },
		{ "* OK IDLE", "IDLE", false, false },
		{ "* SEARCH 1", "IDLE", false, false },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		CHECK(imap_is_capability(c[i].text) == c[i].is &&
		      imap_capability_has(c[i].text, c[i].cap) == c[i].has,
		      "capability '%s' has %s: %d", c[i].text, c[i].cap, c[i].has);
	}
}

static void test_list(void)
{
	static const struct { const char *text; bool ok; unsigned attrs; const char *name; } rows[] = {
		{ "* LIST (\\HasNoChildren \\Junk) \".\" Junk", true, IMAP_LIST_JUNK, "Junk" },
		{ "* LIST (\\HasNoChildren \\Trash) \"/\" \"[Gmail]/Trash\"", true, IMAP_LIST_TRASH, "[Gmail]/Trash" },
		{ "* LIST (\\All \\HasNoChildren) \"/\" \"[Gmail]/All Mail\"", true, IMAP_LIST_ALL, "[Gmail]/All Mail" },
		{ "* LIST (\\Trash \\Junk) \"/\" Both ", true, IMAP_LIST_TRASH | IMAP_LIST_JUNK, "Both" },
		{ "* LIST (\\Junk) \"/\" \"Junk E-mail\"", true, IMAP_LIST_JUNK, "Junk E-mail" },
		{ "* LIST (\\HasNoChildren \\Junk) \"/\" \"[Gmail]/Spam\"", true, IMAP_LIST_JUNK, "[Gmail]/Spam" },
		{ "* LIST (\\HasNoChildren) \".\" INBOX", true, 0, "INBOX" },
		{ "* LIST (\\Junked) \".\" Junked", true, 0, "Junked" },
		{ "* LIST (\\junk) NIL Spam", true, IMAP_LIST_JUNK, "Spam" },
		{ "* LIST (\\Noselect \\HasChildren) \"/\" \"[Gmail]\"", true, IMAP_LIST_NOSELECT, "[Gmail]" },
		{ "* LIST (\\NonExistent) \"/\" Gone", true, IMAP_LIST_NOSELECT, "Gone" },
		{ "* LIST (\\Junk) \".\" {4}Junk", true, IMAP_LIST_JUNK, "Junk" },
		{ "* LIST (\\Junk) \".\" \"a\\\"b\"", true, IMAP_LIST_JUNK, "a\"b" },
		{ "* LIST (\\Junk) \".\" {9}Ju", false, 0, NULL },
		{ "* LIST (\\Junk \".\" Junk", false, 0, NULL },
		{ "* LSUB (\\Junk) \".\" Junk", false, 0, NULL },
		{ "* LIST (\\Junk) \".\" \"unterminated", false, 0, NULL },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char name[64] = "";
		unsigned attrs = 99;
		bool ok = imap_parse_list(rows[i].text, &attrs, name, sizeof(name));
		CHECK(ok == rows[i].ok && (!ok || (attrs == rows[i].attrs && strcmp(name, rows[i].name) == 0)),
		      "LIST %s -> ok=%d attrs=%u name=%s", rows[i].text, ok, attrs, name);
	}
}

static void test_fetch(void)
{
	static const struct { const char *text; bool ok; uint32_t uid; long long date;
	                      const char *token, *mid; } rows[] = {
		{ "* 3 FETCH (UID 7 INTERNALDATE \"25-Nov-2026 14:00:00 +0000\" "
		  "BODY[HEADER.FIELDS (X-MAIL-E2E-PROBE MESSAGE-ID)] {80}X-Mail-E2E-Probe: 0123456789abcdef0123456789abcdef  "
		  "Message-ID: <1.2.mail-e2e@x>    )", true, 7, 1795615200LL,
		  "0123456789abcdef0123456789abcdef", "<1.2.mail-e2e@x>" },
		{ "* 3 FETCH (UID 8 INTERNALDATE \" 5-Nov-2026 15:00:00 +0100\" "
		  "BODY[HEADER.FIELDS (X-MAIL-E2E-PROBE MESSAGE-ID)] {20}message-id:   <a@b>    )",
		  true, 8, 1793887200LL, "", "<a@b>" },
		{ "* 3 FETCH (BODY[HEADER.FIELDS (X-MAIL-E2E-PROBE MESSAGE-ID)] {2}   UID 9)", true, 9, -1, "", "" },
		{ "* 3 FETCH (UID 9 FLAGS (\\Seen))", false, 0, 0, NULL, NULL },
		{ "* 3 FETCH (FLAGS (\\Seen))", false, 0, 0, NULL, NULL },
		{ "* 3 EXISTS", false, 0, 0, NULL, NULL },
		{ "* 3 FETCH (UID 7 INTERNALDATE \"31-Foo-2026 14:00:00 +0000\" BODY[HEADER.FIELDS (X)] {0})",
		  true, 7, -1, "", "" },
		/* A UID inside the header literal is the sender's text, never the
		 * message's UID (issue 14, defect 3). */
		{ "* 3 FETCH (BODY[HEADER.FIELDS (X-MAIL-E2E-PROBE MESSAGE-ID)] {14}X-Foo: UID 42 UID 9)",
		  true, 9, -1, "", "" },
		{ "* 3 FETCH (BODY[HEADER.FIELDS (X-MAIL-E2E-PROBE MESSAGE-ID)] {14}X-Foo: UID 42)",
		  false, 0, 0, NULL, NULL },
		{ "* 3 FETCH (BODY[HEADER.FIELDS (X-MAIL-E2E-PROBE)] \"UID 42\" UID 10)", true, 10, -1, "", "" },
		{ "* 3 FETCH (FLAGS (\\Seen \\Deleted) BODY[HEADER.FIELDS (X-MAIL-E2E-PROBE)] {31}"
		  "X-Mail-E2E-Probe: abc (UID 77)  UID 11)", true, 11, -1, "abc", "" },
		/* a literal cut short by a truncated response: no value, no UID */
		{ "* 3 FETCH (BODY[HEADER.FIELDS (X)] {900}X-Mail UID 5", false, 0, 0, NULL, NULL },
		/* trailing blanks and lower case */
		{ "* 3 fetch (uid 12 body[header.fields (x-mail-e2e-probe)] {24}x-mail-e2e-probe: t1    )  ",
		  true, 12, -1, "t1", "" },
		/* a value longer than a token stays longer (PROBE_TOKEN_READ_SIZE):
		 * never cut to a token's length */
		{ "* 3 FETCH (UID 14 BODY[HEADER.FIELDS (X-MAIL-E2E-PROBE)] {55}X-Mail-E2E-Probe: 0123456789abcdef0123456789abcdefXYZ  )",
		  true, 14, -1, "0123456789abcdef0123456789abcdefXYZ", "" },
		{ "* 3 FETCH (UID 15 BODY[HEADER.FIELDS (X-MAIL-E2E-PROBE)] {68}X-Mail-E2E-Probe: 0123456789abcdef0123456789abcdef0123456789abcdefgh)",
		  true, 15, -1, "0123456789abcdef0123456789abcdef0123456", "" },
		/* a field name inside another field's value is not that field */
		{ "* 3 FETCH (UID 13 BODY[HEADER.FIELDS (X-MAIL-E2E-PROBE MESSAGE-ID)] {38}"
		  "Message-ID: <m@x> X-Not-Message-ID: y)", true, 13, -1, "", "<m@x>" },
	};
	{
		/* UID FETCH * (UID): no header, but the UID is read (Courier sends
		 * no [UIDNEXT]; the top UID stands in for it). */
		struct imap_fetched f;
		bool ok = imap_parse_fetch_probe("* 12 FETCH (UID 4711)", &f);
		CHECK(!ok && f.has_uid && f.uid == 4711, "FETCH (UID n) alone: has_uid, uid %u", f.uid);
	}
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct imap_fetched f;
		bool ok = imap_parse_fetch_probe(rows[i].text, &f);
		bool good = ok == rows[i].ok;
		if (good && ok)
			good = f.uid == rows[i].uid && strcmp(f.token, rows[i].token) == 0 &&
			       strcmp(f.message_id, rows[i].mid) == 0 &&
			       (rows[i].date < 0 ? !f.has_date : (f.has_date && f.internaldate == rows[i].date));
		CHECK(good, "FETCH row %zu -> ok=%d uid=%u date=%lld token=%s mid=%s", i, ok,
		      ok ? f.uid : 0, ok && f.has_date ? (long long)f.internaldate : -1LL,
		      ok ? f.token : "", ok ? f.message_id : "");
	}
}

static void test_copyuid(void)
{
	static const struct { const char *rest; bool ok; size_t count; uint32_t first, last; } rows[] = {
		{ "[COPYUID 38505 304,319:320 3956:3958] Done", true, 3, 3956, 3958 },
		{ "[COPYUID 1 5 9] ok", true, 1, 9, 9 },
		{ "[copyuid 1 5:6 12,10] ok", true, 2, 12, 10 },
		{ "OK [COPYUID 1 5 7]", true, 1, 7, 7 },
		{ "[COPYUID 1 5] short", false, 0, 0, 0 },
		{ "[COPYUID x 5 7]", false, 0, 0, 0 },
		{ "[UIDNEXT 5]", false, 0, 0, 0 },
		{ "[COPYUID 1 1:4294967295 1:4294967295]", true, 16, 1, 16 },   /* capped */
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t uids[16] = { 0 };
		size_t count = 99;
		bool ok = imap_parse_copyuid(rows[i].rest, uids, 16, &count);
		CHECK(ok == rows[i].ok && (!ok || (count == rows[i].count && uids[0] == rows[i].first &&
		                                   uids[count - 1] == rows[i].last)),
		      "COPYUID '%s' -> ok=%d count=%zu", rows[i].rest, ok, count);
	}
}

static void test_status(void)
{
	static const struct { const char *text; bool ok; uint32_t uidnext; } rows[] = {
		{ "* STATUS Junk (UIDNEXT 42 MESSAGES 3)", true, 42 },
		{ "* STATUS \"Junk\" (MESSAGES 3 UIDNEXT 7)", true, 7 },
		{ "* status \"[Gmail]/Spam\" (uidnext 9)", true, 9 },
		{ "* STATUS \"a (UIDNEXT 5) b\" (UIDNEXT 6)", true, 6 },      /* name holds the words */
		{ "* STATUS {4}Junk (UIDNEXT 8)", true, 8 },                    /* literal, inline */
		{ "* STATUS Junk (HIGHESTMODSEQ 18446744073709551615 UIDNEXT 11)", true, 11 },
		{ "* STATUS Junk (UIDNEXT 12) ", true, 12 },                    /* trailing blank */
		{ "* STATUS Junk (MESSAGES 3)", false, 0 },
		{ "* STATUS Junk (UIDNEXT x)", false, 0 },
		{ "* STATUS Junk (UIDNEXT 99999999999)", false, 0 },
		{ "* STATUS Junk UIDNEXT 5", false, 0 },
		{ "* STATUS Junk (UIDNEXT 5", false, 0 },                       /* cut short */
		{ "* LIST () \"/\" Junk", false, 0 },
		{ "* STATUS", false, 0 },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t n = 0;
		bool ok = imap_parse_status_uidnext(rows[i].text, &n);
		CHECK(ok == rows[i].ok && (!ok || n == rows[i].uidnext), "STATUS '%s' -> ok=%d uidnext=%u",
		      rows[i].text, ok, n);
	}
}

/* A header block read into a caller's buffer keeps its line ends, and
 * the reader goes back to its own buffer cleanly. */
static void test_header_block(void)
{
	static char big[256];
	struct imap_reader r;
	struct collected c = { 0 };
	const char *hdr = "Received: from a\r\n by b with ESMTPS; Tue, 1 Dec 2026 21:00:00 +0000\r\n"
	                  "Authentication-Results: mx.b; dkim=pass\r\n\r\n";
	char wire[512];
	uint32_t uid = 0;
	const char *block = NULL;
	size_t len = 0;

	snprintf(wire, sizeof(wire), "* 3 FETCH (UID 42 BODY[HEADER] {%zu}\r\n%s)\r\nm1 OK done\r\n",
	         strlen(hdr), hdr);
	imap_reader_init(&r);
	imap_reader_use(&r, big, sizeof(big));
	imap_reader_feed(&r, wire, strlen(wire), collect, &c);
	CHECK(c.n == 2, "header FETCH framed as 2 responses (got %d)", c.n);
	CHECK(imap_parse_fetch_header(c.text[0], &uid, &block, &len) && uid == 42 &&
	      len == strlen(hdr) && memcmp(block, hdr, len) == 0,
	      "BODY[HEADER] literal kept byte for byte, CRLF included (uid %u len %zu)", uid, len);
	imap_reader_use(&r, NULL, 0);
	c.n = 0;
	imap_reader_feed(&r, "* 5 EXISTS\r\n", 12, collect, &c);
	CHECK(c.n == 1 && strcmp(c.text[0], "* 5 EXISTS") == 0, "back in its own buffer: '%s'", c.text[0]);
	{
		struct imap_reader t;
		static char small[32];
		struct collected d = { 0 };
		imap_reader_init(&t);
		imap_reader_use(&t, small, sizeof(small));
		imap_reader_feed(&t, wire, strlen(wire), collect, &d);
		CHECK(d.n == 2 && d.truncated[0] && strlen(d.text[0]) == sizeof(small) - 1,
		      "a block past the buffer is cut and flagged, framing intact (n=%d)", d.n);
	}
	{
		static const char *const not_header[] = {
			"* 3 FETCH (UID 42 BODY[HEADER.FIELDS (X-Mail-E2E-Probe)] {5}abcde)",
			"* 3 FETCH (BODY[HEADER] {5}abcde)",
			"* 3 FETCH (UID 42)",
			"* 3 FETCH (UID 42 BODY[HEADER] {9}abc)",
			"* SEARCH 42",
		};
		for (size_t i = 0; i < sizeof(not_header) / sizeof(not_header[0]); i++)
			CHECK(!imap_parse_fetch_header(not_header[i], &uid, &block, &len),
			      "no header block in '%s'", not_header[i]);
	}
}

static void test_utf7(void)
{
	static const struct { const char *in; const char *out; } rows[] = {
		{ "INBOX", "INBOX" }, { "A&B", "A&-B" },
		{ "Entw\xc3\xbcrfe", "Entw&APw-rfe" },                      /* RFC 3501's own */
		{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },                          /* RFC 3501 example */
		{ "\xd0\x9f\xd0\xbe\xd1\x87\xd1\x82\xd0\xb0", "&BB8EPgRHBEIEMA-" },  /* Cyrillic */
		{ "\xf0\x9f\x93\xa7 mail", "&2D3c5w- mail" },               /* surrogate pair */
		{ "\xff bad", NULL }, { "\xc3", NULL },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[128];
		int n = imap_utf7_encode(rows[i].in, out, sizeof(out));
		CHECK(rows[i].out ? (n >= 0 && strcmp(out, rows[i].out) == 0) : n < 0,
		      "UTF-7 row %zu -> %d '%s'", i, n, n >= 0 ? out : "");
	}
	{
		char tiny[4];
		CHECK(imap_utf7_encode("INBOX", tiny, sizeof(tiny)) < 0, "UTF-7: too small a buffer is an error");
	}
}

int main(void)
{
	test_copyuid();
	test_status();
	test_header_block();
	test_utf7();
	test_list();
	test_fetch();
	test_frames();
	test_huge_line();
	test_stop();
	test_responses();
	test_exists_and_codes();
	test_search();
	test_capability();
	return unit_done();
}
