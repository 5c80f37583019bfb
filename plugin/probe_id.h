/*
 * probe_id.h - probe tokens this program can prove it made, and the
 * per-route memory that lives as long as the process (issue 5).
 *
 * A token is 128 bits in hex (SPEC §6) but not a bare random number: it is
 * HMAC-SHA256(route key, "mail-e2e-probe/v1/<stamp>/<nonce>") cut to 128
 * bits, where <stamp> is the send time (Unix seconds) and <nonce> 64 random
 * bits.  Stamp and nonce travel in the Message-ID,
 * "<stamp.nonce.mail-e2e@domain>".  Anyone can copy an X-Mail-E2E-Probe
 * header, but only the holder of the route key can make a token that
 * matches a Message-ID, so only our own probes are ever swept.
 *
 * The route key is HMAC-SHA256(secret, "mail-e2e-route-key/v1" NUL route NUL
 * imap_username NUL to): another route, another account or another secret
 * gives another key.  The secret is the route's IMAP password, else its
 * SMTP password; a route that logs in with OAuth2 tokens only has none and
 * gets a key from its identity alone (README says so).  Changing the
 * secret orphans older probes, which are then left alone.
 *
 * Contract:
 *  - struct probe_ledger is owned by its struct route (config.c allocates
 *    and frees it); the key is wiped by probe_ledger_free().
 *  - probe_id_mint() returns 0, or -1 when the kernel has no randomness.
 *  - probe_id_verify() is pure; message_id is the header value as found
 *    (angle brackets and surrounding blanks allowed).
 *  - The found/counted rings forget the oldest entry when full: they only
 *    make cleanup quicker, never decide what counts as a delivery.
 */
#ifndef MAIL_E2E_PROBE_ID_H
#define MAIL_E2E_PROBE_ID_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* The one size of a probe token: 128 bits as lower-case hex (SPEC §6). */
#define PROBE_TOKEN_HEX 32
#define PROBE_TOKEN_SIZE (PROBE_TOKEN_HEX + 1)   /* a token and its NUL */
/* A buffer for a value read from a message where a token is expected
 * (X-Mail-E2E-Probe): room for more than a token, a 4-byte UTF-8
 * character included, so a longer value stays longer (and fails
 * probe_id_verify()) instead of being cut to a token's length. */
#define PROBE_TOKEN_READ_SIZE (PROBE_TOKEN_HEX + 8)
#define PROBE_ID_LOCAL_MAX 64     /* "stamp.nonce.mail-e2e" + NUL */
#define LEDGER_FOUND 16
#define LEDGER_COUNTED 64
#define LEDGER_FOREIGN 256
#define LEDGER_DELIVERIES 8

struct probe_ledger {
	unsigned char key[32];
	char found[LEDGER_FOUND][PROBE_TOKEN_SIZE];     /* tokens found in time */
	unsigned found_next;
	char counted[LEDGER_COUNTED][PROBE_TOKEN_SIZE]; /* late ones counted */
	unsigned counted_next;
	/* What the sweeps learnt about each mailbox (sweep.c; by enum
	 * sweep_box: inbox, junk, Gmail's All Mail, the bounce mailbox). */
	struct sweep_memory {
		uint32_t validity;     /* the UIDVALIDITY the rest is about */
		uint32_t cursor;       /* the window: last UID examined, 0: from the start */
		uint32_t clean_next;   /* every UID below was looked at by a whole sweep or was a
		                          probe of ours found and deleted; 0: not known */
		int64_t due_at;        /* Unix s when a probe of ours left below it is due, 0: none */
	} sweep[4];
	/* The special-use mailboxes LIST named (prepare.c), so it is asked once
	 * per process, not every cycle. */
	struct imap_names {
		bool listed;
		char junk[256], trash[256], allmail[256];
	} names;
	/* Recent delivery times (ns from SMTP acceptance), for a watch that
	 * looks densely when the probe is due (watch.c): each one as the
	 * interval it is known to lie in, from the last look that did not see
	 * the probe (delivered_after_ns) to the one that did (delivered_ns). */
	int64_t delivered_after_ns[LEDGER_DELIVERIES];
	int64_t delivered_ns[LEDGER_DELIVERIES];
	unsigned delivered_next, n_delivered;
	int late_pending;          /* late arrivals counted after their cycle's line was out */
	/* The bounce mailbox: reports proved not this route's, by UID, so they
	 * are never fetched again (forgotten when its UIDVALIDITY changes). */
	uint32_t foreign[LEDGER_FOREIGN];
	unsigned foreign_next, n_foreign;
	uint32_t foreign_validity;
};

struct probe_ledger *probe_ledger_new(const char *secret, const char *route_name,
                                      const char *imap_username, const char *to);
void probe_ledger_free(struct probe_ledger *l);

int probe_id_mint(const struct probe_ledger *l, time_t now,
                  char token[PROBE_TOKEN_SIZE], char local[PROBE_ID_LOCAL_MAX]);
bool probe_id_verify(const struct probe_ledger *l, const char *token,
                     const char *message_id, int64_t *stamp);

void ledger_note_found(struct probe_ledger *l, const char *token);
bool ledger_was_found(const struct probe_ledger *l, const char *token);
void ledger_note_counted(struct probe_ledger *l, const char *token);
bool ledger_was_counted(const struct probe_ledger *l, const char *token);
void ledger_note_delivery(struct probe_ledger *l, int64_t after_ns, int64_t by_ns);
void ledger_note_foreign(struct probe_ledger *l, uint32_t uidvalidity, uint32_t uid);
bool ledger_is_foreign(const struct probe_ledger *l, uint32_t uidvalidity, uint32_t uid);

#endif
