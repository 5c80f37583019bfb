/*
 * stall_getaddrinfo.c - an LD_PRELOAD shim for tests: getaddrinfo() for the
 * host named in $STALL_HOST hangs for 60 s (a resolver that never answers),
 * every other name resolves as usual.  Built by the test that uses it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
	static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);
	const char *stall = getenv("STALL_HOST");

	if (node && stall && strcmp(node, stall) == 0) {
		sleep(60);
		return EAI_AGAIN;
	}
	if (!real)
		real = (int (*)(const char *, const char *, const struct addrinfo *,
		                struct addrinfo **))dlsym(RTLD_NEXT, "getaddrinfo");
	return real ? real(node, service, hints, res) : EAI_FAIL;
}
