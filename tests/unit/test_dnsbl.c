/*
 * test_dnsbl.c - table-driven tests of the pure DNSBL parts
 * (plugin/dnsbl.c): the TCP-info address of Received headers written by
 * Postfix, Sendmail, Exim, Microsoft 365 / Exchange, Gmail, qmail and
 * friends (each sample says where it comes from), the hop choice, the
 * private ranges at each boundary, query names (RFC 5782's examples),
 * answers with Spamhaus' error codes, and the dnsbl key.  Linked alone with
 * mail_header.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dnsbl.h"
#include "unit.h"

/* --- one Received value ----------------------------------------------------- */

static const struct rcv_case {
	const char *name, *value;
	const char *addr;          /* NULL: none */
} rcvs[] = {
	/* Postfix: lists.debian.org -> lfdr.de (2024-10-15), vger -> lfdr.de */
	{ "Postfix", " from bendel.debian.org (bendel.debian.org [82.195.75.100])\r\n"
	  "\tby mail.lfdr.de (Postfix) with ESMTPS id E9E3899F2A3\r\n"
	  "\tfor <lists+nbd@lfdr.de>; Tue, 15 Oct 2024 18:24:11 +0200 (CEST)", "82.195.75.100" },
	{ "Postfix IPv6", " from out1.vger.email (out1.vger.email [IPv6:2620:137:e000::1:20])\n"
	  "\tby mail.lfdr.de (Postfix) with ESMTP id 6D1315A7EBE", "2620:137:e000::1:20" },
	{ "Postfix HELO literal, loopback client", " from [10.30.226.235] (localhost [IPv6:::1])\n"
	  "\tby aws-us-west-2-korg-oddjob-rhel9-1.codeaurora.org (Postfix) with ESMTP id EB222380AA70", "::1" },
	{ "Postfix unknown", " from redhat.com (unknown [10.39.194.132])\n"
	  "\tby mx-prod-int-02.mail-002.prod.us-west-2.aws.redhat.com (Postfix) with ESMTPS id 1C0C11956086",
	  "10.39.194.132" },
	{ "Postfix amavis reinjection", " from localhost (localhost [127.0.0.1])\n"
	  "\tby bendel.debian.org (Postfix) with QMQP\n\tid D005120702; Tue, 15 Oct 2024 16:24:11 +0000 (UTC)",
	  "127.0.0.1" },
	/* amavisd-new's own line (lists.debian.org): the address in the from
	 * clause, never the one after "by localhost" */
	{ "amavis", " from bendel.debian.org ([127.0.0.1])\n\tby localhost (lists.debian.org [127.0.0.2])"
	  " (amavisd-new, port 2525)\n\twith ESMTP id PC61M1UJU0Hu", "127.0.0.1" },
	/* Sendmail: ti.com (2025), outgoing.mit.edu (2019), Proofpoint */
	{ "Sendmail may be forged", " from hkshenoy.dhcp.ti.com (hkshenoy.dhcp.ti.com [172.24.235.208] (may be forged))\n"
	  "\tby lelvem-mr06.itg.ti.com (8.18.1/8.18.1) with ESMTP id 58T8daaT927539;\n"
	  "\tMon, 29 Sep 2025 03:40:20 -0500", "172.24.235.208" },
	{ "Sendmail authenticated", " from callcc.thunk.org (guestnat-104-133-0-109.corp.google.com\n"
	  " [104.133.0.109] (may be forged)) (authenticated bits=0)\n"
	  " (User authenticated as tytso@ATHENA.MIT.EDU)\n"
	  " by outgoing.mit.edu (8.14.7/8.12.4) with ESMTP id x5L0sK0h000800", "104.133.0.109" },
	{ "Proofpoint", " from pps.filterd (prod-mail-ppoint7.akamai.com [127.0.0.1])\n"
	  "        by prod-mail-ppoint7.akamai.com (8.16.0.27/8.16.0.27) with SMTP id 09LL4Ki7010497", "127.0.0.1" },
	/* Exim ($sender_rcvhost): sirena.org.uk, pengutronix.de, your-server.de,
	 * infradead.org, xenproject.org, gnu.org */
	{ "Exim name + helo", " from cpc102320-sgyl38-2-0-cust46.18-2.cable.virginm.net ([82.37.168.47]"
	  " helo=ypsilon.sirena.org.uk)\n        by heliosphere.sirena.org.uk with esmtpsa"
	  " (TLS1.3:ECDHE_RSA_AES_256_GCM_SHA384:256)\n        (Exim 4.92)", "82.37.168.47" },
	{ "Exim helo is a literal", " from ptz.office.stw.pengutronix.de ([2a0a:edc0:0:900:1d::77] helo=[127.0.0.1])\n"
	  "\tby metis.whiteo.stw.pengutronix.de with esmtp (Exim 4.92)", "2a0a:edc0:0:900:1d::77" },
	{ "Exim literal + helo", " from [85.1.206.226] (helo=linux-2.home)\n"
	  "        by sslproxy03.your-server.de with esmtpsa (TLSv1.3:TLS_AES_256_GCM_SHA384:256)\n"
	  "        (Exim 4.92)", "85.1.206.226" },
	{ "Exim IPv6 literal alone", " from [2601:1c0:6280:3f0::34d9]\n"
	  "        by bombadil.infradead.org with esmtpsa (Exim 4.92.3 #3 (Red Hat Linux))", "2601:1c0:6280:3f0::34d9" },
	{ "Exim folded comment", " from se1-gles-flk1-in.inumbo.com ([94.247.172.50]\n"
	  " helo=se1-gles-flk1.inumbo.com)\n by lists.xenproject.org with esmtp (Exim 4.92)", "94.247.172.50" },
	{ "Exim loopback", " from localhost ([::1] helo=lists1p.gnu.org)\n"
	  "\tby lists.gnu.org with esmtp (Exim 4.90_1)", "::1" },
	{ "Exim literal loopback", " from [::1] (helo=lists1p.gnu.org)\n\tby lists.gnu.org with esmtp (Exim 4.90_1)", "::1" },
	{ "Exim ident only", " from list by lists.xenproject.org with outflank-mailman.668743.1041136 (Exim 4.92)", NULL },
	/* Exim spec, $sender_rcvhost: "port=xxxx" inside the parentheses when
	 * the first item is an address; ":port" after the address otherwise */
	{ "Exim port=", " from [192.0.2.7] (port=41234 helo=client.example)\n\tby mx.example with esmtp (Exim 4.96)",
	  "192.0.2.7" },
	{ "Exim [IP]:port", " from client.example ([192.0.2.8]:41234 helo=client.example)\n\tby mx.example with esmtp",
	  "192.0.2.8" },
	{ "Exim from host (helo=x) [IP]", " from host.example (helo=client.example) [198.51.100.23]\n"
	  "\tby mx.example with esmtp", "198.51.100.23" },
	/* Microsoft 365 / Exchange: amd.com via protection.outlook.com (2024) */
	{ "Microsoft 365 inbound", " from SATLEXMB04.amd.com (165.204.84.17) by\n"
	  " SJ5PEPF000001CD.mail.protection.outlook.com (10.167.242.42) with Microsoft\n"
	  " SMTP Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) id\n"
	  " 15.20.7202.16 via Frontend Transport; Thu, 18 Jan 2024 12:06:52 +0000", "165.204.84.17" },
	{ "Microsoft 365 internal, folded", " from SJ5PEPF000001CD.namprd05.prod.outlook.com\n"
	  " (2603:10b6:a03:d4:cafe::c9) by BYAPR06CA0036.outlook.office365.com\n"
	  " (2603:10b6:a03:d4::49) with Microsoft SMTP Server (version=TLS1_2,\n"
	  " cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7202.24 via Frontend\n"
	  " Transport; Thu, 18 Jan 2024 12:06:52 +0000", "2603:10b6:a03:d4:cafe::c9" },
	{ "Exchange HELO literal", " from [10.254.94.9] (10.180.168.240) by SATLEXMB04.amd.com\n"
	  " (10.181.40.145) with Microsoft SMTP Server (version=TLS1_2,\n"
	  " cipher=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) id 15.1.2507.39", "10.180.168.240" },
	/* Halon (inumbo.com, 2024) */
	{ "Halon", " from NAM10-BN7-obe.outbound.protection.outlook.com\n"
	  " (mail-bn7nam10on20600.outbound.protection.outlook.com\n [2a01:111:f403:2009::600])\n"
	  " by se1-gles-flk1.inumbo.com (Halon) with ESMTPS\n id 13d50504-b5fa-11ee-9b0f-b553b5be7939;",
	  "2a01:111:f403:2009::600" },
	/* Gmail: mx.google.com (2017), smtp.gmail.com submissions (2023, 2026),
	 * an old blank inside the comment (2008), Google's internal hops */
	{ "Gmail MX", " from mga07.intel.com (mga07.intel.com. [134.134.136.100])\n"
	  "        by mx.google.com with ESMTPS id n9si146219pll.307.2017.09.27.16.56.22", "134.134.136.100" },
	{ "Gmail submission", " from [10.156.60.236] (ip-037-024-206-209.um08.pools.vodafone-ip.de.\n"
	  " [37.24.206.209]) by smtp.gmail.com with ESMTPSA id\n"
	  " er22-20020a056402449600b0055291f03be2sm147803edb.83.2023.12.14.08.43.13", "37.24.206.209" },
	{ "Gmail submission IPv6", " from [127.0.0.2] ([2a02:8109:d906:4e00:c19a:7fb7:2411:8ce8])\n"
	  "        by smtp.gmail.com with ESMTPSA id ffacd0b85a97d-48c71d3d3eesm5600903f8f.53",
	  "2a02:8109:d906:4e00:c19a:7fb7:2411:8ce8" },
	{ "Gmail 2008 blank", " from scientist-2.lan ( [213.140.22.65])\n"
	  "        by mx.google.com with ESMTPS id l19sm7304410fgb.9.2008.05.12.22.08.21", "213.140.22.65" },
	{ "Google internal by", " by 2002:a05:6a10:9e4c:b0:5c1:2b3a:7f00 with SMTP id abc;", NULL },
	{ "Google internal by IPv4", " by 10.86.92.7 with SMTP id p7mr15645159fgb.72.1210655302147;", NULL },
	/* qmail and friends: MessageLabs (2020), qpsmtpd (2015), IronPort
	 * (2023), Haraka (2022), vger's zmailer (2022), qmail-smtpd's
	 * "(remoteinfo@remoteip)" form */
	{ "qmail comment only", " (qmail 15005 invoked by uid 990); 31 Aug 2022 13:23:14 -0000", NULL },
	{ "qmail MessageLabs", " from unknown (HELO lenovo.com) (103.30.234.5)\n"
	  " by server-8.tower-406.messagelabs.com with ECDHE-RSA-AES256-GCM-SHA384\n encrypted SMTP;", "103.30.234.5" },
	{ "qpsmtpd", " from Unknown (HELO peff.net) (10.0.1.1)\n"
	  "    by cloud.peff.net (qpsmtpd/0.84) with SMTP; Thu, 28 May 2015 02:51:45 -0500", "10.0.1.1" },
	{ "IronPort", " from unknown (HELO email.microchip.com) ([170.129.1.10])\n"
	  "  by esa4.microchip.iphmx.com with ESMTP/TLS/AES256-SHA256; 16 May 2023 13:14:19 -0700", "170.129.1.10" },
	{ "Haraka", " from unknown (HELO unkown) (::1)\n"
	  "        by giacobini.uberspace.de (Haraka/2.8.28) with ESMTPSA; Wed, 31 Aug 2022 15:23:14 +0200", "::1" },
	{ "qmail remoteinfo@ip", " from unknown (HELO mail.example.net) (postmaster@203.0.113.9)\n"
	  "  by mx.example with SMTP; 1 Dec 2026 21:00:00 -0000", "203.0.113.9" },
	{ "zmailer (vger)", " from lindbergh.monkeyblade.net ([23.128.96.19]:37902 \"EHLO\n"
	  "        lindbergh.monkeyblade.net\" rhost-flags-OK-OK-OK-OK) by vger.kernel.org\n"
	  "        with ESMTP id S229547AbiHaNaD", "23.128.96.19" },
	{ "Yahoo NNFMP", " from [127.0.0.1] by omp107.mail.re1.yahoo.com with NNFMP; 30 Mar 2008 14:36:14 -0000",
	  "127.0.0.1" },
	/* never the HELO name */
	{ "HELO literal in a comment", " from unknown (HELO [192.168.1.10]) (203.0.113.5)\n  by mx with SMTP;",
	  "203.0.113.5" },
	{ "EHLO literal quoted", " from x ([198.51.100.1]:1 \"EHLO [10.0.0.1]\") by y", "198.51.100.1" },
	{ "only a HELO literal in a comment", " from unknown (HELO [192.168.1.10]) by mx with SMTP;", NULL },
	{ "helo= literal only", " from x (helo=[192.0.2.1]) by y", NULL },
	{ "HELO name that looks like an IP", " from 192.0.2.50 (unknown [198.51.100.50]) by y", "198.51.100.50" },
	{ "bare name that looks like an IP", " from 192.0.2.50 by y", NULL },
	/* IPv4-mapped (a dual-stack listener, RFC 4291 2.5.5.2) */
	{ "IPv4-mapped", " from host.example (host.example [::ffff:192.0.2.44]) by y", "192.0.2.44" },
	{ "IPv4-mapped with IPv6: prefix", " from h (h [IPv6:::FFFF:198.51.100.7]) by y", "198.51.100.7" },
	/* cut and garbage */
	{ "comment never closed", " from mail.example (mail.example [192.0.2.1", NULL },
	{ "comment never closed after HELO literal", " from [10.0.0.1] (unknown [203.0.113.5", NULL },
	{ "bracket never closed", " from [192.0.2.1", NULL },
	{ "IPv6 cut inside a closed comment", " from x (2603:10b6:a03:d4:cafe::c) by y", "2603:10b6:a03:d4:cafe::c" },
	{ "empty", "", NULL },
	{ "from alone", " from", NULL },
	{ "from and an open comment", " from (", NULL },
	{ "bad octet", " from x (y [999.1.1.1]) by z", NULL },
	{ "port not digits", " from x ([192.0.2.1]:port) by z", NULL },
	{ "port empty", " from x ([192.0.2.1]:) by z", NULL },
	{ "text after bracket", " from x ([192.0.2.1]x) by z", NULL },
	{ "leading zero octet", " from x ([192.0.2.01]) by z", NULL },
	{ "from inside a comment", " (from [192.0.2.1]) by z", NULL },
	{ "by first", " by mx.example (Postfix) from [192.0.2.1]", NULL },
	{ "address after by", " from x by y ([192.0.2.1])", NULL },
	{ "address after with", " from x with ESMTP [192.0.2.1]", NULL },
	{ "semicolon ends the clause", " from x; ([192.0.2.1])", NULL },
	{ "nested comment", " from x (y (z [192.0.2.9])) by w", "192.0.2.9" },
	{ "escaped paren", " from x (a\\) [192.0.2.10]) by w", "192.0.2.10" },
	{ "quoted name", " from \"x y\" (z [192.0.2.11]) by w", "192.0.2.11" },
	{ "two at signs", " from x (a@b@192.0.2.1) by w", NULL },
	{ "IPv6 zone id", " from x ([fe80::1%eth0]) by w", NULL },
	{ "too long for an address", " from x ([1111:2222:3333:4444:5555:6666:7777:8888:9999]) by w", NULL },
	{ "upper-case FROM", " FROM x (y [192.0.2.12]) BY z", "192.0.2.12" },
};

static void test_received(void)
{
	for (size_t i = 0; i < sizeof(rcvs) / sizeof(rcvs[0]); i++) {
		const struct rcv_case *c = &rcvs[i];
		size_t len = strlen(c->value);
		char *b = malloc(len ? len : 1);   /* exact size: ASan sees overreads */
		struct dnsbl_addr a;
		bool got;

		memcpy(b, c->value, len);
		memset(&a, 0, sizeof(a));
		got = dnsbl_received_addr(b, len, &a);
		CHECK(c->addr ? got && strcmp(a.text, c->addr) == 0 : !got,
		      "received %s: %s", c->name, got ? a.text : "(none)");
		free(b);
	}
}

/* --- the hop ---------------------------------------------------------------- */

/* lists.debian.org -> lfdr.de (2024-10-15), the Received lines in order. */
#define PATH_DEBIAN \
	"Return-Path: <bounce-nbd=lists+nbd=lfdr.de@other.debian.org>\r\n" \
	"Received: from bendel.debian.org (bendel.debian.org [82.195.75.100])\r\n" \
	"\tby mail.lfdr.de (Postfix) with ESMTPS id E9E3899F2A3\r\n" \
	"\tfor <lists+nbd@lfdr.de>; Tue, 15 Oct 2024 18:24:11 +0200 (CEST)\r\n" \
	"Received: from localhost (localhost [127.0.0.1])\r\n" \
	"\tby bendel.debian.org (Postfix) with QMQP\r\n" \
	"\tid D005120702; Tue, 15 Oct 2024 16:24:11 +0000 (UTC)\r\n" \
	"X-Spam-Status: No, score=3.3 required=4.0\r\n" \
	"Received: from localhost (localhost [127.0.0.1])\r\n" \
	"\tby bendel.debian.org (Postfix) with ESMTP id BA4B02064E\r\n" \
	"Received: from bendel.debian.org ([127.0.0.1])\r\n" \
	"\tby localhost (lists.debian.org [127.0.0.1]) (amavisd-new, port 2525)\r\n" \
	"\twith ESMTP id PC61M1UJU0Hu\r\n" \
	"Received: from us-smtp-delivery-124.mimecast.com (us-smtp-delivery-124.mimecast.com [170.10.133.124])\r\n" \
	"\tby bendel.debian.org (Postfix) with ESMTP id 471C920559\r\n" \
	"Received: from mx-prod-mc-04.mail-002.prod.us-west-2.aws.redhat.com\r\n" \
	" (ec2-54-186-198-63.us-west-2.compute.amazonaws.com [54.186.198.63]) by\r\n" \
	" relay.mimecast.com with ESMTP with STARTTLS (version=TLSv1.3,\r\n" \
	" cipher=TLS_AES_256_GCM_SHA384) id us-mta-390-TANJWY-JO6-vvKVYDGmSfQ-1\r\n" \
	"Received: from redhat.com (unknown [10.39.194.132])\r\n" \
	"\tby mx-prod-int-02.mail-002.prod.us-west-2.aws.redhat.com (Postfix) with ESMTPS id 1C0C11956086\r\n" \
	"Subject: Re: Kernel NBD client waits on wrong cookie\r\n" \
	"\r\n" \
	"Received: from body.example ([192.0.2.99]) by x\r\n"

/* As a Microsoft 365 mailbox sees it (amd.com, 2024-01-18): the topmost
 * public address is Microsoft's own; dnsbl_hop = 3 names the sender. */
#define PATH_M365 \
	"Received: from BYAPR06CA0036.namprd06.prod.outlook.com (2603:10b6:a03:d4::49)\r\n" \
	" by CH3PR12MB8548.namprd12.prod.outlook.com (2603:10b6:610:165::12)\r\n" \
	" with Microsoft SMTP Server id 15.20.7202.24; Thu, 18 Jan 2024 12:06:53 +0000\r\n" \
	"Received: from SJ5PEPF000001CD.namprd05.prod.outlook.com\r\n" \
	" (2603:10b6:a03:d4:cafe::c9) by BYAPR06CA0036.outlook.office365.com\r\n" \
	" (2603:10b6:a03:d4::49) with Microsoft SMTP Server id 15.20.7202.24\r\n" \
	"Received: from SATLEXMB04.amd.com (165.204.84.17) by\r\n" \
	" SJ5PEPF000001CD.mail.protection.outlook.com (10.167.242.42) with Microsoft\r\n" \
	" SMTP Server id 15.20.7202.16 via Frontend Transport; Thu, 18 Jan 2024 12:06:52 +0000\r\n" \
	"Received: from SATLEXMB04.amd.com (10.181.40.145) by SATLEXMB04.amd.com\r\n" \
	" (10.181.40.145) with Microsoft SMTP Server id 15.1.2507.34\r\n"

/* A test world on loopback: every hop private. */
#define PATH_LOOPBACK \
	"Received: from localhost (localhost [127.0.0.1])\n\tby mx.test (Postfix) with ESMTP id 1\n" \
	"X-Received: from x ([8.8.8.8]) by y\n" \
	"Received: from client.test (unknown [10.1.2.3])\n\tby mx.test (Postfix) with ESMTPS id 2\n" \
	"Received: by client.test (Postfix, from userid 0) id 3\n"

static const struct pick_case {
	const char *name, *block;
	int hop;
	enum dnsbl_pick want;
	const char *addr;
} picks[] = {
	{ "debian unset: topmost public", PATH_DEBIAN, 0, DNSBL_PICKED, "82.195.75.100" },
	{ "debian hop 1", PATH_DEBIAN, 1, DNSBL_PICKED, "82.195.75.100" },
	{ "debian hop 2 private looked up", PATH_DEBIAN, 2, DNSBL_PICKED, "127.0.0.1" },
	{ "debian hop 5", PATH_DEBIAN, 5, DNSBL_PICKED, "170.10.133.124" },
	{ "debian hop 6 folded", PATH_DEBIAN, 6, DNSBL_PICKED, "54.186.198.63" },
	{ "debian hop 7", PATH_DEBIAN, 7, DNSBL_PICKED, "10.39.194.132" },
	{ "debian hop 8: body not read", PATH_DEBIAN, 8, DNSBL_NO_HEADER, NULL },
	{ "debian negative hop is unset", PATH_DEBIAN, -3, DNSBL_PICKED, "82.195.75.100" },
	{ "M365 unset: Microsoft's own hop", PATH_M365, 0, DNSBL_PICKED, "2603:10b6:a03:d4::49" },
	{ "M365 hop 3: the sender", PATH_M365, 3, DNSBL_PICKED, "165.204.84.17" },
	{ "M365 hop 4 private", PATH_M365, 4, DNSBL_PICKED, "10.181.40.145" },
	{ "loopback unset: no public", PATH_LOOPBACK, 0, DNSBL_NO_PUBLIC, NULL },
	{ "loopback hop 1", PATH_LOOPBACK, 1, DNSBL_PICKED, "127.0.0.1" },
	{ "loopback hop 2 skips X-Received", PATH_LOOPBACK, 2, DNSBL_PICKED, "10.1.2.3" },
	{ "loopback hop 3 has no address", PATH_LOOPBACK, 3, DNSBL_NO_ADDRESS, NULL },
	{ "loopback hop 4 missing", PATH_LOOPBACK, 4, DNSBL_NO_HEADER, NULL },
	{ "no Received", "Subject: s\r\n\r\n", 0, DNSBL_NO_HEADER, NULL },
	{ "no Received, hop 1", "Subject: s\r\n\r\n", 1, DNSBL_NO_HEADER, NULL },
	{ "empty block", "", 0, DNSBL_NO_HEADER, NULL },
	{ "only unreadable", "Received: garbage\r\nReceived: (qmail 1 invoked by uid 0)\r\n", 0, DNSBL_NO_PUBLIC, NULL },
	{ "skips an unreadable top", "Received: garbage\r\nReceived: from a (b [192.0.2.1]) by c\r\n", 0, DNSBL_PICKED,
	  "192.0.2.1" },
	{ "cut block", "Received: from a (b [198.51.100.1]) by c\r\nReceived: from d (e [203.0.1", 0, DNSBL_PICKED,
	  "198.51.100.1" },
	{ "cut block, hop 2", "Received: from a (b [198.51.100.1]) by c\r\nReceived: from d (e [203.0.1", 2,
	  DNSBL_NO_ADDRESS, NULL },
};

static void test_pick(void)
{
	for (size_t i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
		const struct pick_case *c = &picks[i];
		size_t len = strlen(c->block);
		char *b = malloc(len ? len : 1);
		struct dnsbl_addr a;
		enum dnsbl_pick got;

		memcpy(b, c->block, len);
		got = dnsbl_pick(b, len, c->hop, &a);
		CHECK(got == c->want && (c->addr ? strcmp(a.text, c->addr) == 0 : a.text[0] == '\0'),
		      "pick %s: %d %s", c->name, (int)got, a.text);
		free(b);
	}
}

/* --- private ranges ---------------------------------------------------------- */

static const struct public_case {
	const char *addr;
	bool pub;
} publics[] = {
	{ "0.0.0.0", false }, { "0.255.255.255", false }, { "1.0.0.0", true },
	{ "9.255.255.255", true }, { "10.0.0.0", false }, { "10.255.255.255", false }, { "11.0.0.0", true },
	{ "100.63.255.255", true }, { "100.64.0.0", false }, { "100.127.255.255", false }, { "100.128.0.0", true },
	{ "126.255.255.255", true }, { "127.0.0.0", false }, { "127.0.0.1", false }, { "127.255.255.255", false },
	{ "128.0.0.0", true }, { "169.253.255.255", true }, { "169.254.0.0", false }, { "169.254.255.255", false },
	{ "169.255.0.0", true }, { "172.15.255.255", true }, { "172.16.0.0", false }, { "172.31.255.255", false },
	{ "172.32.0.0", true }, { "192.167.255.255", true }, { "192.168.0.0", false }, { "192.168.255.255", false },
	{ "192.169.0.0", true }, { "192.0.2.1", true }, { "8.8.8.8", true }, { "255.255.255.255", true },
	{ "::1", false }, { "::", false }, { "::2", true }, { "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "fc00::", false }, { "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false }, { "fe00::", true },
	{ "fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true }, { "fe80::", false },
	{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false }, { "fec0::", true }, { "2001:db8::1", true },
	{ "2a00:1450:4001::1", true }, { "::ffff:10.0.0.1", false }, { "::ffff:8.8.8.8", true },
	{ "::ffff:127.0.0.1", false },
};

static void test_public(void)
{
	struct dnsbl_addr a;

	for (size_t i = 0; i < sizeof(publics) / sizeof(publics[0]); i++) {
		bool parsed = dnsbl_parse_addr(publics[i].addr, strlen(publics[i].addr), &a);
		CHECK(parsed && dnsbl_is_public(&a) == publics[i].pub, "public %s: %d", publics[i].addr,
		      parsed ? dnsbl_is_public(&a) : -1);
	}
	CHECK(dnsbl_parse_addr("::ffff:192.0.2.1", 16, &a) && a.family == AF_INET && strcmp(a.text, "192.0.2.1") == 0,
	      "IPv4-mapped becomes IPv4: %s", a.text);
	CHECK(dnsbl_parse_addr("2001:DB8:0:0::1", 15, &a) && a.family == AF_INET6 && strcmp(a.text, "2001:db8::1") == 0,
	      "IPv6 text is canonical: %s", a.text);
	CHECK(!dnsbl_parse_addr("192.0.2.1\0", 10, &a) && !dnsbl_parse_addr("", 0, &a) &&
	      !dnsbl_parse_addr("1.2.3", 5, &a) && !dnsbl_parse_addr("IPv6:::1", 8, &a),
	      "not addresses: NUL inside, empty, three octets, prefix");
	memset(&a, 0, sizeof(a));
	CHECK(!dnsbl_is_public(&a), "no family is not public");
}

/* --- query names -------------------------------------------------------------- */

static const struct name_case {
	const char *addr, *zone;
	size_t cap;
	const char *want;          /* NULL: refused */
} names[] = {
	/* RFC 5782 2.1 and 2.4 */
	{ "192.0.2.99", "bad.example.com", DNSBL_NAME_MAX, "99.2.0.192.bad.example.com" },
	{ "2001:db8:1:2:3:4:567:89ab", "ugly.example.com", DNSBL_NAME_MAX,
	  "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com" },
	{ "127.0.0.2", "zen.spamhaus.org.", DNSBL_NAME_MAX, "2.0.0.127.zen.spamhaus.org" },
	{ "::1", "bl.test", DNSBL_NAME_MAX,
	  "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.test" },
	{ "10.20.30.40", "BL.Example_1-x.test", DNSBL_NAME_MAX, "40.30.20.10.BL.Example_1-x.test" },
	{ "192.0.2.99", "bad.example.com", 27, "99.2.0.192.bad.example.com" },   /* exact fit */
	{ "192.0.2.99", "bad.example.com", 26, NULL },
	{ "192.0.2.99", "bad.example.com", 0, NULL },
	{ "192.0.2.99", "", DNSBL_NAME_MAX, NULL },
	{ "192.0.2.99", ".", DNSBL_NAME_MAX, NULL },
	{ "192.0.2.99", ".bl.test", DNSBL_NAME_MAX, NULL },
	{ "192.0.2.99", "bl..test", DNSBL_NAME_MAX, NULL },
	{ "192.0.2.99", "bl.test..", DNSBL_NAME_MAX, NULL },
	{ "192.0.2.99", "bl test", DNSBL_NAME_MAX, NULL },
	{ "192.0.2.99", "bl.t\xc3\xa9st", DNSBL_NAME_MAX, NULL },
};

static void test_names(void)
{
	/* Two 63-byte labels and a 61-byte one: 189 bytes, the longest zone. */
	char l63[64], zone189[200], zone190[200], label64[80], out[DNSBL_NAME_MAX];
	struct dnsbl_addr a;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct name_case *c = &names[i];
		bool ok;
		char buf[DNSBL_NAME_MAX] = "x";
		dnsbl_parse_addr(c->addr, strlen(c->addr), &a);
		ok = dnsbl_query_name(&a, c->zone, buf, c->cap);
		CHECK(c->want ? ok && strcmp(buf, c->want) == 0 : !ok && (c->cap == 0 ? buf[0] == 'x' : buf[0] == '\0'),
		      "name %s in '%s' cap %zu: %d %s", c->addr, c->zone, c->cap, ok, buf);
	}
	memset(l63, 'a', 63);
	l63[63] = '\0';
	snprintf(zone189, sizeof(zone189), "%s.%s.%.61s", l63, l63, l63);
	snprintf(zone190, sizeof(zone190), "%s.%s.%.62s", l63, l63, l63);
	snprintf(label64, sizeof(label64), "%sa.test", l63);
	dnsbl_parse_addr("2001:db8::1", 11, &a);
	CHECK(strlen(zone189) == 189 && dnsbl_query_name(&a, zone189, out, sizeof(out)) && strlen(out) == 253,
	      "a 189-byte zone makes a 253-byte IPv6 name (%zu)", strlen(out));
	CHECK(strlen(zone190) == 190 && !dnsbl_query_name(&a, zone190, out, sizeof(out)), "a 190-byte zone is refused");
	CHECK(!dnsbl_query_name(&a, label64, out, sizeof(out)), "a 64-byte label is refused");
	CHECK(!dnsbl_query_name(&a, NULL, out, sizeof(out)), "no zone");
	memset(&a, 0, sizeof(a));
	CHECK(!dnsbl_query_name(&a, "bl.test", out, sizeof(out)), "no address");
}

/* --- answers --------------------------------------------------------------------- */

static const struct judge_case {
	const char *name;
	uint8_t rec[3][4];
	size_t n;
	enum dnsbl_answer want;
	const char *note;
} judges[] = {
	{ "no record (NXDOMAIN/NODATA)", { { 0 } }, 0, DNSBL_NOT_LISTED, "" },
	{ "127.0.0.2 (RFC 5782 test entry)", { { 127, 0, 0, 2 } }, 1, DNSBL_LISTED, "127.0.0.2" },
	{ "127.0.0.10 (Spamhaus PBL)", { { 127, 0, 0, 10 } }, 1, DNSBL_LISTED, "127.0.0.10" },
	{ "127.0.0.0", { { 127, 0, 0, 0 } }, 1, DNSBL_LISTED, "127.0.0.0" },
	{ "127.255.254.255 just below the error range", { { 127, 255, 254, 255 } }, 1, DNSBL_LISTED, "127.255.254.255" },
	{ "127.254.255.1", { { 127, 254, 255, 1 } }, 1, DNSBL_LISTED, "127.254.255.1" },
	{ "127.255.255.0 error range start", { { 127, 255, 255, 0 } }, 1, DNSBL_ERROR_CODE, "127.255.255.0: error code" },
	{ "127.255.255.252 typo", { { 127, 255, 255, 252 } }, 1, DNSBL_ERROR_CODE,
	  "127.255.255.252: typing error in the DNSBL name" },
	{ "127.255.255.254 public resolver", { { 127, 255, 255, 254 } }, 1, DNSBL_ERROR_CODE,
	  "127.255.255.254: query via a public/open resolver" },
	{ "127.255.255.255 excessive queries", { { 127, 255, 255, 255 } }, 1, DNSBL_ERROR_CODE,
	  "127.255.255.255: excessive number of queries" },
	{ "error code and a listing: listed", { { 127, 255, 255, 254 }, { 127, 0, 0, 4 } }, 2, DNSBL_LISTED, "127.0.0.4" },
	{ "two listings: the first", { { 127, 0, 0, 3 }, { 127, 0, 0, 2 } }, 2, DNSBL_LISTED, "127.0.0.3" },
	{ "outside 127/8", { { 10, 0, 0, 1 } }, 1, DNSBL_NOT_LISTED, "answer 10.0.0.1 is not in 127.0.0.0/8" },
	{ "126.255.255.255", { { 126, 255, 255, 255 } }, 1, DNSBL_NOT_LISTED,
	  "answer 126.255.255.255 is not in 127.0.0.0/8" },
	{ "128.0.0.1", { { 128, 0, 0, 1 } }, 1, DNSBL_NOT_LISTED, "answer 128.0.0.1 is not in 127.0.0.0/8" },
	{ "other and error code: error", { { 10, 1, 1, 1 }, { 127, 255, 255, 255 } }, 2, DNSBL_ERROR_CODE,
	  "127.255.255.255: excessive number of queries" },
	{ "other, error, listing: listed", { { 8, 8, 8, 8 }, { 127, 255, 255, 0 }, { 127, 1, 2, 3 } }, 3, DNSBL_LISTED,
	  "127.1.2.3" },
};

static void test_judge(void)
{
	char note[96];

	for (size_t i = 0; i < sizeof(judges) / sizeof(judges[0]); i++) {
		const struct judge_case *c = &judges[i];
		enum dnsbl_answer got = dnsbl_judge(c->rec, c->n, note, sizeof(note));
		CHECK(got == c->want && strcmp(note, c->note) == 0, "judge %s: %d '%s'", c->name, (int)got, note);
	}
	CHECK(dnsbl_judge(judges[8].rec, 1, note, 0) == DNSBL_ERROR_CODE, "judge with cap 0");
	CHECK(dnsbl_judge(judges[8].rec, 1, note, 8) == DNSBL_ERROR_CODE && strcmp(note, "127.255") == 0,
	      "judge note cut: '%s'", note);
}

/* --- the dnsbl key ---------------------------------------------------------------- */

static const struct zones_case {
	const char *list;
	bool valid;
	size_t count;
	const char *why;           /* start of the reason */
} zoneses[] = {
	{ NULL, true, 0, "" },
	{ "", true, 0, "" },
	{ "   ", true, 0, "" },
	{ "zen.spamhaus.org", true, 1, "" },
	{ "zen.spamhaus.org, bl.spamcop.net", true, 2, "" },
	{ " a.test ,\tb.test ", true, 2, "" },
	{ "bl.test.", true, 1, "" },
	{ "a.test,", false, 2, "dnsbl: item 2 \"\" is empty" },
	{ ",a.test", false, 2, "dnsbl: item 1 \"\" is empty" },
	{ "a.test,,b.test", false, 3, "dnsbl: item 2 \"\" is empty" },
	{ "a test", false, 1, "dnsbl: item 1 \"a test\" has a byte" },
	{ "a.test, A.TEST.", false, 2, "dnsbl: item 2 \"A.TEST.\" is listed twice" },
	{ "a..test", false, 1, "dnsbl: item 1 \"a..test\" has an empty label" },
	{ "a.test;b.test", false, 1, "dnsbl: item 1 \"a.test;b.test\" has a byte" },
};

static void test_zones(void)
{
	char why[128], out[64];
	bool listed[4] = { true, false, true, true };
	const char *list = "zen.spamhaus.org, bl.spamcop.net ,b.barracudacentral.org";

	for (size_t i = 0; i < sizeof(zoneses) / sizeof(zoneses[0]); i++) {
		const struct zones_case *c = &zoneses[i];
		bool ok = dnsbl_zones_valid(c->list, why, sizeof(why));
		CHECK(ok == c->valid && strncmp(why, c->why, strlen(c->why)) == 0 && (c->valid ? why[0] == '\0' : why[0] != '\0') &&
		      dnsbl_zone_count(c->list) == c->count,
		      "zones '%s': %d '%s' count %zu", c->list ? c->list : "(null)", ok, why, dnsbl_zone_count(c->list));
	}
	CHECK(dnsbl_zone_at(list, 1, out, sizeof(out)) && strcmp(out, "bl.spamcop.net") == 0, "zone_at 1: '%s'", out);
	CHECK(dnsbl_zone_at(list, 2, out, sizeof(out)) && strcmp(out, "b.barracudacentral.org") == 0, "zone_at 2: '%s'", out);
	CHECK(!dnsbl_zone_at(list, 3, out, sizeof(out)) && out[0] == '\0', "zone_at past the end");
	CHECK(!dnsbl_zone_at(list, 0, out, 16) && out[0] == '\0', "zone_at too small");
	CHECK(!dnsbl_zone_at("", 0, out, sizeof(out)) && !dnsbl_zone_at(NULL, 0, out, sizeof(out)), "zone_at empty list");

	CHECK(dnsbl_zones_join(list, listed, 3, out, sizeof(out)) == 2 &&
	      strcmp(out, "zen.spamhaus.org,b.barracudacentral.org") == 0, "join: '%s'", out);
	listed[0] = listed[2] = false;
	CHECK(dnsbl_zones_join(list, listed, 3, out, sizeof(out)) == 0 && out[0] == '\0', "join none: '%s'", out);
	listed[0] = listed[1] = listed[2] = true;
	CHECK(dnsbl_zones_join(list, listed, 3, out, sizeof(out)) == 3 &&
	      strcmp(out, "zen.spamhaus.org,bl.spamcop.net,b.barracudacentral.org") == 0, "join all: '%s'", out);
	CHECK(dnsbl_zones_join(list, listed, 2, out, sizeof(out)) == 2 &&
	      strcmp(out, "zen.spamhaus.org,bl.spamcop.net") == 0, "join fewer flags than zones: '%s'", out);
	CHECK(dnsbl_zones_join(list, listed, 3, out, 32) == 3 && strcmp(out, "zen.spamhaus.org,bl.spamcop.net") == 0,
	      "join cut at a zone: '%s'", out);
	CHECK(dnsbl_zones_join(list, listed, 3, out, 17) == 3 && strcmp(out, "zen.spamhaus.org") == 0,
	      "join first only: '%s'", out);
	CHECK(dnsbl_zones_join(list, listed, 3, out, 16) == 3 && out[0] == '\0', "join nothing fits: '%s'", out);
	CHECK(dnsbl_zones_join(list, listed, 3, out, strlen(list) + 1) == 3, "join with cap strlen(list)+1");
	CHECK(dnsbl_zones_join("", listed, 3, out, sizeof(out)) == 0 && out[0] == '\0', "join empty list");
}

int main(void)
{
	test_received();
	test_pick();
	test_public();
	test_names();
	test_judge();
	test_zones();
	return unit_done();
}
