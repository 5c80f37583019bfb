/*
 * spam.h - what the receiver's spam filter wrote into the delivered probe's
 * header block (SPEC section 13): SpamAssassin / amavis, rspamd, Microsoft
 * 365; and whether that makes the probe spam_flagged under max_spam_score.
 *
 * Contract:
 *  - block/len is the probe's header block as fetched (BODY.PEEK[HEADER]):
 *    CRLF or bare LF line ends, folded values, no NUL needed, nothing read
 *    at or past block + len; possibly cut at any byte.  A body after the
 *    empty line is never read.
 *  - Results go into the caller's struct, which is cleared first; strings in
 *    it are NUL-terminated.  Numbers are always finite (never NaN or inf:
 *    line protocol forbids them).  No allocation, no state, no locale.
 *
 * Which header decides (SPEC 13): the recognised header nearest the top of
 * the block picks the filter; restricted to one filter's headers when
 * spam_filter_from names one.  That filter's values are then read from the
 * topmost header of each of its kinds, wherever they stand (a filter's
 * headers are not always adjacent: rspamd's "X-Spam: Yes", amavis' group):
 *
 *  spamassassin  X-Spam-Status "Yes|No, score=S ... required=R ..." (score=
 *                and required= wherever they appear, as words, lower case;
 *                "hits=" where there is no "score=", as SpamAssassin 2 and
 *                old amavis wrote; amavis' required= is its tag2_level, the
 *                spam threshold), else X-Spam-Score "S" (or "S / R").
 *                spam: the Yes/No word, else X-Spam-Flag YES/NO, else none.
 *  rspamd        X-Spamd-Result "default: True|False [S / R]" (R = the reject
 *                score), else X-Rspamd-Score "S", else an X-Spam-Score that
 *                rspamd wrote ("S" or rspamc's "S / R").  spam: True, or the
 *                block carries "X-Spam: Yes"; else ham once any rspamd value
 *                was readable, else none.
 *  microsoft     scl from X-MS-Exchange-Organization-SCL, else SCL: in
 *                X-Forefront-Antispam-Report (-1..9, else none).  spam from
 *                SFV: SPM SKS SKB BLK -> spam, NSPM SFE SKA SKN SKI -> ham; no
 *                (or another) SFV: spam when scl >= 5, ham when scl < 5,
 *                none without scl.  No score, no threshold.  The
 *                X-Forefront-Antispam-Report-Untrusted of a sender's tenant
 *                and X-Microsoft-Antispam (BCL) are not read.
 *
 * X-Spam-Score and X-Spam-Flag are written by SpamAssassin and amavis, and
 * by rspamd setups too (rspamc --mime, milter_headers custom routines as
 * SUSE's).  They are rspamd's when their run -- the consecutive X-Spam* /
 * X-Rspamd* headers around them -- holds an X-Spamd-*, X-Rspamd-* or
 * X-Spam-Action header and no X-Spam-Checker-Version; else SpamAssassin's.
 * (An X-Spam-Status is always SpamAssassin's, rspamd's x-spam-status
 * routine included: it imitates SpamAssassin's.)
 *
 * Numbers: [+-]digits[.digits], at most 9 integer digits (leading zeros
 * count), followed by something that cannot continue a number; anything
 * else ("nan", "inf", "1e5", "5,3", "--1", "5.0.1", 10 digits) is no
 * number and the field stays absent.  A value running to the end of a
 * block that does not end in a line end was cut: its last word is not
 * trusted ("score=4" may have been "score=4.9").  Duplicates: the topmost
 * of each kind counts, the others are ignored.  An unreadable deciding
 * header still decides the filter (so a header below it never speaks in
 * its name); its fields are then absent.
 */
#ifndef MAIL_E2E_SPAM_H
#define MAIL_E2E_SPAM_H

#include <stdbool.h>
#include <stddef.h>

enum spam_filter {
	SPAM_FILTER_NONE = 0,          /* no header found; as a choice: any */
	SPAM_FILTER_SPAMASSASSIN,
	SPAM_FILTER_RSPAMD,
	SPAM_FILTER_MICROSOFT,
};
#define SPAM_FILTER_ANY SPAM_FILTER_NONE

enum spam_flag {
	SPAM_NONE = 0,                 /* the filter gave no verdict */
	SPAM_HAM,
	SPAM_SPAM,
};

#define SPAM_WHY_MAX 40

struct spam_verdict {
	enum spam_filter filter;       /* NONE: no field at all */
	bool has_score;
	double score;                  /* spam_score */
	bool has_threshold;
	double threshold;              /* spam_threshold */
	enum spam_flag spam;           /* spam */
	bool has_scl;
	int scl;                       /* Microsoft's -1..9 */
	char why[SPAM_WHY_MAX];        /* when spam == SPAM_SPAM, what said so:
	                                * "X-Spam-Status: Yes", "X-Spam: Yes",
	                                * "SFV:SPM CAT:SPM", "SCL:6"; else "" */
};

/* Read the verdict from block/len, restricted to one filter unless from is
 * SPAM_FILTER_ANY. */
void spam_read(const char *block, size_t len, enum spam_filter from, struct spam_verdict *out);

/* Given max_spam_score (has_max false: unset), is the probe spam_flagged?
 * True when set and spam == SPAM_SPAM or score > max (strictly).  Then error
 * (cap bytes, cut safely) names the filter and why:
 *   "rspamd: score 7.5 > max_spam_score 5"
 *   "spamassassin: X-Spam-Status: Yes, score 6.2 > max_spam_score 5"
 *   "microsoft: SFV:SPM CAT:SPM"
 * else error is "". */
bool spam_flagged(const struct spam_verdict *v, bool has_max, double max, char *error, size_t cap);

/* "spamassassin", "rspamd", "microsoft"; "" for SPAM_FILTER_NONE. */
const char *spam_filter_name(enum spam_filter f);

/* "ham", "spam"; "" for SPAM_NONE. */
const char *spam_flag_name(enum spam_flag s);

/* The route key spam_filter_from: "any" (or "" or NULL: unset) and the three names,
 * exactly (lower case).  False for anything else; *out untouched then. */
bool spam_filter_parse(const char *s, enum spam_filter *out);

/* A whole NUL-terminated string as a score, by the number rules above (for
 * max_spam_score).  False when it is not one. */
bool spam_score_parse(const char *s, double *out);

#endif
