/*
 * evidence.c - what the found probe carries (SPEC §7; see imap_session.h):
 *
 *   UID FETCH <uid> (BODY.PEEK[HEADER])
 *
 * once, right after the probe is seen and before it is deleted.  The
 * header block is read into a buffer of its own (EVIDENCE_MAX bytes; the
 * reader keeps its line ends there) and handed to headers.c: the
 * Authentication-Results verdicts and the Received path.  Evidence never
 * changes whether the probe was found: a refused or slow FETCH costs a
 * warning and the line goes out without it (after EVIDENCE_WAIT_NS at most).
 */
#include "clock.h"
#include "headers.h"
#include "imap_session.h"
#include "log.h"

#define EVIDENCE_MAX (64 * 1024)       /* Gmail's headers are ~10 KiB */
#define EVIDENCE_WAIT_NS (2 * NS_PER_S)

static void evidence_over(struct imap_session *s)
{
	session_keep_whole_done(s);
	s->evidence_pending = false;
}

void evidence_start(struct imap_session *s, int64_t now)
{
	if (!session_keep_whole(s, EVIDENCE_MAX)) {
		log_warn("%s: no memory to read the probe's headers", s->watch.label);
		found_cleanup(s);
		return;
	}
	s->evidence_pending = true;
	s->evidence_by_ns = session_cleanup_bound(s, now, now + EVIDENCE_WAIT_NS);
	session_send(s, PH_EVIDENCE, "FETCH", "UID FETCH %u (BODY.PEEK[HEADER])", s->res.found_uid);
}

void evidence_on_untagged(struct imap_session *s, const char *text, bool truncated)
{
	uint32_t uid;
	const char *block;
	size_t len;

	if (!s->evidence_pending || !imap_parse_fetch_header(text, &uid, &block, &len) ||
	    uid != s->res.found_uid)
		return;
	if (truncated)
		log_debug("%s: the probe's header block passes %d bytes: only those are read",
		          s->watch.label, EVIDENCE_MAX);
	auth_results_read(block, len, s->route->auth_results_from, &s->res.ev.auth);
	received_read(block, len, &s->res.ev.path);
	s->res.ev.read = true;
}

void evidence_on_tagged(struct imap_session *s, const struct imap_response *r)
{
	if (r->status != IMAP_ST_OK || !s->res.ev.read)
		log_warn("%s: the probe's headers could not be read: %s", s->watch.label,
		         r->status == IMAP_ST_OK ? "no header block in the reply" : r->rest);
	evidence_over(s);
	found_cleanup(s);
}

void evidence_timer(struct imap_session *s, int64_t now)
{
	if (!s->evidence_pending || now < s->evidence_by_ns)
		return;
	log_warn("%s: the server did not send the probe's headers within %.1fs: reported without them",
	         s->watch.label, (double)EVIDENCE_WAIT_NS / NS_PER_S);
	evidence_over(s);
	found_cleanup(s);
}

int64_t evidence_next_timer(const struct imap_session *s)
{
	return s->evidence_pending ? s->evidence_by_ns : 0;
}
