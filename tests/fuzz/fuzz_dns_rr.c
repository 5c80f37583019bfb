/*
 * fuzz_dns_rr.c - libFuzzer target for the DNS rdata readers
 * (plugin/dns_rr.c): the input as MX, A/AAAA, TXT and TLSA rdata (in a
 * buffer of exactly its size), as a name and as a resolver value.
 * Checked: an MX name read is a valid name (or the root), a TXT text is
 * printable and fits, TLSA data is the input's tail, outputs stay
 * terminated inside their buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_rr.h"

static struct dns_tlsa tlsa;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *b = malloc(size ? size : 1);
	char text[DNS_NAME_MAX], txt[512], ip[DNS_ADDR_TEXT_MAX];
	unsigned pref;
	int port;

	if (!b)
		return 0;
	memcpy(b, data, size);
	if (dns_rr_mx(b, size, &pref, text, sizeof(text)) && text[0] && !dns_name_valid(text))
		abort();
	if (!memchr(text, '\0', sizeof(text)))
		abort();
	if (dns_rr_txt(b, size, txt, sizeof(txt)))
		for (const char *c = txt; *c; c++)
			if (*c < 0x20 || *c > 0x7e)
				abort();
	if (dns_rr_addr(b, size, ip, sizeof(ip)) && !memchr(ip, '\0', sizeof(ip)))
		abort();
	if (dns_rr_tlsa(b, size, &tlsa) && (tlsa.len != size - 3 || memcmp(tlsa.data, b + 3, tlsa.len) != 0))
		abort();
	if (size < sizeof(text)) {
		memcpy(text, b, size);
		text[size] = '\0';
		(void)dns_name_valid(text);
		if (dns_parse_server(text, ip, sizeof(ip), &port) && (port < 1 || port > 65535))
			abort();
	}
	free(b);
	return 0;
}
