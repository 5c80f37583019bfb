/*
 * config_value.h - what every key rule does with a value: keep a copy of
 * it, and quote it safely when refusing it.  A leaf: config_keys.c,
 * config_mx.c and config_rep.c all call it, so none needs another for
 * these (before, two kept copies of their own to keep the arrows one way).
 *
 * Memory: config_keep() frees what *field held (wiped first) and stores a
 * copy the caller's struct then owns; config_drop_string() wipes and frees
 * one such field.  config_shown() writes into the caller's buffer.
 */
#ifndef MAIL_E2E_CONFIG_VALUE_H
#define MAIL_E2E_CONFIG_VALUE_H

#include <stddef.h>

/* A copy of value into *field, the old one dropped; -1 (why: "out of
 * memory") when no copy could be made, *field then unchanged. */
int config_keep(char **field, const char *value, char *why, size_t cap);
void config_drop_string(char **field);   /* wiped, freed, NULL */
/* v shown safely: control bytes as '?', cut to fit len with "...". */
const char *config_shown(const char *v, char *buf, size_t len);
/* why = 'TEXT "value"' (value shown safely, up to 76 bytes); returns -1. */
int config_refuse(const char *text, const char *value, char *why, size_t cap);

#endif
