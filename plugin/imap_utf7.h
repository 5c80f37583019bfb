/*
 * imap_utf7.h - mailbox names in IMAP's modified UTF-7 (RFC 3501 §5.1.3).
 *
 * Contract: imap_utf7_encode() writes the NUL-terminated encoding of a
 * UTF-8 name into dst ("Entwürfe" -> "Entw&APw-rfe", "&" -> "&-") and
 * returns its length, or -1 if the input is not UTF-8 or dst (dstlen
 * bytes with the NUL) is too small.  Pure: no allocation, no state.
 */
#ifndef MAIL_E2E_IMAP_UTF7_H
#define MAIL_E2E_IMAP_UTF7_H

#include <stddef.h>

int imap_utf7_encode(const char *utf8, char *dst, size_t dstlen);

#endif
