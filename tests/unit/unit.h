/*
 * unit.h - the smallest table-driven test helper: TAP lines on stdout.
 *
 * Each test binary calls CHECK(cond, fmt, ...) once per table row and returns
 * unit_done() from main: exit status 0 only if every check passed and at
 * least one ran (a test that asserts nothing is a failure).
 */
#ifndef MAIL_E2E_UNIT_H
#define MAIL_E2E_UNIT_H

#include <stdio.h>

static int unit_n, unit_failed;

#define CHECK(cond, ...) do {                                        \
	unit_n++;                                                    \
	if (cond) {                                                  \
		printf("ok %d - ", unit_n);                          \
	} else {                                                     \
		unit_failed++;                                       \
		printf("not ok %d - %s:%d: ", unit_n, __FILE__, __LINE__); \
	}                                                            \
	printf(__VA_ARGS__);                                         \
	putchar('\n');                                               \
} while (0)

static inline int unit_done(void)
{
	printf("%d passed, %d failed\n", unit_n - unit_failed, unit_failed);
	return (unit_n == 0 || unit_failed) ? 1 : 0;
}

#endif
