/*
 * test_dsn.c - table-driven tests of the delivery status notification
 * reader (plugin/dsn.c) and the MIME header helpers it uses
 * (plugin/mail_header.c), linked alone.  The samples follow the published
 * formats of Postfix bounce(8), Exim, Gmail and Microsoft 365; each row
 * may run a sample with LF line ends or cut short.  Every sample is also
 * read at every cut length (ASan catches a read past the end).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "mail_header.h"
#include "unit.h"

#define TOKEN "00112233445566778899aabbccddeeff"
#define MSGID "<20261201210000.0123abcd@a.test>"
#define RETURNED_HEADERS \
	"Return-Path: <a@a.test>\r\n" \
	"Received: from [192.0.2.10] (unknown [192.0.2.10])\r\n" \
	"\tby mx.a.test (Postfix) with ESMTPSA id 4Abc123\r\n" \
	"\tfor <nouser@b.test>; Tue,  1 Dec 2026 21:00:00 +0000 (UTC)\r\n" \
	"From: a@a.test\r\nTo: nouser@b.test\r\n" \
	"Subject: mail-e2e probe " TOKEN "\r\n" \
	"Date: Tue, 1 Dec 2026 21:00:00 +0000\r\n" \
	"Message-ID: " MSGID "\r\n" \
	"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n" \
	"Auto-Submitted: auto-generated\r\n" \
	"X-Mail-E2E-Probe: " TOKEN "\r\n"

/* --- Postfix bounce(8) ---------------------------------------------------- */

#define PF_B "4Abc123.1764622803/mx.a.test"
#define PF_TOP \
	"Return-Path: <>\r\n" \
	"Received: by mx.a.test (Postfix)\r\n\tid 5DEF0123; Tue,  1 Dec 2026 21:00:03 +0000 (UTC)\r\n" \
	"Date: Tue,  1 Dec 2026 21:00:03 +0000 (UTC)\r\n" \
	"From: MAILER-DAEMON@mx.a.test (Mail Delivery System)\r\n" \
	"Subject: Undelivered Mail Returned to Sender\r\n" \
	"To: a@a.test\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" \
	"Content-Type: multipart/report; report-type=delivery-status;\r\n" \
	"\tboundary=\"" PF_B "\"\r\n" \
	"Content-Transfer-Encoding: 8bit\r\n" \
	"Message-Id: <20261201210003.5DEF0123@mx.a.test>\r\n\r\n" \
	"This is a MIME-encapsulated message.\r\n\r\n" \
	"--" PF_B "\r\n" \
	"Content-Description: Notification\r\n" \
	"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" \
	"This is the mail system at host mx.a.test.\r\n\r\n" \
	"I'm sorry to have to inform you that your message could not\r\n" \
	"be delivered to one or more recipients. It's attached below.\r\n\r\n" \
	"For further assistance, please send mail to postmaster.\r\n\r\n" \
	"If you do so, please include this problem report. You can\r\n" \
	"delete your own text from the attached returned message.\r\n\r\n" \
	"                   The mail system\r\n\r\n" \
	"<nouser@b.test>: host mx.b.test[192.0.2.2] said: 550 5.1.1 <nouser@b.test>:\r\n" \
	"    Recipient address rejected: User unknown (in reply to RCPT TO command)\r\n\r\n"
#define PF_STATUS_A(envid) \
	"--" PF_B "\r\n" \
	"Content-Description: Delivery report\r\nContent-Type: message/delivery-status\r\n\r\n" \
	envid \
	"Reporting-MTA: dns; mx.a.test\r\nX-Postfix-Queue-ID: 4Abc123\r\n" \
	"X-Postfix-Sender: rfc822; a@a.test\r\n" \
	"Arrival-Date: Tue,  1 Dec 2026 21:00:00 +0000 (UTC)\r\n\r\n" \
	"Final-Recipient: rfc822; nouser@b.test\r\n" \
	"Original-Recipient: rfc822;nouser@b.test\r\n" \
	"Action: failed\r\n"
#define PF_STATUS_B \
	"Status: 5.1.1\r\nRemote-MTA: dns; mx.b.test\r\n" \
	"Diagnostic-Code: smtp; 550 5.1.1 <nouser@b.test>: Recipient address rejected:\r\n" \
	"    User unknown\r\n\r\n"
#define PF_STATUS(envid) PF_STATUS_A(envid) PF_STATUS_B
#define PF_RET_HEAD \
	"--" PF_B "\r\n" \
	"Content-Description: Undelivered Message Headers\r\n" \
	"Content-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
#define PF_RETURNED PF_RET_HEAD RETURNED_HEADERS "\r\n" "--" PF_B "--\r\n"
#define POSTFIX PF_TOP PF_STATUS("") PF_RETURNED
#define POSTFIX_ENVID PF_TOP PF_STATUS("Original-Envelope-Id: " TOKEN "\r\n") PF_RETURNED
#define PF_DIAG "550 5.1.1 <nouser@b.test>: Recipient address rejected: User unknown"

#define PF_DELAY \
	"From: MAILER-DAEMON@mx.a.test (Mail Delivery System)\r\n" \
	"Subject: Delayed Mail (still being retried)\r\nTo: a@a.test\r\n" \
	"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" \
	"Content-Type: multipart/report; report-type=delivery-status;\r\n" \
	"\tboundary=\"7Xy9.1764637203/mx.a.test\"\r\n\r\n" \
	"This is a MIME-encapsulated message.\r\n\r\n" \
	"--7Xy9.1764637203/mx.a.test\r\nContent-Description: Notification\r\n" \
	"Content-Type: text/plain; charset=utf-8\r\n\r\n" \
	"This is the mail system at host mx.a.test.\r\n\r\n" \
	"####################################################################\r\n" \
	"# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n" \
	"####################################################################\r\n\r\n" \
	"Your message could not be delivered for more than 4 hour(s).\r\n" \
	"It will be retried until it is 5 day(s) old.\r\n\r\n" \
	"--7Xy9.1764637203/mx.a.test\r\nContent-Description: Delivery report\r\n" \
	"Content-Type: message/delivery-status\r\n\r\n" \
	"Original-Envelope-Id: " TOKEN "\r\n" \
	"Reporting-MTA: dns; mx.a.test\r\nX-Postfix-Queue-ID: 7Xy9\r\n" \
	"X-Postfix-Sender: rfc822; a@a.test\r\n" \
	"Arrival-Date: Tue,  1 Dec 2026 21:00:00 +0000 (UTC)\r\n\r\n" \
	"Final-Recipient: rfc822; bob@b.test\r\nOriginal-Recipient: rfc822;bob@b.test\r\n" \
	"Action: delayed\r\nStatus: 4.4.1\r\n" \
	"Diagnostic-Code: X-Postfix; connect to mx.b.test[192.0.2.2]:25: Connection\r\n" \
	"    refused\r\n" \
	"Will-Retry-Until: Sun,  6 Dec 2026 21:00:00 +0000 (UTC)\r\n\r\n" \
	"--7Xy9.1764637203/mx.a.test\r\nContent-Description: Undelivered Message Headers\r\n" \
	"Content-Type: text/rfc822-headers\r\n\r\n" RETURNED_HEADERS "\r\n" \
	"--7Xy9.1764637203/mx.a.test--\r\n"

/* --- Exim ----------------------------------------------------------------- */

#define EX_B "1764622805-eximdsn-1804289383"
#define EXIM(envid, rettype) \
	"Return-path: <>\r\n" \
	"Auto-Submitted: auto-replied\r\n" \
	"From: Mail Delivery System <Mailer-Daemon@mx.b.test>\r\nTo: a@a.test\r\n" \
	"Content-Type: multipart/report; report-type=delivery-status; boundary=" EX_B "\r\n" \
	"MIME-Version: 1.0\r\n" \
	"Subject: Mail delivery failed: returning message to sender\r\n" \
	"Message-Id: <E1kAbc-0001Xy-AB@mx.b.test>\r\nDate: Tue, 01 Dec 2026 21:00:05 +0000\r\n\r\n" \
	"--" EX_B "\r\nContent-type: text/plain; charset=us-ascii\r\n\r\n" \
	"This message was created automatically by mail delivery software.\r\n\r\n" \
	"A message that you sent could not be delivered to one or more of its\r\n" \
	"recipients. This is a permanent error. The following address(es) failed:\r\n\r\n" \
	"  nouser@b.test\r\n    host mx.c.test [192.0.2.3]\r\n" \
	"    SMTP error from remote mail server after RCPT TO:<nouser@b.test>:\r\n" \
	"    550 5.1.1 User unknown\r\n\r\n" \
	"--" EX_B "\r\nContent-type: message/delivery-status\r\n\r\n" \
	"Reporting-MTA: dns; mx.b.test\r\n" envid "\r\n" \
	"Action: failed\r\nFinal-Recipient: rfc822;nouser@b.test\r\nStatus: 5.0.0\r\n" \
	"Remote-MTA: dns; mx.c.test\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n" \
	"X-Exim-Diagnostic: X-str; SMTP error from remote mail server after RCPT TO:<nouser@b.test>:\r\n" \
	"    550 5.1.1 User unknown\r\n\r\n" \
	"--" EX_B "\r\nContent-type: " rettype "\r\n\r\n" RETURNED_HEADERS "\r\nprobe body\r\n" \
	"--" EX_B "--\r\n"

/* --- Gmail ---------------------------------------------------------------- */

#define GM_B "000000000000d0e1f2a3b4c5"
#define GMAIL \
	"Return-Path: <>\r\n" \
	"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\nTo: a@gmail.com\r\n" \
	"Auto-Submitted: auto-replied\r\nSubject: Delivery Status Notification (Failure)\r\n" \
	"References: " MSGID "\r\nIn-Reply-To: " MSGID "\r\nX-Failed-Recipients: bob@b.test\r\n" \
	"Message-ID: <6501c2a3.050a0220.2b3c4d.abcdGMR@mx.google.com>\r\n" \
	"Date: Tue, 01 Dec 2026 13:00:02 -0800 (PST)\r\nMIME-Version: 1.0\r\n" \
	"Content-Type: multipart/report; boundary=\"" GM_B "\"; report-type=delivery-status\r\n\r\n" \
	"--" GM_B "\r\nContent-Type: multipart/related; boundary=\"000000000000d0e1f2a3b4c6\"\r\n\r\n" \
	"--000000000000d0e1f2a3b4c6\r\n" \
	"Content-Type: multipart/alternative; boundary=\"000000000000d0e1f2a3b4c7\"\r\n\r\n" \
	"--000000000000d0e1f2a3b4c7\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\n\r\n" \
	"** Message not delivered **\r\n\r\nYour message couldn't be delivered to bob@b.test\r\n" \
	"because the remote server is misconfigured.\r\n\r\n" \
	"The response from the remote server was:\r\n550 5.7.26 Unauthenticated email\r\n\r\n" \
	"--000000000000d0e1f2a3b4c7\r\nContent-Type: text/html; charset=\"UTF-8\"\r\n\r\n" \
	"<html><body>Message not delivered</body></html>\r\n\r\n" \
	"--000000000000d0e1f2a3b4c7--\r\n" \
	"--000000000000d0e1f2a3b4c6\r\nContent-Type: image/png; name=\"icon.png\"\r\n" \
	"Content-Transfer-Encoding: base64\r\nContent-ID: <icon.png>\r\n\r\niVBORw0KGgo=\r\n" \
	"--000000000000d0e1f2a3b4c6--\r\n" \
	"--" GM_B "\r\nContent-Type: message/delivery-status\r\n\r\n" \
	"Reporting-MTA: dns; googlemail.com\r\nReceived-From-MTA: dns; a@gmail.com\r\n" \
	"Arrival-Date: Tue, 01 Dec 2026 13:00:00 -0800 (PST)\r\n" \
	"X-Original-Message-ID: " MSGID "\r\n\r\n" \
	"Final-Recipient: rfc822; bob@b.test\r\nAction: failed\r\nStatus: 5.7.26\r\n" \
	"Remote-MTA: dns; mx.b.test. (192.0.2.2, the server for the domain b.test.)\r\n" \
	"Diagnostic-Code: smtp; 550-5.7.26 Unauthenticated email from gmail.com is not accepted due\r\n" \
	" 550-5.7.26 to domain's DMARC policy. Please contact the administrator of\r\n" \
	" 550 5.7.26 gmail.com domain if this was a legitimate mail.\r\n" \
	"Last-Attempt-Date: Tue, 01 Dec 2026 13:00:02 -0800 (PST)\r\n\r\n" \
	"--" GM_B "\r\nContent-Type: message/rfc822\r\n\r\n" RETURNED_HEADERS "\r\nbody\r\n" \
	"--" GM_B "--\r\n"
#define GM_DIAG "550-5.7.26 Unauthenticated email from gmail.com is not accepted due " \
	"550-5.7.26 to domain's DMARC policy. Please contact the administrator of " \
	"550 5.7.26 gmail.com domain if this was a legitimate mail."

/* --- Microsoft 365 -------------------------------------------------------- */

#define MS_B "ec8a8c3c-1234-4b5c-9d7e-0a1b2c3d4e5f"
#define M365 \
	"From: Microsoft Outlook\r\n <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.onmicrosoft.com>\r\n" \
	"To: <a@a.test>\r\nDate: Tue, 1 Dec 2026 21:00:03 +0000\r\n" \
	"Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"" MS_B "\"\r\n" \
	"X-MS-Exchange-Message-Is-Ndr:\r\nContent-Language: en-US\r\n" \
	"Message-ID: <ec8a8c3c-0001@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>\r\n" \
	"In-Reply-To: " MSGID "\r\nSubject: Undeliverable: mail-e2e probe\r\n" \
	"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\r\n" \
	"--" MS_B "\r\n" \
	"Content-Type: multipart/alternative; differences=Content-Type;\r\n" \
	"\tboundary=\"fd9b9d4d-5678-4c6d-8e9f-1a2b3c4d5e6f\"\r\n\r\n" \
	"--fd9b9d4d-5678-4c6d-8e9f-1a2b3c4d5e6f\r\nContent-Type: text/plain; charset=\"us-ascii\"\r\n" \
	"Content-Transfer-Encoding: quoted-printable\r\n\r\n" \
	"Your message to bob@contoso.com couldn't be delivered.=0D=0Abob wasn't found at =\r\ncontoso.com.\r\n" \
	"--fd9b9d4d-5678-4c6d-8e9f-1a2b3c4d5e6f\r\nContent-Type: text/html; charset=\"us-ascii\"\r\n" \
	"Content-Transfer-Encoding: quoted-printable\r\n\r\n<html>=0D=0A</html>\r\n" \
	"--fd9b9d4d-5678-4c6d-8e9f-1a2b3c4d5e6f--\r\n\r\n" \
	"--" MS_B "\r\nContent-Type: message/delivery-status\r\n\r\n" \
	"Reporting-MTA: dns;AM0PR01MB1234.eurprd01.prod.exchangelabs.com\r\n" \
	"Received-From-MTA: dns;EUR01-AM5-obe.outbound.protection.outlook.com\r\n" \
	"Arrival-Date: Tue, 1 Dec 2026 21:00:00 +0000\r\n\r\n" \
	"Original-Recipient: rfc822;bob@contoso.com\r\nFinal-Recipient: rfc822;bob@contoso.com\r\n" \
	"Action: failed\r\nStatus: 5.1.10\r\n" \
	"Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not\r\n" \
	" found by SMTP address lookup\r\nX-Display-Name: bob@contoso.com\r\n\r\n" \
	"--" MS_B "\r\nContent-Type: message/rfc822\r\n\r\n" RETURNED_HEADERS "\r\nbody\r\n" \
	"--" MS_B "--\r\n"
#define MS_DIAG "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
#define MS_MTA "AM0PR01MB1234.eurprd01.prod.exchangelabs.com"

/* --- short made-up reports ------------------------------------------------ */

#define TOP(ct) "From: MAILER-DAEMON@mx.a.test\r\nMIME-Version: 1.0\r\nContent-Type: " ct "\r\n\r\n"
#define REPORT TOP("multipart/report; report-type=delivery-status; boundary=b1")
#define DS_PART(groups) "--b1\r\nContent-Type: message/delivery-status\r\n\r\n" \
	"Reporting-MTA: dns; mx.a.test\r\n\r\n" groups
#define RCPT(addr, action, status) "Final-Recipient: rfc822; " addr "\r\nAction: " action \
	"\r\nStatus: " status "\r\nDiagnostic-Code: smtp; " status " for " addr "\r\n\r\n"
#define MANY REPORT DS_PART(RCPT("bob@b.test", "delayed", "4.4.1") RCPT("carol@b.test", "failed", "5.1.1") \
	RCPT("dave@b.test", "failed", "5.2.2")) "--b1--\r\n"

static const struct dsn_case {
	const char *name, *msg, *want;
	bool lf;                   /* run with bare LF line ends */
	size_t cut;                /* read only this many bytes (0: all) */
	bool is_dsn;
	/* NULL: not checked */
	const char *envid, *action, *status, *diag, *remote, *rcpt;
	int recipients;            /* -1: not checked */
	const char *msgid, *token, *reporting;
} cases[] = {
	{ "Postfix bounce", POSTFIX, NULL, false, 0, true, "", "failed", "5.1.1", PF_DIAG, "mx.b.test",
	  "nouser@b.test", 1, MSGID, TOKEN, "mx.a.test" },
	{ "Postfix bounce with ENVID", POSTFIX_ENVID, "nouser@b.test", false, 0, true, TOKEN, "failed", "5.1.1",
	  PF_DIAG, "mx.b.test", "nouser@b.test", 1, MSGID, TOKEN, "mx.a.test" },
	{ "Postfix bounce, LF only", POSTFIX_ENVID, NULL, true, 0, true, TOKEN, "failed", "5.1.1", PF_DIAG,
	  "mx.b.test", "nouser@b.test", 1, MSGID, TOKEN, "mx.a.test" },
	{ "Postfix delay notice", PF_DELAY, "bob@b.test", false, 0, true, TOKEN, "delayed", "4.4.1",
	  "connect to mx.b.test[192.0.2.2]:25: Connection refused", "", "bob@b.test", 1, MSGID, TOKEN, NULL },
	{ "Exim, returned message/rfc822", EXIM("", "message/rfc822"), NULL, false, 0, true, "", "failed",
	  "5.0.0", "550 5.1.1 User unknown", "mx.c.test", "nouser@b.test", 1, MSGID, TOKEN, "mx.b.test" },
	{ "Exim, text/rfc822-headers, xtext ENVID",
	  EXIM("Original-Envelope-ID: 0011+2B22=33\r\n", "text/rfc822-headers"), NULL, false, 0, true,
	  "0011+22=33", "failed", "5.0.0", "550 5.1.1 User unknown", "mx.c.test", "nouser@b.test", 1, MSGID,
	  TOKEN, NULL },
	{ "Exim, LF only", EXIM("", "message/rfc822"), NULL, true, 0, true, "", "failed", "5.0.0",
	  "550 5.1.1 User unknown", "mx.c.test", "nouser@b.test", 1, MSGID, TOKEN, NULL },
	{ "Gmail, nested notice parts", GMAIL, "bob@b.test", false, 0, true, "", "failed", "5.7.26", GM_DIAG,
	  "mx.b.test", "bob@b.test", 1, MSGID, TOKEN, "googlemail.com" },
	{ "Gmail, LF only", GMAIL, NULL, true, 0, true, "", "failed", "5.7.26", GM_DIAG, "mx.b.test",
	  "bob@b.test", 1, MSGID, TOKEN, NULL },
	{ "Microsoft 365", M365, "bob@contoso.com", false, 0, true, "", "failed", "5.1.10", MS_DIAG, "",
	  "bob@contoso.com", 1, MSGID, TOKEN, MS_MTA },
	{ "Microsoft 365, LF only", M365, NULL, true, 0, true, "", "failed", "5.1.10", MS_DIAG, "",
	  "bob@contoso.com", 1, MSGID, TOKEN, MS_MTA },
	/* several recipients */
	{ "several: first failed", MANY, NULL, false, 0, true, "", "failed", "5.1.1", "5.1.1 for carol@b.test",
	  "", "carol@b.test", 3, "", "", "mx.a.test" },
	{ "several: by want", MANY, "dave@b.test", false, 0, true, "", "failed", "5.2.2", NULL, NULL,
	  "dave@b.test", 3, NULL, NULL, NULL },
	{ "several: want the delayed one", MANY, "bob@b.test", false, 0, true, "", "delayed", "4.4.1", NULL, NULL,
	  "bob@b.test", 3, NULL, NULL, NULL },
	{ "several: want without case, in <>", MANY, " <DAVE@B.TEST> ", false, 0, true, "", "failed", "5.2.2",
	  NULL, NULL, "dave@b.test", 3, NULL, NULL, NULL },
	{ "several: want with rfc822;", MANY, "rfc822; dave@b.test", false, 0, true, "", "failed", "5.2.2",
	  NULL, NULL, "dave@b.test", 3, NULL, NULL, NULL },
	{ "several: unknown want, first failed", MANY, "zed@b.test", false, 0, true, "", "failed", "5.1.1",
	  NULL, NULL, "carol@b.test", 3, NULL, NULL, NULL },
	{ "delayed before delivered", REPORT DS_PART(RCPT("a@b.test", "delivered", "2.0.0")
	  RCPT("c@b.test", "delayed", "4.4.7")) "--b1--\r\n", NULL, false, 0, true, "", "delayed", "4.4.7",
	  NULL, NULL, "c@b.test", 2, NULL, NULL, NULL },
	{ "only delivered and relayed: the first", REPORT DS_PART(RCPT("a@b.test", "delivered", "2.0.0")
	  RCPT("c@b.test", "relayed", "2.0.0")) "--b1--\r\n", NULL, false, 0, true, "", "delivered", "2.0.0",
	  NULL, NULL, "a@b.test", 2, NULL, NULL, NULL },
	{ "want matches Original-Recipient", REPORT DS_PART("Final-Recipient: rfc822; other@b.test\r\n"
	  "Original-Recipient: rfc822;BOB@b.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
	  RCPT("carol@b.test", "failed", "5.0.0")) "--b1--\r\n", "bob@b.test", false, 0, true, "", "failed",
	  "5.1.1", "", NULL, "other@b.test", 2, NULL, NULL, NULL },
	{ "status with comment, action upper case", REPORT DS_PART("Final-Recipient: rfc822;<x@b.test>\r\n"
	  "Action: FAILED (permanent)\r\nStatus: 5.1.1 (bad destination mailbox address)\r\n"
	  "Remote-MTA: dns; [192.0.2.2]\r\n") "--b1--\r\n", NULL, false, 0, true, "", "failed", "5.1.1", "",
	  "[192.0.2.2]", "x@b.test", 1, NULL, NULL, NULL },
	{ "no per-message group", REPORT "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
	  RCPT("x@b.test", "failed", "5.1.1") "--b1--\r\n", NULL, false, 0, true, "", "failed", "5.1.1", NULL,
	  NULL, "x@b.test", 1, NULL, NULL, "" },
	{ "groups apart by blank and empty lines", REPORT "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
	  "\r\nReporting-MTA: dns; m\r\n\r\n \r\n\r\nFinal-Recipient: rfc822; x@b.test\r\nAction: failed\r\n"
	  "\r\n\r\n--b1--\r\n", NULL, false, 0, true, "", "failed", "", "", NULL, "x@b.test", 1, NULL, NULL, "m" },
	{ "diagnostic with control bytes", REPORT DS_PART("Final-Recipient: rfc822; x@b.test\r\nAction: failed\r\n"
	  "Diagnostic-Code: smtp; 550\001 no\tsuch\x7f user\r\n") "--b1--\r\n", NULL, false, 0, true, "",
	  "failed", "", "550 no such user", NULL, NULL, 1, NULL, NULL, NULL },
	{ "diagnostic without type", REPORT DS_PART("Final-Recipient: rfc822; x@b.test\r\nAction: failed\r\n"
	  "Diagnostic-Code: 550 user unknown; sorry\r\n") "--b1--\r\n", NULL, false, 0, true, "",
	  "failed", "", "550 user unknown; sorry", NULL, NULL, 1, NULL, NULL, NULL },
	{ "quoted-printable status part", REPORT "--b1\r\nContent-Type: message/delivery-status\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\nOriginal-Envelope-Id: ab=3Dc\r\n\r\n"
	  "Final-Recipient: rfc822; x@b.test\r\nAction: fail=\r\ned\r\nStatus: 5.1=\r\n.1\r\n\r\n--b1--\r\n",
	  NULL, false, 0, true, "ab=c", "failed", "5.1.1", NULL, NULL, "x@b.test", 1, NULL, NULL, NULL },
	{ "base64 status part", REPORT "--b1\r\nContent-Type: message/delivery-status\r\n"
	  "Content-Transfer-Encoding: BASE64\r\n\r\n"
	  "RmluYWwtUmVjaXBpZW50OiByZmM4MjI7IHhAYi50ZXN0DQpB\r\nY3Rpb246IGZhaWxlZA0KU3RhdHVzOiA1LjEuMQ0K\r\n"
	  "--b1--\r\n", NULL, false, 0, true, "", "failed", "5.1.1", NULL, NULL, "x@b.test", 1, NULL, NULL, NULL },
	{ "global DSN (RFC 6533)", TOP("multipart/report; report-type=global-delivery-status; boundary=b1")
	  "--b1\r\nContent-Type: message/global-delivery-status\r\n\r\nReporting-MTA: dns; m\r\n\r\n"
	  "Final-Recipient: utf-8; j\xc3\xb6rg@b.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
	  "--b1\r\nContent-Type: message/global-headers\r\n\r\nMessage-ID: <x@y>\r\nX-Mail-E2E-Probe: t1\r\n"
	  "--b1--\r\n", "j\xc3\xb6rg@b.test", false, 0, true, "", "failed", "5.1.1", NULL, NULL,
	  "j\xc3\xb6rg@b.test", 1, "<x@y>", "t1", "m" },
	{ "type names without case, quoted report-type",
	  TOP("Multipart/Report; Report-Type=\"Delivery-Status\"; BOUNDARY=\"b1\"")
	  "--b1\r\nContent-Type: Message/Delivery-Status\r\n\r\n" RCPT("x@b.test", "failed", "5.1.1")
	  "--b1--\r\n", NULL, false, 0, true, "", "failed", "5.1.1", NULL, NULL, "x@b.test", 1, NULL, NULL, NULL },
	{ "boundary text inside the body", REPORT "--b1\r\nContent-Type: text/plain\r\n\r\n"
	  "text --b1 in a line\r\n--b1x is another boundary\r\n --b1\r\n--b1-x\r\n"
	  "Content-Type: message/delivery-status\r\n\r\n" RCPT("fake@b.test", "failed", "5.0.0")
	  "--b1 \t\r\nContent-Type: message/delivery-status\r\n\r\n" RCPT("x@b.test", "delayed", "4.4.1")
	  "--b1--\r\n", NULL, false, 0, true, "", "delayed", "4.4.1", NULL, NULL, "x@b.test", 1, NULL, NULL, NULL },
	{ "epilogue not read", MANY "--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
	  RCPT("late@b.test", "failed", "5.9.9"), "late@b.test", false, 0, true, "", "failed", "5.1.1", NULL,
	  NULL, "carol@b.test", 3, NULL, NULL, NULL },
	{ "preamble with a fake report", REPORT "Final-Recipient: rfc822; pre@b.test\r\nAction: failed\r\n\r\n"
	  "--b1\r\nContent-Type: message/delivery-status\r\n\r\n" RCPT("x@b.test", "failed", "5.1.1") "--b1--",
	  NULL, false, 0, true, "", "failed", "5.1.1", NULL, NULL, "x@b.test", 1, NULL, NULL, NULL },
	{ "returned headers: first part counts", REPORT DS_PART(RCPT("x@b.test", "failed", "5.1.1"))
	  "--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID:\r\n  <first@x>\r\n\r\n"
	  "--b1\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <second@x>\r\nX-Mail-E2E-Probe:  tok  \r\n"
	  "--b1--\r\n", NULL, false, 0, true, "", "failed", NULL, NULL, NULL, NULL, 1, "<first@x>", "tok", NULL },
	{ "returned body not read as headers", REPORT DS_PART(RCPT("x@b.test", "failed", "5.1.1"))
	  "--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: s\r\n\r\nMessage-ID: <body@x>\r\n--b1--\r\n",
	  NULL, false, 0, true, "", "failed", NULL, NULL, NULL, NULL, 1, "", "", NULL },
	/* not DSNs */
	{ "plain text bounce", TOP("text/plain; charset=us-ascii")
	  "Final-Recipient: rfc822; x@b.test\r\nAction: failed\r\nStatus: 5.1.1\r\n", NULL, false, 0, false,
	  "", "", "", "", "", "", 0, "", "", "" },
	{ "no Content-Type", "From: a\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\n--b1\r\n",
	  NULL, false, 0, false, "", "", "", "", "", "", 0, "", "", "" },
	{ "multipart/mixed", TOP("multipart/mixed; boundary=b1") DS_PART(RCPT("x@b.test", "failed", "5.1.1"))
	  "--b1--\r\n", NULL, false, 0, false, "", "", "", "", "", "", 0, "", "", "" },
	{ "disposition notification (MDN)",
	  TOP("multipart/report; report-type=disposition-notification; boundary=b1")
	  "--b1\r\nContent-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822; x@b.test\r\n"
	  "Disposition: automatic-action/MDN-sent-automatically; displayed\r\n--b1--\r\n", NULL, false, 0, false,
	  "", "", "", "", "", "", 0, "", "", "" },
	{ "missing boundary", TOP("multipart/report; report-type=delivery-status")
	  DS_PART(RCPT("x@b.test", "failed", "5.1.1")), NULL, false, 0, false, "", "", "", "", "", "", 0, "", "", "" },
	{ "empty boundary", TOP("multipart/report; report-type=delivery-status; boundary=\"\"")
	  "--\r\nContent-Type: message/delivery-status\r\n\r\n" RCPT("x@b.test", "failed", "5.1.1"), NULL, false, 0,
	  false, "", "", "", "", "", "", 0, "", "", "" },
	{ "report without a status part", REPORT "--b1\r\nContent-Type: text/plain\r\n\r\nAction: failed\r\n"
	  "--b1--\r\n", NULL, false, 0, false, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL },
	{ "status part only in the body text", REPORT "Content-Type: message/delivery-status\r\n\r\n"
	  RCPT("x@b.test", "failed", "5.1.1"), NULL, false, 0, false, NULL, NULL, NULL, NULL, NULL, NULL, 0,
	  NULL, NULL, NULL },
	{ "first Content-Type counts", "Content-Type: text/plain\r\n"
	  "Content-Type: multipart/report; report-type=delivery-status; boundary=b1\r\n\r\n"
	  DS_PART(RCPT("x@b.test", "failed", "5.1.1")), NULL, false, 0, false, NULL, NULL, NULL, NULL, NULL,
	  NULL, 0, NULL, NULL, NULL },
	{ "empty message", "", NULL, false, 0, false, "", "", "", "", "", "", 0, "", "", "" },
	/* truncated */
	{ "cut inside the top header", POSTFIX, NULL, false, 300, false, "", "", "", "", "", "", 0, "", "", "" },
	{ "cut before the status part", POSTFIX, NULL, false, sizeof(PF_TOP) - 1, false, NULL, NULL, NULL, NULL,
	  NULL, NULL, 0, NULL, NULL, NULL },
	{ "cut after Action", POSTFIX_ENVID, NULL, false,
	  sizeof(PF_TOP PF_STATUS_A("Original-Envelope-Id: " TOKEN "\r\n")) - 1, true, TOKEN, "failed", "",
	  "", "", "nouser@b.test", 1, "", "", "mx.a.test" },
	{ "cut inside the returned headers", POSTFIX, NULL, false,
	  sizeof(PF_TOP PF_STATUS("") PF_RET_HEAD "Return-Path: <a@a.test>\r\n") - 1, true, "", "failed",
	  "5.1.1", PF_DIAG, NULL, NULL, 1, "", "", NULL },
	{ "cut inside the close delimiter", POSTFIX, NULL, false, sizeof(POSTFIX) - 1 - 26, true, "", "failed",
	  "5.1.1", PF_DIAG, "mx.b.test", "nouser@b.test", 1, MSGID, TOKEN, NULL },
};

/* The message as the row asks: LF line ends, cut; in a buffer of exactly
 * its length, so a read past the end is caught by ASan. */
static char *prepare(const struct dsn_case *c, size_t *len)
{
	size_t n = strlen(c->msg), k = 0;
	char *b = malloc(n ? n : 1);

	for (size_t i = 0; i < n; i++)
		if (!(c->lf && c->msg[i] == '\r' && i + 1 < n && c->msg[i + 1] == '\n'))
			b[k++] = c->msg[i];
	if (c->cut && c->cut < k)
		k = c->cut;
	*len = k;
	return b;
}

static bool str_ok(const char *want, const char *got)
{
	return want == NULL || strcmp(want, got) == 0;
}

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct dsn_case *c = &cases[i];
		struct dsn_report r;
		size_t len;
		char *b = prepare(c, &len);
		bool ok;

		memset(&r, 0x55, sizeof(r));
		ok = dsn_read(b, len, c->want, &r);
		CHECK(ok == c->is_dsn && ok == r.is_dsn && str_ok(c->envid, r.envid) && str_ok(c->action, r.action) &&
		      str_ok(c->status, r.status) && str_ok(c->diag, r.diagnostic) && str_ok(c->remote, r.remote_mta) &&
		      str_ok(c->rcpt, r.recipient) && (c->recipients < 0 || c->recipients == r.recipients) &&
		      str_ok(c->msgid, r.message_id) && str_ok(c->token, r.probe_token) &&
		      str_ok(c->reporting, r.reporting_mta),
		      "dsn %s: %d envid='%s' action='%s' status='%s' diag='%s' remote='%s' rcpt='%s' n=%d "
		      "msgid='%s' token='%s' reporting='%s'", c->name, ok, r.envid, r.action, r.status,
		      r.diagnostic, r.remote_mta, r.recipient, r.recipients, r.message_id, r.probe_token,
		      r.reporting_mta);
		free(b);
	}
}

/* Every real sample at every cut length: never a fault, always strings. */
static void test_every_cut(void)
{
	static const char *const samples[] = { POSTFIX_ENVID, PF_DELAY, EXIM("", "message/rfc822"), GMAIL, M365 };

	for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++) {
		size_t n = strlen(samples[s]), bad = 0, dsn_from = 0;
		for (size_t k = 0; k <= n; k++) {
			char *b = malloc(k ? k : 1);
			struct dsn_report r;
			memcpy(b, samples[s], k);
			if (dsn_read(b, k, NULL, &r) && dsn_from == 0)
				dsn_from = k;
			if (strlen(r.diagnostic) >= sizeof(r.diagnostic) || strlen(r.recipient) >= sizeof(r.recipient))
				bad++;
			free(b);
		}
		CHECK(bad == 0 && dsn_from > 0, "sample %zu read at all %zu cut lengths (a DSN from %zu bytes)",
		      s, n + 1, dsn_from);
	}
}

/* Long values are cut at the field size, never overflowing. */
static void test_long_values(void)
{
	static char msg[8192];
	struct dsn_report r;
	size_t n;

	n = (size_t)snprintf(msg, sizeof(msg), "%s--b1\r\nContent-Type: message/delivery-status\r\n\r\n"
	                     "Original-Envelope-Id: ", REPORT);
	memset(msg + n, 'e', 300);
	n += 300;
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\r\n\r\nFinal-Recipient: rfc822; ");
	memset(msg + n, 'r', 600);
	n += 600;
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\r\nAction: failedfailedfailed\r\nDiagnostic-Code: smtp; ");
	for (int i = 0; i < 400; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\xc3\xa9");
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\r\n--b1--\r\n");
	CHECK(dsn_read(msg, n, NULL, &r) && strlen(r.envid) == sizeof(r.envid) - 1 &&
	      strlen(r.recipient) == sizeof(r.recipient) - 1 && strcmp(r.action, "failedfailedfai") == 0 &&
	      strlen(r.diagnostic) == sizeof(r.diagnostic) - 2,
	      "long values cut: envid %zu, recipient %zu, action '%s', diagnostic %zu (whole UTF-8)",
	      strlen(r.envid), strlen(r.recipient), r.action, strlen(r.diagnostic));
}

/* --- MIME helpers --------------------------------------------------------- */

static const struct { const char *in, *type, *name, *value; } params[] = {
	{ "multipart/report; report-type=delivery-status; boundary=\"a b\"", "multipart/report", "boundary", "a b" },
	{ "Multipart/Report (comment); Boundary = abc ; x=y", "multipart/report", "boundary", "abc" },
	{ "multipart/report; boundary=\"q\\\"x\"", "multipart/report", "boundary", "q\"x" },
	{ "a/b; xboundary=1; boundary=2", "a/b", "boundary", "2" },
	{ "a/b; x=\"boundary=1; y\"; boundary=2", "a/b", "boundary", "2" },
	{ "a/b; x=(boundary=1) y; boundary=2", "a/b", "boundary", "2" },
	{ "multipart/report;\r\n\tboundary=\"4Abc.17/mx.a.test\"", "multipart/report", "boundary", "4Abc.17/mx.a.test" },
	{ " TEXT / PLAIN ; charset=utf-8", "text/plain", "CHARSET", "utf-8" },
	{ "a/b; boundary*=utf-8''x", "a/b", "boundary", NULL },
	{ "a/b; report-type=delivery-status", "a/b", "boundary", NULL },
	{ "a/b; boundary=\"never closed", "a/b", "boundary", "never closed" },
	{ "a/b; boundary=", "a/b", "boundary", "" },
	{ "text", NULL, "boundary", NULL },
	{ "/plain", NULL, "boundary", NULL },
	{ "", NULL, "boundary", NULL },
};

static void test_params(void)
{
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		size_t n = strlen(params[i].in);
		char *b = malloc(n ? n : 1);
		char type[64], value[64];
		bool tok, pok;
		memcpy(b, params[i].in, n);
		tok = mail_content_type(b, n, type, sizeof(type));
		pok = mail_param(b, n, params[i].name, value, sizeof(value));
		CHECK(tok == (params[i].type != NULL) && (!tok || strcmp(type, params[i].type) == 0) &&
		      pok == (params[i].value != NULL) && (!pok || strcmp(value, params[i].value) == 0),
		      "content-type #%zu: type %d '%s', %s %d '%s'", i, tok, tok ? type : "", params[i].name, pok,
		      pok ? value : "");
		free(b);
	}
	{
		char small[4];
		const char *v = "a/b; boundary=abcd";
		CHECK(!mail_param(v, strlen(v), "boundary", small, sizeof(small)) && small[0] == '\0',
		      "a parameter that does not fit is not found");
		CHECK(!mail_content_type("text/plain", 10, small, sizeof(small)), "a type that does not fit is refused");
	}
	{
		char tok[32];
		mail_token_lower(" Quoted-Printable (c)", 21, tok, sizeof(tok));
		CHECK(strcmp(tok, "quoted-printable") == 0, "token lower: '%s'", tok);
		mail_token_lower(" (only a comment)", 17, tok, sizeof(tok));
		CHECK(strcmp(tok, "") == 0, "token lower of nothing: '%s'", tok);
	}
}

int main(void)
{
	test_cases();
	test_every_cut();
	test_long_values();
	test_params();
	return unit_done();
}
