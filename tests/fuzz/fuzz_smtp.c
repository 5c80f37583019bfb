/*
 * fuzz_smtp.c - libFuzzer target for the code that reads server replies as
 * libcurl reports them (plugin/conn.c): SMTP reply codes, EHLO AUTH
 * detection, TLS notes, trace redaction of client lines.  The first byte
 * picks the protocol and how the rest is split into debug-callback chunks.
 */
#include <stdint.h>
#include <string.h>

#include "conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const curl_infotype types[] = { CURLINFO_HEADER_IN, CURLINFO_HEADER_OUT,
	                                       CURLINFO_TEXT, CURLINFO_DATA_OUT };
	struct conn_watch w;
	char redacted[64];
	size_t off = 1;

	if (size < 2)
		return 0;
	memset(&w, 0, sizeof(w));
	w.fd = CURL_SOCKET_BAD;
	w.needs_auth = data[0] & 2;   /* the EHLO cut-off path too, on no socket */
	w.proto = (data[0] & 1) ? CONN_IMAP : CONN_SMTP;
	while (off < size) {
		size_t chunk = 1 + data[off] % 97;
		curl_infotype t = types[data[off] % 4];
		off++;
		if (chunk > size - off)
			chunk = size - off;
		conn_watch_feed(&w, t, (const char *)data + off, chunk);
		off += chunk;
	}
	{
		char line[256];
		size_t n = size - 1 < sizeof(line) - 1 ? size - 1 : sizeof(line) - 1;
		memcpy(line, data + 1, n);
		line[n] = '\0';
		conn_redact_client_line(w.proto, line, redacted, sizeof(redacted));
	}
	return 0;
}
