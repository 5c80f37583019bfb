/*
 * imap_parse.h - pure parsing of IMAP server responses (RFC 3501 subset).
 *
 * Contract:
 *  - struct imap_reader frames a byte stream into complete responses: a
 *    response is a line ending in CRLF (a bare LF is tolerated), continued
 *    across literals "{n}" / "{n+}".  Literal contents are kept inline,
 *    right after "{n}", with control bytes (CR, LF, NUL...) turned into
 *    blanks.  Only the first IMAP_KEEP bytes of a response are kept; the rest
 *    is consumed and dropped, so a 1 MiB line costs no memory and the
 *    callback learns it was truncated.  No allocation; the reader lives
 *    inside its owner.
 *  - imap_reader_feed() calls cb(ctx, text, truncated) once per complete
 *    response with NUL-terminated text (no CRLF).  If cb returns non-zero,
 *    feeding stops and that value is returned; unconsumed bytes are dropped.
 *    Returns 0 when all bytes were consumed.
 *  - The imap_parse_* helpers read one response text and never write
 *    outside their arguments.
 */
#ifndef MAIL_E2E_IMAP_PARSE_H
#define MAIL_E2E_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probe_id.h"

#define IMAP_KEEP 4096

struct imap_reader {
	char text[IMAP_KEEP + 1];
	char *big;              /* a caller's buffer in use instead of text, or NULL */
	size_t big_cap;
	size_t len;             /* bytes kept in text */
	bool truncated;         /* more bytes than IMAP_KEEP in this response */
	bool in_literal;
	uint64_t literal_left;  /* bytes of literal still to skip */
	char tail[24];          /* last bytes of the current segment: finds "{n}" */
	size_t tail_len;
};

typedef int (*imap_response_cb)(void *ctx, const char *text, bool truncated);

void imap_reader_init(struct imap_reader *r);
/* Keep responses in buf (cap bytes, the NUL included) instead of text,
 * with literal bytes as they came (only NUL turned blank), for a header
 * block whose line ends matter; NULL goes back to text.  What was read of
 * a response under way moves along.  The caller owns buf and keeps it
 * alive until it switches back. */
void imap_reader_use(struct imap_reader *r, char *buf, size_t cap);
int imap_reader_feed(struct imap_reader *r, const char *data, size_t n,
                     imap_response_cb cb, void *ctx);

enum imap_kind { IMAP_UNTAGGED, IMAP_CONTINUATION, IMAP_TAGGED, IMAP_GARBAGE };
enum imap_status { IMAP_ST_NONE, IMAP_ST_OK, IMAP_ST_NO, IMAP_ST_BAD,
                   IMAP_ST_BYE, IMAP_ST_PREAUTH };

struct imap_response {
	enum imap_kind kind;
	char tag[32];              /* tagged only */
	enum imap_status status;   /* OK/NO/BAD/BYE/PREAUTH, or NONE */
	const char *rest;          /* points into the text: after tag and status */
};

/* Split a response into kind, tag, status; never fails (GARBAGE instead). */
void imap_parse_response(const char *text, struct imap_response *out);

/* "* 12 EXISTS" -> 12.  Returns true if text is an EXISTS response. */
bool imap_parse_exists(const char *text, uint32_t *n);

/* A response code "[NAME number]" anywhere at the start of rest, e.g.
 * "[UIDNEXT 4]": true and *out = 4. */
bool imap_parse_code_number(const char *rest, const char *name, uint32_t *out);

/* "* SEARCH 3 7 9": stores up to max UIDs in uids, *count = how many were
 * stored (extra ones are dropped).  Returns false if text is not a SEARCH
 * response or a number is malformed. */
bool imap_parse_search(const char *text, uint32_t *uids, size_t max, size_t *count);

/* True if a capability list in "* CAPABILITY ..." or "[CAPABILITY ...]"
 * contains cap (case-insensitive, whole word). */
bool imap_capability_has(const char *text, const char *cap);

/* True if text is an untagged "* CAPABILITY" response or carries a
 * "[CAPABILITY ...]" response code. */
bool imap_is_capability(const char *text);

/* "* LIST (\HasNoChildren \Junk) "." Junk": the mailbox name (quoted,
 * literal or atom; at most namelen-1 bytes) and the special-use
 * attributes it carries (RFC 6154) as IMAP_LIST_* bits. */
#define IMAP_LIST_JUNK  1u
#define IMAP_LIST_TRASH 2u
#define IMAP_LIST_ALL   4u
#define IMAP_LIST_NOSELECT 8u   /* \Noselect or \NonExistent: no SELECT */
bool imap_parse_list(const char *text, unsigned *attrs, char *name, size_t namelen);

/* "[COPYUID 38505 304,319:320 3956:3958]" (RFC 4315) in a response's rest:
 * the destination UIDs, at most max.  False if rest has no such code. */
bool imap_parse_copyuid(const char *rest, uint32_t *uids, size_t max, size_t *count);


/* "* STATUS Junk (UIDNEXT 42 MESSAGES 3 UIDVALIDITY 7)" (the name quoted,
 * a literal or an atom, at most 255 bytes kept): the name and the values
 * it carries.  False if text is no STATUS response. */
struct imap_status_reply {
	char name[256];
	bool has_uidnext, has_messages, has_uidvalidity;
	uint32_t uidnext, messages, uidvalidity;
};
bool imap_parse_status(const char *text, struct imap_status_reply *out);
/* The UIDNEXT of a STATUS response; false without one. */
bool imap_parse_status_uidnext(const char *text, uint32_t *uidnext);

/* Building blocks shared by imap_parse.c and imap_fetch.c: a decimal
 * uint32 at *p (false on none or overflow), and a "quoted" string or {n}
 * literal kept inline, as the span of its raw content; both advance *p. */
bool imap_parse_u32(const char **p, uint32_t *out);
bool imap_string_span(const char **p, const char **val, size_t *len);

/* imap_fetch.c: a FETCH reply "* n FETCH (...)" read once into its items:
 * the sequence number, UID, INTERNALDATE, and the first BODY[...] item
 * (its name as sent, e.g. "BODY[HEADER]" or "BODY[]<0>", and its content
 * as a span into text).  Items are read in order at the top level of the
 * list, each value skipped by its own syntax (a literal by its length).
 * With `truncated` (the reader cut the response at its cap) a literal that
 * runs to the end of the text is taken as far as it goes, body_cut set.
 * False if text is no FETCH reply. */
struct imap_fetch {
	uint32_t seq;
	uint32_t uid;
	bool has_uid, has_date, has_body, body_cut;
	int64_t internaldate;      /* Unix seconds */
	char section[64];          /* "BODY[HEADER]", "" without a body item */
	const char *body;          /* into text; not NUL-terminated at body_len */
	size_t body_len;
};
bool imap_parse_fetch(const char *text, bool truncated, struct imap_fetch *out);
/* The first word of header field `name` (with its colon) in a header
 * block, at most dstlen-1 bytes, "" when absent. */
void imap_fetch_field_word(const char *block, size_t len, const char *name, char *dst, size_t dstlen);

/* imap_fetch.c: one reply to UID FETCH (UID [INTERNALDATE] BODY.PEEK[HEADER.FIELDS
 * (X-Mail-E2E-Probe [Message-ID])]).  Items are read in order at the top
 * level of the FETCH list, each value skipped by its own syntax (a literal
 * by its length), so nothing inside a header block is ever taken for an
 * item.  True when the reply had both a UID and a header block; has_uid
 * and uid are filled in either way (UID FETCH * (UID) reads the top UID). */
struct imap_fetched {
	uint32_t uid;
	bool has_uid, has_header;
	bool has_date;
	int64_t internaldate;      /* Unix seconds */
	char token[PROBE_TOKEN_READ_SIZE];   /* X-Mail-E2E-Probe value, "" if absent */
	char message_id[200];      /* Message-ID value, "" if absent */
};
bool imap_parse_fetch_probe(const char *text, struct imap_fetched *out);

/* A reply to UID FETCH n (... BODY.PEEK[<section>]): the UID and the
 * content of the first item whose name starts with section ("BODY[HEADER]",
 * "BODY[]" (also "BODY[]<0>"), "BODY[HEADER.FIELDS"), pointing into text;
 * read with a reader in imap_reader_use() mode, its line ends are there.
 * False without both. */
bool imap_parse_fetch_section(const char *text, const char *section, uint32_t *uid,
                              const char **block, size_t *len);
#define imap_parse_fetch_header(text, uid, block, len) \
	imap_parse_fetch_section(text, "BODY[HEADER]", uid, block, len)

#endif
