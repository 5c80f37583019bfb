/*
 * spam.c - see spam.h.  One walk over the block notes the topmost header of
 * each kind; the filter of the topmost deciding one is then read.  Values
 * are read raw (folded): line ends count as blanks, so no unfold buffer can
 * cut a value.  Written to be fuzzed: every scan is bounded by its value's
 * end, numbers by a digit limit; nothing allocates.
 */
#include "spam.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ascii.h"
#include "mail_header.h"

#define INT_DIGITS_MAX 9      /* |number| < 1e9: far above any filter's scale */
#define FRAC_DIGITS_USED 9

/* --- characters and words ------------------------------------------------- */

static const char *skip_blanks(const char *p, const char *e)
{
	while (p < e && ascii_is_blank(*p))
		p++;
	return p;
}

/* A value [v, e) that runs to the end of a block without a line end may
 * have been cut there: what touches e is then not trusted. */
struct val {
	const char *v, *e;
	bool cut;
};

static bool trusted_end(const struct val *x, const char *t)
{
	return !(x->cut && t >= x->e);
}

/* The run of letters at *p (after blanks): its length, *p past it; 0 when
 * it is cut or there is none. */
static size_t read_word(const struct val *x, const char **p, const char **w)
{
	const char *s = skip_blanks(*p, x->e), *t = s;

	while (t < x->e && ascii_is_alpha(*t))
		t++;
	*w = s;
	*p = t;
	if (t == s || !trusted_end(x, t))
		return 0;
	return (size_t)(t - s);
}

/* --- numbers --------------------------------------------------------------- */

/* [+-]digits[.digits] at *p, ended by something that cannot continue a
 * number ("5.0.1", "1e5", "5,3", "5abc" are no numbers).  *p past it. */
static bool read_number(const struct val *x, const char **p, double *out)
{
	const char *s = *p, *e = x->e;
	uint64_t whole = 0, frac = 0, div = 1;
	int idigits = 0, fdigits = 0;
	bool neg = false, point_digits = false;
	double d;

	if (s < e && (*s == '+' || *s == '-'))
		neg = *s++ == '-';
	for (; s < e && ascii_is_digit(*s); s++) {
		if (++idigits > INT_DIGITS_MAX)
			return false;
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (s < e && *s == '.')
		for (s++; s < e && ascii_is_digit(*s); s++) {
			point_digits = true;
			if (fdigits++ < FRAC_DIGITS_USED) {
				frac = frac * 10 + (uint64_t)(*s - '0');
				div *= 10;
			}
			if (fdigits > FRAC_DIGITS_USED)
				fdigits = FRAC_DIGITS_USED;
		}
	if ((idigits == 0 && !point_digits) || !trusted_end(x, s))
		return false;
	if (s < e && (ascii_is_alpha(*s) || ascii_is_digit(*s) || (unsigned char)*s >= 0x80 || *s == '.' || *s == '_' || *s == '+' || *s == '-' ||
	              (*s == ',' && e - s >= 2 && ascii_is_digit(s[1]))))
		return false;
	d = (double)whole + (double)frac / (double)div;
	*out = (neg && d != 0.0) ? -d : d;   /* never "-0" */
	*p = s;
	return true;
}

/* "S", or with pair also "S / R" (rspamc --mime), at the start of the value:
 * into out where it has no score (threshold) yet. */
static void fill_score(const struct val *x, bool pair, struct spam_verdict *out)
{
	const char *p = skip_blanks(x->v, x->e);
	double d;

	if (!read_number(x, &p, &d))
		return;
	if (!out->has_score) {
		out->has_score = true;
		out->score = d;
	}
	p = skip_blanks(p, x->e);
	if (pair && p < x->e && *p == '/') {
		p = skip_blanks(p + 1, x->e);
		if (read_number(x, &p, &d) && !out->has_threshold) {
			out->has_threshold = true;
			out->threshold = d;
		}
	}
}

/* The first word: 1 for yes, 0 for no, -1 for anything else. */
static int yes_no(const struct val *x)
{
	const char *p = x->v, *w;
	size_t n = read_word(x, &p, &w);

	return ascii_span_is(w, n, "yes") ? 1 : ascii_span_is(w, n, "no") ? 0 : -1;
}

/* The value after the first "key" (e.g. "score=") that starts a word: at
 * the value's start or after a blank or a comma.  Case counts, so that a
 * rule named SCORE in a test list never matches. */
static const char *find_key(const struct val *x, const char *key)
{
	size_t kn = strlen(key);

	for (const char *p = x->v; (size_t)(x->e - p) >= kn; p++)
		if ((p == x->v || ascii_is_blank(p[-1]) || p[-1] == ',') && memcmp(p, key, kn) == 0)
			return p + kn;
	return NULL;
}

/* --- what the walk notes ---------------------------------------------------- */

enum kind {
	K_SA_STATUS, K_SA_SCORE, K_SA_FLAG,
	K_RS_RESULT, K_RS_SCORE, K_RS_XSCORE, K_RS_XSPAM,
	K_MS_SCL, K_MS_REPORT,
	K_COUNT
};

static const struct {
	const char *name;        /* NULL: noted by the run or the X-Spam rule */
	enum spam_filter filter;
	bool decides;            /* one of SPEC 13's headers */
} kinds[K_COUNT] = {
	[K_SA_STATUS] = { "X-Spam-Status", SPAM_FILTER_SPAMASSASSIN, true },
	[K_SA_SCORE] = { NULL, SPAM_FILTER_SPAMASSASSIN, true },
	[K_SA_FLAG] = { NULL, SPAM_FILTER_SPAMASSASSIN, false },
	[K_RS_RESULT] = { "X-Spamd-Result", SPAM_FILTER_RSPAMD, true },
	[K_RS_SCORE] = { "X-Rspamd-Score", SPAM_FILTER_RSPAMD, true },
	[K_RS_XSCORE] = { NULL, SPAM_FILTER_RSPAMD, true },
	[K_RS_XSPAM] = { NULL, SPAM_FILTER_RSPAMD, false },
	[K_MS_SCL] = { "X-MS-Exchange-Organization-SCL", SPAM_FILTER_MICROSOFT, true },
	[K_MS_REPORT] = { "X-Forefront-Antispam-Report", SPAM_FILTER_MICROSOFT, true },
};

struct seen {
	bool set[K_COUNT];
	struct val val[K_COUNT];     /* the topmost header of each kind */
	size_t pos[K_COUNT];         /* its position in the block, from 1 */
	bool xspam_yes;              /* some X-Spam header says Yes */
};

/* A run of consecutive X-Spam* / X-Rspamd* headers: whose X-Spam-Score and
 * X-Spam-Flag are (spam.h) is known at its end. */
struct run {
	bool rspamd, sa;
	bool has[2];                 /* [0] X-Spam-Score, [1] X-Spam-Flag */
	struct val val[2];
	size_t pos[2];
};

static void note(struct seen *s, enum kind k, const struct val *x, size_t pos)
{
	if (!s->set[k]) {
		s->set[k] = true;
		s->val[k] = *x;
		s->pos[k] = pos;
	}
}

static void run_end(struct seen *s, struct run *r)
{
	bool rs = r->rspamd && !r->sa;

	if (r->has[0])
		note(s, rs ? K_RS_XSCORE : K_SA_SCORE, &r->val[0], r->pos[0]);
	if (r->has[1] && !rs)
		note(s, K_SA_FLAG, &r->val[1], r->pos[1]);
	memset(r, 0, sizeof(*r));
}

static bool name_prefix(const struct mail_field *f, const char *prefix)
{
	size_t n = strlen(prefix);
	return f->name_len >= n && ascii_span_is(f->name, n, prefix);
}

/* One field of the walk at position pos. */
static void walk_field(struct seen *s, struct run *r, const struct mail_field *f, const struct val *x, size_t pos)
{
	int amb = mail_field_is(f, "X-Spam-Score") ? 0 : mail_field_is(f, "X-Spam-Flag") ? 1 : -1;

	if (!name_prefix(f, "X-Spam") && !name_prefix(f, "X-Rspamd"))
		run_end(s, r);
	if (name_prefix(f, "X-Spamd-") || name_prefix(f, "X-Rspamd-") || mail_field_is(f, "X-Spam-Action"))
		r->rspamd = true;
	if (mail_field_is(f, "X-Spam-Checker-Version"))
		r->sa = true;
	if (amb >= 0) {
		if (!r->has[amb]) {
			r->has[amb] = true;
			r->val[amb] = *x;
			r->pos[amb] = pos;
		}
		return;
	}
	if (mail_field_is(f, "X-Spam")) {
		s->xspam_yes |= yes_no(x) == 1;
		return;
	}
	for (int k = 0; k < K_COUNT; k++)
		if (kinds[k].name != NULL && mail_field_is(f, kinds[k].name))
			note(s, (enum kind)k, x, pos);
}

static void walk(const char *block, size_t len, struct seen *s)
{
	const char *cur = block, *end = block + len;
	struct mail_field f;
	struct run r;
	size_t pos = 0;

	memset(s, 0, sizeof(*s));
	memset(&r, 0, sizeof(r));
	while (mail_field_next(&cur, end, &f)) {
		struct val x = { f.value, f.value + f.value_len, f.value + f.value_len == end };
		walk_field(s, &r, &f, &x, ++pos);
	}
	run_end(s, &r);
}

/* The filter of the topmost deciding header that from allows. */
static enum spam_filter deciding_filter(const struct seen *s, enum spam_filter from)
{
	enum spam_filter best = SPAM_FILTER_NONE;
	size_t best_pos = 0;

	for (int k = 0; k < K_COUNT; k++) {
		if (!s->set[k] || !kinds[k].decides)
			continue;
		if (from != SPAM_FILTER_ANY && kinds[k].filter != from)
			continue;
		if (best == SPAM_FILTER_NONE || s->pos[k] < best_pos) {
			best = kinds[k].filter;
			best_pos = s->pos[k];
		}
	}
	return best;
}

/* --- SpamAssassin / amavis -------------------------------------------------- */

static void read_spamassassin(const struct seen *s, struct spam_verdict *out)
{
	if (s->set[K_SA_STATUS]) {
		const struct val *x = &s->val[K_SA_STATUS];
		const char *k;
		int yn = yes_no(x);

		out->spam = yn == 1 ? SPAM_SPAM : yn == 0 ? SPAM_HAM : SPAM_NONE;
		if (yn == 1)
			snprintf(out->why, sizeof(out->why), "X-Spam-Status: Yes");
		if (((k = find_key(x, "score=")) != NULL || (k = find_key(x, "hits=")) != NULL) &&
		    read_number(x, &k, &out->score))
			out->has_score = true;
		if ((k = find_key(x, "required=")) != NULL && read_number(x, &k, &out->threshold))
			out->has_threshold = true;
	}
	if (s->set[K_SA_SCORE])
		fill_score(&s->val[K_SA_SCORE], true, out);
	if (out->spam == SPAM_NONE && s->set[K_SA_FLAG]) {
		int yn = yes_no(&s->val[K_SA_FLAG]);
		out->spam = yn == 1 ? SPAM_SPAM : yn == 0 ? SPAM_HAM : SPAM_NONE;
		if (yn == 1)
			snprintf(out->why, sizeof(out->why), "X-Spam-Flag: YES");
	}
}

/* --- rspamd ------------------------------------------------------------------ */

/* "default: True [S / R]; SYMBOL(..." */
static void read_spamd_result(const struct val *x, struct spam_verdict *out, bool *said)
{
	const char *p = skip_blanks(x->v, x->e), *w;
	size_t n;

	while (p < x->e && (ascii_is_alpha(*p) || ascii_is_digit(*p) || *p == '_' || *p == '-'))
		p++;                     /* the metric name, "default" */
	if (p >= x->e || *p != ':')
		return;
	p++;
	n = read_word(x, &p, &w);
	if (ascii_span_is(w, n, "true")) {
		out->spam = SPAM_SPAM;
		snprintf(out->why, sizeof(out->why), "X-Spamd-Result: True");
	}
	if (!ascii_span_is(w, n, "true") && !ascii_span_is(w, n, "false"))
		return;
	*said = true;
	p = skip_blanks(p, x->e);
	if (p >= x->e || *p != '[')
		return;
	p = skip_blanks(p + 1, x->e);
	if (!read_number(x, &p, &out->score))
		return;
	out->has_score = true;
	p = skip_blanks(p, x->e);
	if (p >= x->e || *p != '/')
		return;
	p = skip_blanks(p + 1, x->e);
	if (read_number(x, &p, &out->threshold))
		out->has_threshold = true;
}

static void read_rspamd(const struct seen *s, struct spam_verdict *out)
{
	bool said = false;

	if (s->set[K_RS_RESULT])
		read_spamd_result(&s->val[K_RS_RESULT], out, &said);
	if (s->set[K_RS_SCORE])
		fill_score(&s->val[K_RS_SCORE], false, out);
	if (s->set[K_RS_XSCORE])
		fill_score(&s->val[K_RS_XSCORE], true, out);
	if (out->spam != SPAM_SPAM && s->xspam_yes) {
		out->spam = SPAM_SPAM;
		snprintf(out->why, sizeof(out->why), "X-Spam: Yes");
	}
	/* "else ham" (SPEC 13) once rspamd said anything readable at all. */
	if (out->spam == SPAM_NONE && (said || out->has_score))
		out->spam = SPAM_HAM;
}

/* --- Microsoft 365 ------------------------------------------------------------ */

/* An SCL: [-]digits, -1..9. */
static bool read_scl(const struct val *x, const char *p, const char *e, int *scl)
{
	struct val y = { p, e, x->cut && e >= x->e };
	double d;

	p = skip_blanks(p, e);
	if (!read_number(&y, &p, &d) || skip_blanks(p, e) != e)
		return false;
	if (d != (double)(int)d || d < -1 || d > 9)
		return false;
	*scl = (int)d;
	return true;
}

static const char *const SFV_SPAM[] = { "SPM", "SKS", "SKB", "BLK" };
static const char *const SFV_HAM[] = { "NSPM", "SFE", "SKA", "SKN", "SKI" };

static int sfv_class(const char *w, size_t n, const char **canon)
{
	for (size_t i = 0; i < sizeof(SFV_SPAM) / sizeof(SFV_SPAM[0]); i++)
		if (ascii_span_is(w, n, SFV_SPAM[i])) {
			*canon = SFV_SPAM[i];
			return SPAM_SPAM;
		}
	for (size_t i = 0; i < sizeof(SFV_HAM) / sizeof(SFV_HAM[0]); i++)
		if (ascii_span_is(w, n, SFV_HAM[i])) {
			*canon = SFV_HAM[i];
			return SPAM_HAM;
		}
	return SPAM_NONE;
}

struct forefront {
	bool has_scl;
	int scl;
	bool sfv_seen;
	enum spam_flag sfv;
	const char *sfv_name;
	char cat[12];
};

/* One "KEY:value" item [s, t) of X-Forefront-Antispam-Report. */
static void forefront_item(const struct val *x, const char *s, const char *t, struct forefront *ff)
{
	const char *colon = memchr(s, ':', (size_t)(t - s)), *k = skip_blanks(s, t), *ke, *v, *ve;

	if (colon == NULL)
		return;
	for (ke = colon; ke > k && ascii_is_blank(ke[-1]); ke--)
		;
	v = skip_blanks(colon + 1, t);
	for (ve = t; ve > v && ascii_is_blank(ve[-1]); ve--)
		;
	if (!trusted_end(x, t) && ve == t)
		return;                   /* the cut last item */
	if (ascii_span_is(k, (size_t)(ke - k), "SCL") && !ff->has_scl) {
		ff->has_scl = read_scl(x, v, ve, &ff->scl);
	} else if (ascii_span_is(k, (size_t)(ke - k), "SFV") && !ff->sfv_seen) {
		ff->sfv_seen = true;
		ff->sfv = (enum spam_flag)sfv_class(v, (size_t)(ve - v), &ff->sfv_name);
	} else if (ascii_span_is(k, (size_t)(ke - k), "CAT") && ff->cat[0] == '\0') {
		size_t n = 0;
		for (const char *q = v; q < ve && n + 1 < sizeof(ff->cat) && ascii_is_alpha(*q); q++)
			ff->cat[n++] = (char)(*q >= 'a' ? *q - 'a' + 'A' : *q);
		ff->cat[n] = '\0';
	}
}

static void read_forefront(const struct val *x, struct forefront *ff)
{
	const char *p = x->v;

	while (p < x->e) {
		const char *t = memchr(p, ';', (size_t)(x->e - p));
		if (t == NULL)
			t = x->e;
		forefront_item(x, p, t, ff);
		p = t < x->e ? t + 1 : t;
	}
}

static void read_microsoft(const struct seen *s, struct spam_verdict *out)
{
	struct forefront ff = { 0 };

	if (s->set[K_MS_REPORT])
		read_forefront(&s->val[K_MS_REPORT], &ff);
	if (s->set[K_MS_SCL]) {
		const struct val *x = &s->val[K_MS_SCL];
		out->has_scl = read_scl(x, x->v, x->e, &out->scl);
	}
	if (!out->has_scl && ff.has_scl) {
		out->has_scl = true;
		out->scl = ff.scl;
	}
	if (ff.sfv != SPAM_NONE) {
		out->spam = ff.sfv;
		if (ff.sfv == SPAM_SPAM)
			snprintf(out->why, sizeof(out->why), "SFV:%s%s%s", ff.sfv_name,
			         ff.cat[0] && strcmp(ff.cat, "NONE") != 0 ? " CAT:" : "",
			         ff.cat[0] && strcmp(ff.cat, "NONE") != 0 ? ff.cat : "");
	} else if (out->has_scl) {
		out->spam = out->scl >= 5 ? SPAM_SPAM : SPAM_HAM;
		if (out->spam == SPAM_SPAM)
			snprintf(out->why, sizeof(out->why), "SCL:%d", out->scl);
	}
}

/* --- the API ------------------------------------------------------------------ */

void spam_read(const char *block, size_t len, enum spam_filter from, struct spam_verdict *out)
{
	struct seen s;

	memset(out, 0, sizeof(*out));
	walk(block, len, &s);
	out->filter = deciding_filter(&s, from);
	switch (out->filter) {
	case SPAM_FILTER_SPAMASSASSIN:
		read_spamassassin(&s, out);
		break;
	case SPAM_FILTER_RSPAMD:
		read_rspamd(&s, out);
		break;
	case SPAM_FILTER_MICROSOFT:
		read_microsoft(&s, out);
		break;
	default:
		break;
	}
}

bool spam_score_parse(const char *s, double *out)
{
	struct val x = { s, s ? s + strlen(s) : NULL, false };
	const char *p = s;
	double d;

	if (s == NULL || !read_number(&x, &p, &d) || p != x.e)
		return false;
	*out = d;
	return true;
}
