/*
 * auth_methods.h - the authentication methods whose verdicts a delivered
 * probe reports (RFC 8601 Authentication-Results, SPEC §7), in one table.
 * The header reader (headers.c), the verdicts and require_auth
 * (verdict.c, config_keys.c, config_print.c), the output (output.c: tags
 * and JSON keys) and struct probe_result take the list from here, so a
 * method (BIMI, ...) is added in one line, plus its tests.
 *
 * AUTH_METHODS(X) calls X(ID, name, rule) once per method, in output
 * order:
 *  - name: the method as RFC 8601 registers it, lower case: the tag, the
 *    JSON key and the word in require_auth;
 *  - rule: AUTH_FIRST, the first result counts; AUTH_ANY_PASS, several
 *    results are usual (one per DKIM signature): "pass" if any passed,
 *    else the first.
 *
 * Header only: no state, nothing to link.
 */
#ifndef MAIL_E2E_AUTH_METHODS_H
#define MAIL_E2E_AUTH_METHODS_H

#define AUTH_METHODS(X) \
	X(SPF,   "spf",   AUTH_FIRST) \
	X(DKIM,  "dkim",  AUTH_ANY_PASS) \
	X(DMARC, "dmarc", AUTH_FIRST) \
	X(ARC,   "arc",   AUTH_FIRST)

enum auth_rule { AUTH_FIRST, AUTH_ANY_PASS };

/* AUTH_SPF = 0, AUTH_DKIM, ...; AUTH_N methods. */
enum auth_method {
#define AUTH_METHOD_ENUM(id, name, rule) AUTH_##id,
	AUTH_METHODS(AUTH_METHOD_ENUM)
#undef AUTH_METHOD_ENUM
	AUTH_N
};

/* A set of methods (route key require_auth) is a bit mask. */
#define AUTH_BIT(m) (1u << (m))
_Static_assert(AUTH_N <= 32, "require_auth holds the methods as bits of an unsigned");

/* A result word, lower case, cut, with its NUL ("" = not mentioned). */
#define AUTH_WORD_MAX 16

static inline const char *auth_method_name(enum auth_method m)
{
	static const char *const names[] = {
#define AUTH_METHOD_NAME(id, name, rule) name,
		AUTH_METHODS(AUTH_METHOD_NAME)
#undef AUTH_METHOD_NAME
	};
	return names[m];
}

static inline enum auth_rule auth_method_rule(enum auth_method m)
{
	static const enum auth_rule rules[] = {
#define AUTH_METHOD_RULE(id, name, rule) rule,
		AUTH_METHODS(AUTH_METHOD_RULE)
#undef AUTH_METHOD_RULE
	};
	return rules[m];
}

#endif
