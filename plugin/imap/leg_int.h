/*
 * leg_int.h - the inside of an IMAP leg, shared by leg.c (the face, imap.h)
 * and plan.c (the order of the tasks) and nobody else.  All memory is the
 * leg's; the tasks' structs live in it.
 */
#ifndef MAIL_E2E_IMAP_LEG_INT_H
#define MAIL_E2E_IMAP_LEG_INT_H

#include "bounce.h"
#include "evidence.h"
#include "expunge.h"
#include "imap.h"
#include "prepare.h"
#include "session.h"
#include "sweep.h"
#include "watch.h"

enum plan_step {
	STEP_CONNECTING, STEP_PREPARING, STEP_SWEEPING, STEP_READY, STEP_WATCHING,
	STEP_EVIDENCE, STEP_CLEANUP, STEP_ENDING,
};

struct imap_leg {
	struct imap_session *s;
	const struct route *route;
	const struct budget *budget;
	enum imap_role role;
	enum plan_step step;
	char token[PROBE_TOKEN_SIZE];   /* "" until imap_watch() */
	uint32_t floor;            /* junk leg: the UIDNEXT the inbox leg noted */
	uint32_t uidnext;          /* only UIDs from here can be the probe */
	bool finishing;            /* imap_finish() came during the sweep */
	int64_t finish_until;
	bool peek_wanted;
	bool found, absent, look_first;
	bool left_mailbox;         /* a sweep selected another mailbox */
	struct prepare prep;
	struct sweep sweep;
	struct expunge expunge;
	struct watch watch;
	struct evidence evidence;
	struct bounce bounce;
	struct watch_check bounce_glue;   /* the watch's check, for the bounce role */
	struct imap_outcome res;
};

/* plan.c, for leg.c */
void plan_on_ready(struct imap_session *s, void *ctx);
void plan_watch(struct imap_leg *l, const char *token);
void plan_finish(struct imap_leg *l, int64_t now, int64_t until);

#endif
