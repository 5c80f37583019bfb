/*
 * test_spam.c - table-driven tests of the spam-verdict reader
 * (plugin/spam.c): SpamAssassin, amavis, rspamd and Microsoft 365 headers
 * taken from real messages (each sample says where its form comes from),
 * the topmost deciding, spam_filter_from, folds, cut blocks, garbage, and
 * max_spam_score.  Linked alone with mail_header.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spam.h"
#include "unit.h"

#define SA SPAM_FILTER_SPAMASSASSIN
#define RS SPAM_FILTER_RSPAMD
#define MS SPAM_FILTER_MICROSOFT
#define NO SPAM_FILTER_NONE
#define ANY SPAM_FILTER_ANY
#define U (-1000.0)          /* "absent" in the tables */

/* --- real header blocks ---------------------------------------------------- */

/* SpamAssassin 3.4.6 on bendel.debian.org, a lists.debian.org message as
 * archived by lfdr.de (2024-10-15): SpamAssassin's default add_header lines
 * (Mail::SpamAssassin::Conf: "Status _YESNO_, score=_SCORE_ required=_REQD_
 * tests=_TESTS_ autolearn=_AUTOLEARN_ version=_VERSION_"), folded; amavis'
 * own X-Amavis-Spam-Status below, a name no rule reads. */
#define SA_DEBIAN \
	"Received: from bendel.debian.org (bendel.debian.org [82.195.75.100])\r\n" \
	"\tby mail.lfdr.de (Postfix) with ESMTPS id E9E3899F2A3\r\n" \
	"\tfor <lists+nbd@lfdr.de>; Tue, 15 Oct 2024 18:24:11 +0200 (CEST)\r\n" \
	"X-Spam-Checker-Version: SpamAssassin 3.4.6 (2021-04-09) on bendel.debian.org\r\n" \
	"X-Spam-Level: ***\r\n" \
	"X-Spam-Status: No, score=3.3 required=4.0 tests=DKIMWL_WL_HIGH,DKIM_SIGNED,\r\n" \
	"\tDKIM_VALID,DKIM_VALID_AU,DKIM_VALID_EF,FOURLA,RCVD_IN_DNSWL_NONE,\r\n" \
	"\tRCVD_IN_MSPIKE_H3,RCVD_IN_MSPIKE_WL,RCVD_IN_SBL_CSS autolearn=no\r\n" \
	"\tautolearn_force=no version=3.4.6\r\n" \
	"X-Virus-Scanned: at lists.debian.org with policy bank en-lt\r\n" \
	"X-Amavis-Spam-Status: No, score=1.084 tagged_above=-10000 required=5.3\r\n" \
	"\ttests=[BAYES_00=-2, DKIMWL_WL_HIGH=-0.153, DKIM_SIGNED=0.1]\r\n" \
	"\tautolearn=no autolearn_force=no\r\n" \
	"Subject: Re: Kernel NBD client waits on wrong cookie\r\n"

/* SpamAssassin 3.4.6 on lindbergh.monkeyblade.net (vger.kernel.org's
 * filter) passing a scam as spam at exactly its threshold (2023-01-10). */
#define SA_SPAM_VGER \
	"Subject: REPLY FOR DETAILS.\r\n" \
	"X-Spam-Status: Yes, score=5.0 required=5.0 tests=BAYES_50,DKIM_SIGNED,\r\n" \
	"        DKIM_VALID,DKIM_VALID_AU,DKIM_VALID_EF,FREEMAIL_FROM,FREEMAIL_REPLYTO,\r\n" \
	"        FREEMAIL_REPLYTO_END_DIGIT,RCVD_IN_DNSWL_NONE,SPF_HELO_NONE,SPF_PASS,\r\n" \
	"        SUBJ_ALL_CAPS,UNDISC_FREEM autolearn=no autolearn_force=no\r\n" \
	"        version=3.4.6\r\n" \
	"X-Spam-Report: * -0.0 RCVD_IN_DNSWL_NONE RBL: Sender listed at\r\n" \
	"        *      https://www.dnswl.org/, no trust\r\n"

/* SpamAssassin's defaults for a spam (Mail::SpamAssassin::Conf, add_header:
 * "spam Flag _YESNOCAPS_", "all Status ...", "all Level _STARS(*)_",
 * "all Checker-Version ..."), as spamc writes them at the top. */
#define SA_DEFAULT_SPAM \
	"X-Spam-Flag: YES\r\n" \
	"X-Spam-Checker-Version: SpamAssassin 4.0.0 (2022-12-13) on mx.example.test\r\n" \
	"X-Spam-Level: ******\r\n" \
	"X-Spam-Status: Yes, score=6.2 required=5.0 tests=BAYES_99,URIBL_BLOCKED\r\n" \
	"\tautolearn=no autolearn_force=no version=4.0.0\r\n" \
	"Received: from a.example.test (a.example.test [192.0.2.1])\r\n" \
	"\tby mx.example.test (Postfix) with ESMTPS id 4Q; Tue, 1 Dec 2026 21:00:00 +0000\r\n"

/* amavisd-new at hyena.aluminati.org (a git@vger message, 2014-03-08):
 * amavis' group, X-Spam-Score included, required= is its tag2_level. */
#define AMAVIS_2014 \
	"X-Quarantine-ID: <OWq7VHtyZuJm>\r\n" \
	"X-Virus-Scanned: Debian amavisd-new at hyena.aluminati.org\r\n" \
	"X-Spam-Flag: NO\r\n" \
	"X-Spam-Score: -1\r\n" \
	"X-Spam-Level: \r\n" \
	"X-Spam-Status: No, score=-1 tagged_above=-9999 required=6.31\r\n" \
	"\ttests=[ALL_TRUSTED=-1] autolearn=disabled\r\n" \
	"Received: from hyena.aluminati.org ([127.0.0.1])\r\n" \
	"\tby localhost (hyena.aluminati.org [127.0.0.1]) (amavisd-new, port 10024)\r\n" \
	"\twith ESMTP id OWq7VHtyZuJm; Sat,  8 Mar 2014 18:35:11 +0000 (GMT)\r\n"

/* amavisd-new at uni-wuerzburg.de (a git@vger message, 2006-01-10): the
 * old "hits=" form. */
#define AMAVIS_2006 \
	"X-Virus-Scanned: by amavisd-new at uni-wuerzburg.de\r\n" \
	"X-Spam-Status: No, hits=0.0 tagged_above=0.0 required=8.0 tests=\r\n" \
	"X-Spam-Level: \r\n"

/* amavisd-new at lrz.de (2020-10-22), a long folded test list. */
#define AMAVIS_LRZ \
	"X-Virus-Scanned: by amavisd-new at lrz.de in lxmhs52.srv.lrz.de\n" \
	"X-Spam-Flag: NO\n" \
	"X-Spam-Score: -2.877\n" \
	"X-Spam-Level: \n" \
	"X-Spam-Status: No, score=-2.877 tagged_above=-999 required=5\n" \
	"\ttests=[ALL_TRUSTED=-1, BAYES_00=-1.9, DMARC_ADKIM_RELAXED=0.001,\n" \
	"\tLRZ_DMARC_TUM_REJECT=3.5, LRZ_DMARC_TUM_REJECT_PO=-3.5]\n" \
	"\tautolearn=no autolearn_force=no\n"

/* Exim's sample spam ACL (spec, "Content scanning") and the nongnu.org list
 * server write X-Spam_score with an underscore: not SpamAssassin's header
 * name, so nothing is read (qemu-devel, 2024-05-29). */
#define EXIM_UNDERSCORE \
	"X-Spam_score_int: -18\r\n" \
	"X-Spam_score: -1.9\r\n" \
	"X-Spam_bar: -\r\n" \
	"X-Spam_report: (-1.9 / 5.0 requ) BAYES_00=-1.9, SPF_HELO_NONE=0.001,\r\n" \
	" SPF_PASS=-0.001, T_SCC_BODY_TEXT_LINE=-0.01 autolearn=ham autolearn_force=no\r\n" \
	"X-Spam_action: no action\r\n"

/* MIMEDefang's SpamAssassin glue as published ("Adding Standard SpamAssasin
 * Headers with MIMEDefang", 2019): "X-Spam-Score: 6.8 (******) NAMES". */
#define MIMEDEFANG \
	"X-Spam-Score: 6.8 (******) BAYES_99,URIBL_BLACK\r\n" \
	"X-Spam-Level: ******\r\n" \
	"X-Spam-Flag: YES\r\n"

/* rspamd's milter headers as lfdr.de's rspamd appends them at the bottom
 * (live-patching@vger, 2026): X-Spamd-Result "default: False [S / R]" with
 * the symbols on folded lines (milter_headers.lua, x-spamd-result). */
#define RSPAMD_MILTER \
	"Subject: Re: [PATCH] livepatch\r\n" \
	"In-Reply-To: <177703167198.234971.16690298062704654470.b4-review@b4>\r\n" \
	"X-Rspamd-Queue-Id: 222FC4882F0\r\n" \
	"X-Rspamd-Action: no action\r\n" \
	"X-Rspamd-Server: lfdr\r\n" \
	"X-Spamd-Result: default: False [-1.66 / 15.00];\r\n" \
	"\tARC_ALLOW(-1.00)[subspace.kernel.org:s=arc-20240116:i=1];\r\n" \
	"\tMID_RHS_NOT_FQDN(0.50)[];\r\n" \
	"\tR_SPF_ALLOW(-0.20)[+ip4:172.232.135.74:c];\r\n" \
	"\tRCVD_COUNT_THREE(0.00)[4]\r\n"

/* A delivered rspamd spam (the issue's measured fact: rspamd's milter
 * writes True only for its reject action; "add header" gives False with
 * X-Spam: Yes, all appended at the bottom). */
#define RSPAMD_ADD_HEADER \
	"Received: from a.example.test (a.example.test [192.0.2.1])\r\n" \
	"\tby mx.example.test (Postfix) with ESMTP id 4Q; Tue, 1 Dec 2026 21:00:00 +0000\r\n" \
	"Subject: probe\r\n" \
	"X-Spamd-Result: default: False [7.20 / 15.00];\r\n" \
	"\tGTUBE(7.00)[];\r\n" \
	"\tMIME_GOOD(-0.10)[text/plain]\r\n" \
	"X-Rspamd-Server: mx\r\n" \
	"X-Rspamd-Queue-Id: 4Q\r\n" \
	"X-Spamd-Bar: +++++++\r\n" \
	"X-Spam: Yes\r\n"

/* SUSE's rspamd (imap1.dmz-prg2.suse.org, LTP list, 2024-12-20) writes an
 * X-Spam-Score in its own group: rspamd's, not SpamAssassin's. */
#define RSPAMD_SUSE \
	"In-Reply-To: <Z2Q2B07ID-SQGx-s@yuki.lan>\n" \
	"X-Rspamd-Queue-Id: C90E521119\n" \
	"X-Spam-Score: -3.71\n" \
	"X-Rspamd-Action: no action\n" \
	"X-Spamd-Result: default: False [-3.71 / 50.00]; BAYES_HAM(-3.00)[100.00%];\n" \
	" NEURAL_HAM_LONG(-1.00)[-1.000]; MID_RHS_NOT_FQDN(0.50)[];\n" \
	" ARC_NA(0.00)[]\n"

/* SUSE's smtp-out2.suse.de (xen-devel, 2023-11-27): X-Spam-Flag and
 * X-Spam-Score first in the same rspamd group. */
#define RSPAMD_SUSE_DE \
	"Authentication-Results: smtp-out2.suse.de;\r\n\tnone\r\n" \
	"X-Spam-Level: ***\r\n" \
	"X-Spam-Flag: NO\r\n" \
	"X-Spam-Score: 3.76\r\n" \
	"X-Spamd-Result: default: False [3.76 / 50.00];\r\n" \
	"\t ARC_NA(0.00)[];\r\n" \
	"\t BAYES_SPAM(0.06)[57.24%];\r\n"

/* Haraka + rspamd at uberspace.de on the sender's side, then SpamAssassin
 * at vger's lindbergh.monkeyblade.net below (netdev, 2022-08-31): the
 * topmost is rspamd's X-Rspamd-Score. */
#define UBERSPACE_AND_SA \
	"X-Mailer: git-send-email 2.37.3\r\n" \
	"X-Rspamd-Bar: /\r\n" \
	"X-Rspamd-Report: R_MISSING_CHARSET(0.5) MIME_GOOD(-0.1) MID_CONTAINS_FROM(1) BAYES_HAM(-0.616589)\r\n" \
	"X-Rspamd-Score: 0.78341\r\n" \
	"Received: from unknown (HELO unkown) (::1)\r\n" \
	"        by giacobini.uberspace.de (Haraka/2.8.28) with ESMTPSA; Wed, 31 Aug 2022 15:23:14 +0200\r\n" \
	"X-Spam-Status: No, score=-1.9 required=5.0 tests=BAYES_00,\r\n" \
	"        MSGID_FROM_MTA_HEADER,RCVD_IN_DNSWL_NONE,SPF_HELO_NONE,SPF_PASS,\r\n" \
	"        T_SCC_BODY_TEXT_LINE autolearn=ham autolearn_force=no version=3.4.6\r\n" \
	"X-Spam-Checker-Version: SpamAssassin 3.4.6 (2021-04-09) on\r\n" \
	"        lindbergh.monkeyblade.net\r\n"

/* mailbox.org's rspamd (netdev, 2020-11-30): "S / R / R". */
#define RSPAMD_MBO \
	"X-MBO-SPAM-Probability: ****\r\n" \
	"X-Rspamd-Score: 5.89 / 15.00 / 15.00\r\n" \
	"X-Rspamd-Queue-Id: 868CC1825\r\n" \
	"X-Rspamd-UID: 0e84b7\r\n"

/* rspamc --mime (src/client/rspamc.cxx, rspamc_mime_output): appended
 * after the original headers, X-Spam: yes only for spam actions. */
#define RSPAMC_SPAM \
	"Subject: probe\r\n" \
	"X-Spam-Scanner: rspamc 3.4\r\n" \
	"X-Spam-Scan-Time: 0.012\r\n" \
	"X-Spam: yes\r\n" \
	"X-Spam-Action: add header\r\n" \
	"X-Spam-Score: 7.60 / 15.00\r\n" \
	"X-Spam-Level: *******\r\n" \
	"X-Spam-Symbols: GTUBE,MIME_GOOD\r\n"
#define RSPAMC_HAM \
	"Subject: probe\r\n" \
	"X-Spam-Scanner: rspamc 3.4\r\n" \
	"X-Spam-Scan-Time: 0.010\r\n" \
	"X-Spam-Action: no action\r\n" \
	"X-Spam-Score: 1.20 / 15.00\r\n" \
	"X-Spam-Level: *\r\n" \
	"X-Spam-Symbols: MIME_GOOD\r\n"

/* Microsoft 365 inbound spam, as published on wiki.niziak.spox.org
 * ("office_spam", 2023): SCL:5, SFV:SPM, CAT:SPM, DIR:INB. */
#define M365_SPAM \
	"X-MS-Exchange-Organization-SCL: 5\r\n" \
	"X-Forefront-Antispam-Report: CIP:77.55.0.0;CTRY:PL;LANG:en;SCL:5;SRV:;IPV:NLI;SFV:SPM;" \
	"H:mail.example.com;PTR:mail.example.com;CAT:SPM;SFS:(13230025)(4636009)(451199018);DIR:INB;\r\n" \
	"X-Microsoft-Antispam: BCL:0;\r\n"

/* Microsoft 365 (namprd12, a netdev message, 2021): folded, with blanks
 * after each ';'. */
#define M365_FOLDED \
	"X-Microsoft-Antispam: BCL:0;\r\n" \
	"X-Forefront-Antispam-Report: CIP:255.255.255.255; CTRY:; LANG:en; SCL:1; SRV:;\r\n" \
	" IPV:NLI; SFV:NSPM; H:DM6PR12MB3930.namprd12.prod.outlook.com; PTR:; CAT:NONE;\r\n" \
	" SFS:(4636009)(366004)(31696002); DIR:OUT; SFP:1101; \r\n" \
	"X-MS-Exchange-AntiSpam-MessageData-ChunkCount: 1\r\n"

/* Microsoft 365 at amd.com (xen-devel, 2024-01-18): the value starts on a
 * continuation line; IPV:CAL. */
#define M365_AMD \
	"X-Microsoft-Antispam: BCL:0;\r\n" \
	"X-Forefront-Antispam-Report:\r\n" \
	"\tCIP:165.204.84.17;CTRY:US;LANG:en;SCL:1;SRV:;IPV:CAL;SFV:NSPM;H:SATLEXMB04.amd.com;" \
	"PTR:InfoDomainNonexistent;CAT:NONE;SFS:(13230031)(4636009)(376002);DIR:OUT;SFP:1101;\r\n" \
	"X-OriginatorOrg: amd.com\r\n"

/* Lower-case names as Outlook's own copies carry them (a 2024 message). */
#define M365_LOWER \
	"x-microsoft-antispam: BCL:0;ARA:13230040|366016\r\n" \
	"x-forefront-antispam-report: CIP:255.255.255.255;CTRY:;LANG:en;SCL:1;SRV:;IPV:NLI;" \
	"SFV:NSPM;H:DM3PR84MB3444.NAMPRD84.PROD.OUTLOOK.COM;PTR:;CAT:NONE;DIR:OUT;SFP:1101\r\n"

/* Kaspersky Secure Mail Gateway in front of Exchange (sberdevices.ru,
 * 2023) stamps X-MS-Exchange-Organization-SCL: -1; vger's SpamAssassin
 * below. */
#define KSMG_AND_SA \
	"X-KSMG-AntiSpam-Status: not_detected\r\n" \
	"X-MS-Exchange-Organization-SCL: -1\r\n" \
	"X-KSMG-AntiSpam-Interceptor-Info: scan successful\r\n" \
	"X-Spam-Status: No, score=-1.7 required=5.0 tests=BAYES_00,DKIM_SIGNED,\r\n" \
	"        DKIM_VALID,DKIM_VALID_AU,HEADER_FROM_DIFFERENT_DOMAINS autolearn=no\r\n" \
	"        autolearn_force=no version=3.4.6\r\n" \
	"X-Spam-Checker-Version: SpamAssassin 3.4.6 (2021-04-09) on\r\n" \
	"        lindbergh.monkeyblade.net\r\n"

/* Forefront report with a given SFV and SCL (field order as Microsoft's
 * "Anti-spam message headers" page shows it). */
#define FF(scl, sfv) "X-Forefront-Antispam-Report: CIP:192.0.2.1;CTRY:US;LANG:en;SCL:" scl \
	";SRV:;IPV:NLI;SFV:" sfv ";H:a.example.test;PTR:a.example.test;CAT:NONE;DIR:INB;\r\n"

/* --- spam_read ---------------------------------------------------------------- */

static const struct read_case {
	const char *name, *block;
	enum spam_filter from;
	enum spam_filter filter;
	double score, threshold;   /* U: absent */
	enum spam_flag spam;
	int scl;                   /* -100: absent */
	const char *why;
} reads[] = {
	/* SpamAssassin and amavis */
	{ "SA debian ham", SA_DEBIAN, ANY, SA, 3.3, 4.0, SPAM_HAM, -100, "" },
	{ "SA vger spam at threshold", SA_SPAM_VGER, ANY, SA, 5.0, 5.0, SPAM_SPAM, -100, "X-Spam-Status: Yes" },
	{ "SA defaults spam", SA_DEFAULT_SPAM, ANY, SA, 6.2, 5.0, SPAM_SPAM, -100, "X-Spam-Status: Yes" },
	{ "amavis 2014", AMAVIS_2014, ANY, SA, -1, 6.31, SPAM_HAM, -100, "" },
	{ "amavis 2006 hits=", AMAVIS_2006, ANY, SA, 0, 8.0, SPAM_HAM, -100, "" },
	{ "amavis lrz LF", AMAVIS_LRZ, ANY, SA, -2.877, 5, SPAM_HAM, -100, "" },
	{ "Exim X-Spam_score not read", EXIM_UNDERSCORE, ANY, NO, U, U, SPAM_NONE, -100, "" },
	{ "MIMEDefang score and flag", MIMEDEFANG, ANY, SA, 6.8, U, SPAM_SPAM, -100, "X-Spam-Flag: YES" },
	{ "status without score: X-Spam-Score", "X-Spam-Status: No\r\nX-Spam-Score: 2.5\r\n\r\n",
	  ANY, SA, 2.5, U, SPAM_HAM, -100, "" },
	{ "status score wins over X-Spam-Score", "X-Spam-Score: 9\r\nX-Spam-Status: No, score=2.5\r\n\r\n",
	  ANY, SA, 2.5, U, SPAM_HAM, -100, "" },
	{ "X-Spam-Flag NO alone is no verdict", "X-Spam-Flag: NO\r\n\r\n", ANY, NO, U, U, SPAM_NONE, -100, "" },
	{ "X-Spam-Flag NO with a score", "X-Spam-Score: 1.5\r\nX-Spam-Flag: NO\r\n\r\n", ANY, SA, 1.5, U, SPAM_HAM, -100, "" },
	{ "status Yes beats flag NO", "X-Spam-Flag: NO\r\nX-Spam-Status: Yes, score=9.1 required=5.0\r\n\r\n",
	  ANY, SA, 9.1, 5.0, SPAM_SPAM, -100, "X-Spam-Status: Yes" },
	{ "required before score", "X-Spam-Status: NO, required=5.0 score=7.0 tests=A\r\n\r\n",
	  ANY, SA, 7.0, 5.0, SPAM_HAM, -100, "" },
	{ "tagged_above is not required", "X-Spam-Status: No, score=1 tagged_above=-999\r\n\r\n",
	  ANY, SA, 1, U, SPAM_HAM, -100, "" },
	{ "a rule named SCORE= is not the score",
	  "X-Spam-Status: No, tests=[SCORE=9.9, score_x=3] score=1.5 required=5\r\n\r\n",
	  ANY, SA, 1.5, 5, SPAM_HAM, -100, "" },
	{ "rspamd's x-spam-status routine reads as SpamAssassin", "X-Spam-Status: Yes, score=7.50\r\n\r\n",
	  ANY, SA, 7.5, U, SPAM_SPAM, -100, "X-Spam-Status: Yes" },

	/* rspamd */
	{ "rspamd milter ham", RSPAMD_MILTER, ANY, RS, -1.66, 15, SPAM_HAM, -100, "" },
	{ "rspamd add header: False + X-Spam: Yes", RSPAMD_ADD_HEADER, ANY, RS, 7.2, 15, SPAM_SPAM, -100, "X-Spam: Yes" },
	{ "rspamd reject: True", "X-Spamd-Result: default: True [16.10 / 15.00]; GTUBE(15.00)[]\r\n\r\n",
	  ANY, RS, 16.1, 15, SPAM_SPAM, -100, "X-Spamd-Result: True" },
	{ "SUSE X-Spam-Score is rspamd's", RSPAMD_SUSE, ANY, RS, -3.71, 50, SPAM_HAM, -100, "" },
	{ "SUSE group with flag and score", RSPAMD_SUSE_DE, ANY, RS, 3.76, 50, SPAM_HAM, -100, "" },
	{ "SUSE group not SpamAssassin", RSPAMD_SUSE_DE, SA, NO, U, U, SPAM_NONE, -100, "" },
	{ "uberspace rspamd on top", UBERSPACE_AND_SA, ANY, RS, 0.78341, U, SPAM_HAM, -100, "" },
	{ "uberspace: spamassassin only", UBERSPACE_AND_SA, SA, SA, -1.9, 5.0, SPAM_HAM, -100, "" },
	{ "uberspace: microsoft only", UBERSPACE_AND_SA, MS, NO, U, U, SPAM_NONE, -100, "" },
	{ "mailbox.org S / R / R", RSPAMD_MBO, ANY, RS, 5.89, U, SPAM_HAM, -100, "" },
	{ "rspamc --mime spam", RSPAMC_SPAM, ANY, RS, 7.6, 15, SPAM_SPAM, -100, "X-Spam: Yes" },
	{ "rspamc --mime ham", RSPAMC_HAM, ANY, RS, 1.2, 15, SPAM_HAM, -100, "" },
	{ "X-Spam: Yes far from X-Spamd-Result",
	  "X-Spam: Yes\r\nSubject: s\r\nX-Spamd-Result: default: False [1.00 / 15.00]\r\n\r\n",
	  ANY, RS, 1, 15, SPAM_SPAM, -100, "X-Spam: Yes" },
	{ "X-Spam: Yes alone decides nothing", "X-Spam: Yes\r\n\r\n", ANY, NO, U, U, SPAM_NONE, -100, "" },
	{ "X-Spam: No stays ham", "X-Spamd-Result: default: False [1.00 / 15.00]\r\nX-Spam: No\r\n\r\n",
	  ANY, RS, 1, 15, SPAM_HAM, -100, "" },
	{ "X-Spamd-Result score wins over X-Rspamd-Score",
	  "X-Rspamd-Score: 9\r\nX-Spamd-Result: default: False [2.00 / 15.00]\r\n\r\n", ANY, RS, 2, 15, SPAM_HAM, -100, "" },
	{ "rspamd without a readable word or number", "X-Spamd-Result: what\r\n\r\n", ANY, RS, U, U, SPAM_NONE, -100, "" },
	{ "rspamd False with a bad score", "X-Spamd-Result: default: False [nan / 15.00]\r\n\r\n",
	  ANY, RS, U, U, SPAM_HAM, -100, "" },
	{ "rspamd Maybe: X-Rspamd-Score", "X-Spamd-Result: default: Maybe [1 / 2]\r\nX-Rspamd-Score: 3.5\r\n\r\n",
	  ANY, RS, 3.5, U, SPAM_HAM, -100, "" },
	{ "rspamd metric without colon", "X-Spamd-Result: default False [1 / 2]\r\n\r\n", ANY, RS, U, U, SPAM_NONE, -100, "" },
	{ "rspamd threshold missing", "X-Spamd-Result: default: False [1.50]\r\n\r\n", ANY, RS, 1.5, U, SPAM_HAM, -100, "" },

	/* Microsoft 365 */
	{ "M365 spam", M365_SPAM, ANY, MS, U, U, SPAM_SPAM, 5, "SFV:SPM CAT:SPM" },
	{ "M365 folded ham", M365_FOLDED, ANY, MS, U, U, SPAM_HAM, 1, "" },
	{ "M365 value on a continuation line", M365_AMD, ANY, MS, U, U, SPAM_HAM, 1, "" },
	{ "M365 lower-case names", M365_LOWER, ANY, MS, U, U, SPAM_HAM, 1, "" },
	{ "KSMG SCL -1 on top", KSMG_AND_SA, ANY, MS, U, U, SPAM_HAM, -1, "" },
	{ "KSMG: spamassassin only", KSMG_AND_SA, SA, SA, -1.7, 5.0, SPAM_HAM, -100, "" },
	{ "SFV:SKS", FF("1", "SKS"), ANY, MS, U, U, SPAM_SPAM, 1, "SFV:SKS" },
	{ "SFV:SKB", FF("-1", "SKB"), ANY, MS, U, U, SPAM_SPAM, -1, "SFV:SKB" },
	{ "SFV:BLK", FF("9", "BLK"), ANY, MS, U, U, SPAM_SPAM, 9, "SFV:BLK" },
	{ "SFV:SFE", FF("-1", "SFE"), ANY, MS, U, U, SPAM_HAM, -1, "" },
	{ "SFV:SKA", FF("-1", "SKA"), ANY, MS, U, U, SPAM_HAM, -1, "" },
	{ "SFV:SKN even at SCL 9", FF("9", "SKN"), ANY, MS, U, U, SPAM_HAM, 9, "" },
	{ "SFV:SKI", FF("-1", "SKI"), ANY, MS, U, U, SPAM_HAM, -1, "" },
	{ "SFV:NSPM", FF("0", "NSPM"), ANY, MS, U, U, SPAM_HAM, 0, "" },
	{ "SFV lower case", FF("6", "spm"), ANY, MS, U, U, SPAM_SPAM, 6, "SFV:SPM" },
	{ "unknown SFV: SCL 5 decides", FF("5", "SKQ"), ANY, MS, U, U, SPAM_SPAM, 5, "SCL:5" },
	{ "unknown SFV: SCL 4 decides", FF("4", "XYZ"), ANY, MS, U, U, SPAM_HAM, 4, "" },
	{ "no SFV, SCL 6", "X-Forefront-Antispam-Report: CIP:192.0.2.1;SCL:6;CAT:NONE;\r\n\r\n",
	  ANY, MS, U, U, SPAM_SPAM, 6, "SCL:6" },
	{ "organization SCL alone 9", "X-MS-Exchange-Organization-SCL: 9\r\n\r\n", ANY, MS, U, U, SPAM_SPAM, 9, "SCL:9" },
	{ "organization SCL alone 4", "X-MS-Exchange-Organization-SCL: 4\r\n\r\n", ANY, MS, U, U, SPAM_HAM, 4, "" },
	{ "organization SCL wins over the report's",
	  "X-MS-Exchange-Organization-SCL: -1\r\n" FF("6", "SKN"), ANY, MS, U, U, SPAM_HAM, -1, "" },
	{ "organization SCL unreadable: the report's",
	  "X-MS-Exchange-Organization-SCL: high\r\n" FF("6", "NSPM"), ANY, MS, U, U, SPAM_HAM, 6, "" },
	{ "SCL 10 out of range", "X-MS-Exchange-Organization-SCL: 10\r\n\r\n", ANY, MS, U, U, SPAM_NONE, -100, "" },
	{ "SCL -2 out of range", "X-MS-Exchange-Organization-SCL: -2\r\n\r\n", ANY, MS, U, U, SPAM_NONE, -100, "" },
	{ "SCL 1.5 not whole", "X-MS-Exchange-Organization-SCL: 1.5\r\n\r\n", ANY, MS, U, U, SPAM_NONE, -100, "" },
	{ "SCL with text after", "X-MS-Exchange-Organization-SCL: 1 x\r\n\r\n", ANY, MS, U, U, SPAM_NONE, -100, "" },
	{ "Untrusted report is the sender tenant's",
	  "X-Forefront-Antispam-Report-Untrusted: CIP:1.2.3.4;SCL:9;SFV:SPM;\r\n\r\n", ANY, NO, U, U, SPAM_NONE, -100, "" },
	{ "X-Microsoft-Antispam alone", "X-Microsoft-Antispam: BCL:7;\r\n\r\n", ANY, NO, U, U, SPAM_NONE, -100, "" },
	{ "first SFV counts", "X-Forefront-Antispam-Report: SFV:NSPM;SFV:SPM;SCL:1\r\n\r\n",
	  ANY, MS, U, U, SPAM_HAM, 1, "" },
	{ "CAT with long junk", "X-Forefront-Antispam-Report: SFV:SPM;CAT:ABCDEFGHIJKLMNOPQRST\r\n\r\n",
	  ANY, MS, U, U, SPAM_SPAM, -100, "SFV:SPM CAT:ABCDEFGHIJK" },
	{ "report items without colon", "X-Forefront-Antispam-Report: ;;;SCL;SFV;:;\r\n\r\n",
	  ANY, MS, U, U, SPAM_NONE, -100, "" },

	/* the topmost decides; spam_filter_from */
	{ "spamc on top of rspamd's milter", SA_DEFAULT_SPAM RSPAMD_MILTER, ANY, SA, 6.2, 5.0, SPAM_SPAM, -100,
	  "X-Spam-Status: Yes" },
	{ "same block, rspamd only", SA_DEFAULT_SPAM RSPAMD_MILTER, RS, RS, -1.66, 15, SPAM_HAM, -100, "" },
	{ "rspamd on top of Microsoft", "X-Rspamd-Score: 2\r\n" M365_SPAM, ANY, RS, 2, U, SPAM_HAM, -100, "" },
	{ "Microsoft on top of rspamd", M365_FOLDED "X-Rspamd-Score: 2\r\n\r\n", ANY, MS, U, U, SPAM_HAM, 1, "" },
	{ "microsoft only, none there", SA_DEBIAN, MS, NO, U, U, SPAM_NONE, -100, "" },
	{ "no spam header at all", "Subject: s\r\nFrom: a@b\r\n\r\n", ANY, NO, U, U, SPAM_NONE, -100, "" },
	{ "empty block", "", ANY, NO, U, U, SPAM_NONE, -100, "" },
	{ "body not read", "Subject: s\r\n\r\nX-Spam-Status: Yes, score=9\r\n", ANY, NO, U, U, SPAM_NONE, -100, "" },

	/* duplicates and split headers */
	{ "two X-Spam-Status: the topmost",
	  "X-Spam-Status: No, score=1.0 required=5.0\r\nReceived: x\r\nX-Spam-Status: Yes, score=9.0 required=5.0\r\n\r\n",
	  ANY, SA, 1, 5, SPAM_HAM, -100, "" },
	{ "topmost unreadable still decides",
	  "X-Spam-Status: garbage\r\nX-Spam-Status: Yes, score=9.0 required=5.0\r\n\r\n",
	  ANY, SA, U, U, SPAM_NONE, -100, "" },
	{ "unreadable SA on top of readable rspamd",
	  "X-Spam-Score: ***\r\nReceived: x\r\nX-Spamd-Result: default: False [1.00 / 15.00]\r\n\r\n", ANY, SA, U, U,
	  SPAM_NONE, -100, "" },
	{ "X-Spam-Score in rspamd's group is rspamd's",
	  "X-Spam-Score: ***\r\nX-Spamd-Result: default: False [1.00 / 15.00]\r\n\r\n", ANY, RS, 1, 15, SPAM_HAM, -100, "" },
	{ "two organization SCL: the topmost",
	  "X-MS-Exchange-Organization-SCL: 1\r\nX-MS-Exchange-Organization-SCL: 9\r\n\r\n", ANY, MS, U, U, SPAM_HAM, 1, "" },
	{ "SA headers split by Received", "X-Spam-Score: 4.2\r\nReceived: x\r\nX-Spam-Flag: YES\r\n\r\n",
	  ANY, SA, 4.2, U, SPAM_SPAM, -100, "X-Spam-Flag: YES" },
	{ "flag in an rspamd group is not SpamAssassin's",
	  "X-Spam-Score: 4\r\nReceived: x\r\nX-Rspamd-Server: a\r\nX-Spam-Flag: YES\r\n\r\n", ANY, SA, 4, U, SPAM_NONE, -100, "" },
	{ "Checker-Version keeps a group SpamAssassin's",
	  "X-Spam-Checker-Version: SpamAssassin\r\nX-Spam-Score: 4\r\nX-Rspamd-Server: a\r\n\r\n", ANY, SA, 4, U,
	  SPAM_NONE, -100, "" },

	/* folds, line ends, cut blocks */
	{ "score on a continuation line", "X-Spam-Status: No,\r\n\tscore=2.1\r\n\trequired=5.0\r\n\r\n",
	  ANY, SA, 2.1, 5.0, SPAM_HAM, -100, "" },
	{ "LF only", "X-Spam-Status: Yes, score=8 required=5\nX-Spam-Flag: YES\n\n", ANY, SA, 8, 5, SPAM_SPAM, -100,
	  "X-Spam-Status: Yes" },
	{ "no final line end after a complete value", "X-Spam-Status: No, score=4.9 required=5\r\n",
	  ANY, SA, 4.9, 5, SPAM_HAM, -100, "" },
	{ "cut in the score", "X-Spam-Status: No, score=4", ANY, SA, U, U, SPAM_HAM, -100, "" },
	{ "cut in required", "X-Spam-Status: Yes, score=4.9 required=5", ANY, SA, 4.9, U, SPAM_SPAM, -100,
	  "X-Spam-Status: Yes" },
	{ "cut in the yes/no word", "X-Spam-Status: Ye", ANY, SA, U, U, SPAM_NONE, -100, "" },
	{ "cut after the word", "X-Spam-Status: No", ANY, SA, U, U, SPAM_NONE, -100, "" },
	{ "cut in the name", "Subject: s\r\nX-Spam-Sta", ANY, NO, U, U, SPAM_NONE, -100, "" },
	{ "cut on a folded line", "X-Spam-Status: No, score=3.0\r\n required=5", ANY, SA, 3, U, SPAM_HAM, -100, "" },
	{ "cut between CR and LF", "X-Spam-Status: No, score=3.0\r", ANY, SA, 3, U, SPAM_HAM, -100, "" },
	{ "cut in the rspamd score", "X-Spamd-Result: default: False [1.2", ANY, RS, U, U, SPAM_HAM, -100, "" },
	{ "cut in the rspamd threshold", "X-Spamd-Result: default: False [1.2 / 15", ANY, RS, 1.2, U, SPAM_HAM, -100, "" },
	{ "cut X-Spam word", "X-Spamd-Result: default: False [1 / 15]\r\nX-Spam: Ye", ANY, RS, 1, 15, SPAM_HAM, -100, "" },
	{ "cut in the SFV", "X-Forefront-Antispam-Report: SCL:5;SRV:;IPV:NLI;SFV:SP", ANY, MS, U, U, SPAM_SPAM, 5, "SCL:5" },
	{ "cut after a whole SFV item", "X-Forefront-Antispam-Report: SCL:1;SFV:NSPM;", ANY, MS, U, U, SPAM_HAM, 1, "" },
	{ "cut in the organization SCL", "X-MS-Exchange-Organization-SCL: 1", ANY, MS, U, U, SPAM_NONE, -100, "" },

	/* numbers */
	{ "nan", "X-Spam-Status: No, score=nan required=5\r\n\r\n", ANY, SA, U, 5, SPAM_HAM, -100, "" },
	{ "inf", "X-Spam-Status: No, score=inf required=-inf\r\n\r\n", ANY, SA, U, U, SPAM_HAM, -100, "" },
	{ "exponent", "X-Spam-Status: No, score=1e5 required=5E0\r\n\r\n", ANY, SA, U, U, SPAM_HAM, -100, "" },
	{ "decimal comma", "X-Spam-Status: No, score=5,3 required=5,0\r\n\r\n", ANY, SA, U, U, SPAM_HAM, -100, "" },
	{ "double sign", "X-Spam-Status: No, score=--1 required=+-5\r\n\r\n", ANY, SA, U, U, SPAM_HAM, -100, "" },
	{ "ten digits", "X-Spam-Status: No, score=1234567890 required=5\r\n\r\n", ANY, SA, U, 5, SPAM_HAM, -100, "" },
	{ "nine digits", "X-Spam-Status: No, score=-999999999.5 required=5\r\n\r\n", ANY, SA, -999999999.5, 5,
	  SPAM_HAM, -100, "" },
	{ "many decimals", "X-Spam-Status: No, score=0.1234567890123456789 required=5\r\n\r\n", ANY, SA,
	  0.123456789, 5, SPAM_HAM, -100, "" },
	{ "leading zeros", "X-Spam-Status: No, score=0000000007.5 required=5\r\n\r\n", ANY, SA, U, 5, SPAM_HAM, -100, "" },
	{ "plus sign, bare fraction", "X-Spam-Status: No, score=+2.5 required=.5\r\n\r\n", ANY, SA, 2.5, 0.5,
	  SPAM_HAM, -100, "" },
	{ "trailing point", "X-Spam-Status: No, score=3. required=5\r\n\r\n", ANY, SA, 3, 5, SPAM_HAM, -100, "" },
	{ "minus zero is zero", "X-Spam-Status: No, score=-0.0 required=5\r\n\r\n", ANY, SA, 0, 5, SPAM_HAM, -100, "" },
	{ "two points", "X-Spam-Status: No, score=5.0.1 required=5\r\n\r\n", ANY, SA, U, 5, SPAM_HAM, -100, "" },
	{ "sign alone", "X-Spam-Status: No, score=- required=.\r\n\r\n", ANY, SA, U, U, SPAM_HAM, -100, "" },
	{ "empty score", "X-Spam-Status: No, score= required=5\r\n\r\n", ANY, SA, U, 5, SPAM_HAM, -100, "" },
	{ "huge X-Rspamd-Score", "X-Rspamd-Score: 99999999999999999999\r\n\r\n", ANY, RS, U, U, SPAM_NONE, -100, "" },
	{ "control bytes around", "X-Spam-Status: \001No\002, score=\0031\r\n\r\n", ANY, SA, U, U, SPAM_NONE, -100, "" },
	{ "8-bit bytes", "X-Spam-Status: N\xc3\xb6, score=1\xc2\xa0 required=5\r\n\r\n", ANY, SA, U, 5, SPAM_NONE, -100, "" },
};

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

static void test_read(void)
{
	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		const struct read_case *c = &reads[i];
		size_t len = strlen(c->block);
		/* An exact-size copy without a NUL: a read past len is an ASan report. */
		char *b = malloc(len ? len : 1);
		struct spam_verdict v;
		bool ok;

		memcpy(b, c->block, len);
		spam_read(b, len, c->from, &v);
		ok = v.filter == c->filter && v.spam == c->spam &&
		     (c->score == U ? !v.has_score : v.has_score && near(v.score, c->score)) &&
		     (c->threshold == U ? !v.has_threshold : v.has_threshold && near(v.threshold, c->threshold)) &&
		     (c->scl == -100 ? !v.has_scl : v.has_scl && v.scl == c->scl) &&
		     strcmp(v.why, c->why) == 0 && isfinite(v.score) && isfinite(v.threshold);
		CHECK(ok, "read %s: filter '%s' score %s%g threshold %s%g spam '%s' scl %s%d why '%s'", c->name,
		      spam_filter_name(v.filter), v.has_score ? "" : "-", v.score, v.has_threshold ? "" : "-",
		      v.threshold, spam_flag_name(v.spam), v.has_scl ? "" : "-", v.scl, v.why);
		free(b);
	}
}

/* --- spam_flagged ---------------------------------------------------------------- */

static const struct flag_case {
	const char *name, *block;
	bool has_max;
	double max;
	size_t cap;
	bool flagged;
	const char *error;
} flags[] = {
	{ "unset max: only reported", SA_SPAM_VGER, false, 0, 128, false, "" },
	{ "ham under max", SA_DEBIAN, true, 5, 128, false, "" },
	{ "ham equal to max", SA_DEBIAN, true, 3.3, 128, false, "" },
	{ "ham over max", SA_DEBIAN, true, 3, 128, true, "spamassassin: score 3.3 > max_spam_score 3" },
	{ "spam at threshold under a higher max", SA_SPAM_VGER, true, 10, 128, true,
	  "spamassassin: X-Spam-Status: Yes, score 5" },
	{ "spam over max", SA_DEFAULT_SPAM, true, 5, 128, true,
	  "spamassassin: X-Spam-Status: Yes, score 6.2 > max_spam_score 5" },
	{ "rspamd score over max", "X-Spamd-Result: default: False [7.50 / 15.00]\r\n\r\n", true, 5, 128, true,
	  "rspamd: score 7.5 > max_spam_score 5" },
	{ "rspamd X-Spam: Yes", RSPAMD_ADD_HEADER, true, 10, 128, true, "rspamd: X-Spam: Yes, score 7.2" },
	{ "rspamd reject", "X-Spamd-Result: default: True [16.10 / 15.00]\r\n\r\n", true, 20, 128, true,
	  "rspamd: X-Spamd-Result: True, score 16.1" },
	{ "rspamd negative under negative max", RSPAMD_MILTER, true, -2, 128, true,
	  "rspamd: score -1.66 > max_spam_score -2" },
	{ "microsoft SFV", M365_SPAM, true, 5, 128, true, "microsoft: SFV:SPM CAT:SPM" },
	{ "microsoft SCL", "X-MS-Exchange-Organization-SCL: 9\r\n\r\n", true, 0, 128, true, "microsoft: SCL:9" },
	{ "microsoft ham has no score", M365_FOLDED, true, -100, 128, false, "" },
	{ "no filter", "Subject: s\r\n\r\n", true, -100, 128, false, "" },
	{ "spam without a verdict is not spam", "X-Spam-Status: what, score=1\r\n\r\n", true, 5, 128, false, "" },
	{ "mailbox.org decimals", "X-Rspamd-Score: 0.78341\r\n\r\n", true, 0.5, 128, true,
	  "rspamd: score 0.78341 > max_spam_score 0.5" },
	{ "small cap cut", SA_DEFAULT_SPAM, true, 5, 16, true, "spamassassin: X" },
	{ "cap 0", SA_DEFAULT_SPAM, true, 5, 0, true, NULL },
};

static void test_flagged(void)
{
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		const struct flag_case *c = &flags[i];
		struct spam_verdict v;
		char error[128] = "unchanged";
		bool got;

		spam_read(c->block, strlen(c->block), ANY, &v);
		got = spam_flagged(&v, c->has_max, c->max, error, c->cap);
		CHECK(got == c->flagged && (c->error ? strcmp(error, c->error) == 0 : strcmp(error, "unchanged") == 0),
		      "flagged %s: %d '%s'", c->name, got, error);
	}
}

/* --- names and parsers ----------------------------------------------------------- */

static void test_names(void)
{
	static const struct {
		const char *s;
		bool ok;
		enum spam_filter f;
	} parses[] = {
		{ "any", true, ANY }, { "", true, ANY }, { NULL, true, ANY },
		{ "spamassassin", true, SA }, { "rspamd", true, RS }, { "microsoft", true, MS },
		{ "Rspamd", false, ANY }, { "amavis", false, ANY }, { "rspamd ", false, ANY }, { "none", false, ANY },
	};
	static const struct {
		const char *s;
		bool ok;
		double v;
	} scores[] = {
		{ "5", true, 5 }, { "5.5", true, 5.5 }, { "-2", true, -2 }, { "+0.25", true, 0.25 }, { "0", true, 0 },
		{ "", false, 0 }, { " 5", false, 0 }, { "5 ", false, 0 }, { "nan", false, 0 }, { "inf", false, 0 },
		{ "1e3", false, 0 }, { "5,5", false, 0 }, { "1234567890", false, 0 }, { "123456789", true, 123456789 },
		{ "0x10", false, 0 }, { "-", false, 0 }, { ".", false, 0 },
	};

	for (size_t i = 0; i < sizeof(parses) / sizeof(parses[0]); i++) {
		enum spam_filter f = (enum spam_filter)99;
		bool ok = spam_filter_parse(parses[i].s, &f);
		CHECK(ok == parses[i].ok && (!ok ? f == (enum spam_filter)99 : f == parses[i].f),
		      "spam_filter_parse '%s': %d", parses[i].s ? parses[i].s : "(null)", ok);
	}
	for (size_t i = 0; i < sizeof(scores) / sizeof(scores[0]); i++) {
		double d = -12345;
		bool ok = spam_score_parse(scores[i].s, &d);
		CHECK(ok == scores[i].ok && (!ok ? d == -12345 : near(d, scores[i].v)),
		      "spam_score_parse '%s': %d %g", scores[i].s, ok, d);
	}
	CHECK(strcmp(spam_filter_name(SA), "spamassassin") == 0 && strcmp(spam_filter_name(RS), "rspamd") == 0 &&
	      strcmp(spam_filter_name(MS), "microsoft") == 0 && strcmp(spam_filter_name(NO), "") == 0,
	      "spam_filter_name");
	CHECK(strcmp(spam_flag_name(SPAM_HAM), "ham") == 0 && strcmp(spam_flag_name(SPAM_SPAM), "spam") == 0 &&
	      strcmp(spam_flag_name(SPAM_NONE), "") == 0, "spam_flag_name");
}

int main(void)
{
	test_read();
	test_flagged();
	test_names();
	return unit_done();
}
