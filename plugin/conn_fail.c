/*
 * conn_fail.c - what a leg's dialogue tells once it is over (see conn.h):
 * the words for a failure (TLS, SASL, this machine's own resources) and
 * where the time went (the steps of SPEC §11).  Reads a conn_watch and
 * libcurl's handle; never writes either.
 */
#include "conn.h"
#include "conn_mismatch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* What to change when the certificate cannot be trusted, where the
 * cause is known: a CA we were not told about, or the wrong one. */
static const char *ca_hint(long verify, bool ca_set)
{
	switch (verify) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return ca_set ? "; tls_ca does not hold the CA that signed this server's certificate"
		              : "; a private or self-signed CA: set tls_ca to its certificate (PEM file)";
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return "; connect by a name the certificate holds";
	default:
		return "";
	}
}

void conn_tls_error_text(CURL *h, const struct conn_watch *w, CURLcode code,
                         char *dst, size_t dstlen)
{
	const char *why = conn_error_text(w, code);
	long verify = 0;

	if (conn_mismatch_implicit_text(h, w, dst, dstlen))
		return;
	/* OpenSSL's verify result means something only once the server's
	 * certificate came, and not when it stayed X509_V_ERR_UNSPECIFIED
	 * (libcurl checks the host name itself, and says so in its text). */
	if (w->cert_seen && curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &verify) == CURLE_OK &&
	    verify != X509_V_OK && verify != X509_V_ERR_UNSPECIFIED)
		snprintf(dst, dstlen, "SSL certificate problem: %s (X509 error %ld)%s",
		         X509_verify_cert_error_string(verify), verify, ca_hint(verify, w->ca_set));
	else if (strstr(why, "target host name"))   /* libcurl: "... matches target host name" */
		snprintf(dst, dstlen, "%s%s", why, ca_hint(X509_V_ERR_HOSTNAME_MISMATCH, w->ca_set));
	else
		snprintf(dst, dstlen, "%s", why);
}

bool conn_sasl_challenge_text(const char *line, char *dst, size_t dstlen)
{
	unsigned bits = 0, nbits = 0;
	size_t n = 0, len;

	if (strncmp(line, "334 ", 4) == 0)
		line += 4;
	else if (strncmp(line, "+ ", 2) == 0)
		line += 2;
	else
		return false;
	/* Only a whole, padded base64 word counts: "+ idling" is not one. */
	len = strspn(line, B64);
	if (dstlen == 0 || len == 0 || strlen(line) % 4 != 0 ||
	    len + strspn(line + len, "=") != strlen(line))
		return false;
	for (; *line != '\0' && *line != '=' && n + 1 < dstlen; line++) {
		bits = (bits << 6) | (unsigned)(strchr(B64, *line) - B64);
		nbits += 6;
		if (nbits >= 8) {
			unsigned char c = (unsigned char)(bits >> (nbits - 8));
			nbits -= 8;
			bits &= (1u << nbits) - 1;
			dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
	}
	dst[n] = '\0';
	return n > 0;
}

static int64_t span(int64_t from, int64_t to)
{
	return from && to && to >= from ? to - from : -1;
}

void conn_steps(CURL *h, const struct conn_watch *w, struct conn_steps *out)
{
	curl_off_t us = 0;
	int64_t connected = w->t_connect_ns;

	/* libcurl's own connect time counts from its own start, and 7.88's
	 * comes late for the pingpong protocols: ours is the moment libcurl
	 * said it was connected; its figure only where ours is missing. */
	if (!connected && curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &us) == CURLE_OK && us > 0 &&
	    w->t_start_ns)
		connected = w->t_start_ns + (int64_t)us * 1000;
	out->connect = connected ? connected - w->t_start_ns : -1;
	/* Implicit TLS: the handshake comes first, the greeting after it. */
	out->tls = span(w->t_starttls_ns ? w->t_starttls_ns : connected, w->t_tls_ns);
	out->greeting = span(w->t_starttls_ns || !w->t_tls_ns ? connected : w->t_tls_ns, w->t_greeting_ns);
	out->auth = span(w->t_auth_ns, w->t_auth_done_ns);
}

bool conn_is_tls_error(CURLcode c)
{
	switch (c) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
		return true;
	default:
		return false;
	}
}

bool conn_local_resource_error(CURLcode code, const struct conn_watch *w,
                               char *dst, size_t dstlen)
{
	const char *why = conn_error_text(w, code);

	if (code == CURLE_OUT_OF_MEMORY)
		snprintf(dst, dstlen, "local resources: out of memory");
	else if (w->socket_errno)
		snprintf(dst, dstlen, "local resources: no socket: %s (open-file limit too low for this many routes?)",
		         strerror(w->socket_errno));
	else if (strstr(why, strerror(EMFILE)) || strstr(why, strerror(ENFILE)) ||
	         strstr(why, strerror(ENOMEM)) || strstr(why, strerror(ENOBUFS)))
		snprintf(dst, dstlen, "local resources: %s (open-file limit too low for this many routes?)", why);
	else if (code == CURLE_SSL_CACERT_BADFILE || code == CURLE_SSL_CRL_BADFILE)
		snprintf(dst, dstlen, "local CA file cannot be loaded: %s", why);
	else
		return false;
	return true;
}

const char *conn_error_text(const struct conn_watch *w, CURLcode code)
{
	return w->errbuf[0] ? w->errbuf : curl_easy_strerror(code);
}
