/*
 * evidence.c - see evidence.h.
 */
#include "evidence.h"

#include "clock.h"
#include "dnsbl.h"
#include "headers.h"
#include "spam.h"
#include "log.h"

size_t evidence_whole_fields(const char *block, size_t len)
{
	for (size_t i = len; i-- > 1;)
		if (block[i - 1] == '\n' && block[i] != ' ' && block[i] != '\t')
			return i;
	return 0;
}

static void over(struct evidence *e, struct imap_session *s)
{
	if (!e->pending)
		return;
	e->pending = false;
	session_timer(s, 0, NULL, NULL);
	e->done(e->ctx);
}

void evidence_take(struct imap_evidence *out, struct imap_session *s, const struct imap_fetch *f)
{
	const struct route *r = session_route(s);
	size_t len = f->body_len;

	if (f->body_cut) {
		len = evidence_whole_fields(f->body, len);
		log_debug("%s: the probe's header block passes %d bytes: the %zu bytes of whole fields "
		          "before are read", session_label(s), EVIDENCE_MAX, len);
	}
	auth_results_read(f->body, len, r->auth_results_from, &out->auth);
	received_read(f->body, len, &out->path);
	spam_read(f->body, len, (enum spam_filter)r->spam_filter_from, &out->spam);
	out->dnsbl = dnsbl_pick(f->body, len, r->dnsbl_hop, &out->dnsbl_addr);
	out->read = true;
}

static void on_header(struct imap_session *s, void *ctx, const struct imap_event *ev)
{
	struct evidence *e = ctx;
	const struct imap_fetch *f = &ev->fetch;

	if (ev->kind == IMAP_EV_FETCH && f->has_body && (!f->has_uid || f->uid == e->uid))
		evidence_take(e->out, s, f);
}

static void after_fetch(struct imap_session *s, void *ctx, const struct imap_reply *r)
{
	struct evidence *e = ctx;

	if (r->status != IMAP_ST_OK || !e->out->read)
		log_warn("%s: the probe's headers could not be read: %s", session_label(s),
		         r->status == IMAP_ST_OK ? "no header block in the reply" : r->text);
	over(e, s);
}

static void too_late(struct imap_session *s, void *ctx, int64_t now)
{
	struct evidence *e = ctx;

	log_warn("%s: the server did not send the probe's headers within %.1fs: reported without them",
	         session_label(s), (double)(now - e->started_ns) / NS_PER_S);
	over(e, s);
}

static const struct session_handler fetch_handler = {
	.on_event = on_header, .on_done = after_fetch, .keep_whole = EVIDENCE_MAX,
};

void evidence_start(struct evidence *e, struct imap_session *s, uint32_t uid, int64_t now,
                    int64_t by)
{
	e->uid = uid;
	e->pending = true;
	e->started_ns = now;
	session_timer(s, by, too_late, e);
	session_cmd(s, &fetch_handler, e, "UID FETCH %u (BODY.PEEK[HEADER])", uid);
}
