/*
 * probe_int.h - the inside of a probe, shared by probe.c (its life: legs,
 * verdict) and probe_wait.c (what the event loop asks of it) and nobody
 * else.  All memory is the probe's; the route is borrowed.
 */
#ifndef MAIL_E2E_PROBE_INT_H
#define MAIL_E2E_PROBE_INT_H

#include "budget.h"
#include "dnsbl_run.h"
#include "imap/imap.h"
#include "leg_token.h"
#include "probe.h"
#include "probe_id.h"
#include "smtp/smtp.h"

enum stage { ST_IMAP_PREP, ST_SMTP, ST_WATCH, ST_CLEANUP, ST_DONE };

struct probe {
	const struct route *route;
	CURLM *multi;
	enum stage stage;
	bool ready;
	struct budget budget;
	struct probe_result res;
	struct imap_leg *leg[IMAP_ROLES];   /* NULL: not opened (not needed yet, or gave up) */
	int64_t junk_moved_ns;      /* the inbox leg saw the junk mailbox grow */
	uint32_t junk_moved_next;   /* its UIDNEXT then */
	bool junk_opened;           /* a junk leg was tried this cycle */
	int64_t inbox_ready_ns;     /* the inbox was ready, the bounce watch not yet */
	struct smtp_leg *smtp;      /* until its QUIT is over */
	bool smtp_read;             /* its outcome was taken */
	struct leg_token imap_token, smtp_token;   /* OAuth2 tokens on their way */
	char msgid_local[PROBE_ID_LOCAL_MAX];
	char *msg;
	size_t msg_len;
	struct dnsbl_run dnsbl;     /* SPEC §13's lookups, once found; the line waits for them */
};

#define INBOX(p) ((p)->leg[IMAP_ROLE_INBOX])
#define JUNK(p) ((p)->leg[IMAP_ROLE_JUNK])
#define BOUNCE(p) ((p)->leg[IMAP_ROLE_BOUNCE])

/* probe_wait.c, for probe.c: is a found probe's header block on its way;
 * when the deadline's verdict is due (later while a look at news given in
 * time awaits its answer). */
bool probe_any_found(const struct probe *p);
int64_t probe_verdict_due(const struct probe *p);

#endif
