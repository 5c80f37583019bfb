/*
 * result.c - see result.h.
 */
#include "result.h"

#include <string.h>

static const char *const names[] = {
#define RESULT_NAME(id, name, code, meaning) [code] = name,
	RESULT_CLASSES(RESULT_NAME)
#undef RESULT_NAME
};
/* Codes without gaps: every name is there, and RESULT_N counts them. */
_Static_assert(sizeof(names) / sizeof(names[0]) == RESULT_N, "result codes have a gap");

const char *result_name(enum result_class r)
{
	if ((unsigned)r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "internal_error";
}

bool result_from_name(const char *name, enum result_class *r)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i] && strcmp(names[i], name) == 0) {
			*r = (enum result_class)i;
			return true;
		}
	return false;
}

const char *step_field_name(enum step_field f)
{
	static const char *const step_names[] = {
#define STEP_NAME(id, name) [id] = name,
		STEP_FIELDS(STEP_NAME)
#undef STEP_NAME
	};

	return (unsigned)f < STEP_N ? step_names[f] : "";
}

void result_init(struct probe_result *r, int64_t cycle_start_ns)
{
	memset(r, 0, sizeof(*r));
	r->result = RESULT_INTERNAL_ERROR;
	r->cycle_start_ns = cycle_start_ns;
	r->t_smtp_start = r->t_smtp_done = -1;
	r->t_imap_start = r->t_imap_search_start = -1;
	r->t_found = r->t_end = -1;
	r->tries = -1;
	r->smtp_code = -1;
	r->late = -1;
	r->hops = r->plain_hops = -1;
	for (int i = 0; i < STEP_N; i++)
		r->step[i] = -1;
}
