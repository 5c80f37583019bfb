/*
 * token_file.h - read an OAuth2 access token from a file (issue 6).
 *
 * Tokens expire (Gmail and Microsoft 365: after about an hour), so an
 * outside helper refreshes the file and mail-e2e reads it again at the
 * start of every probe.  The rules are those of a *_password_file: the
 * token is the first line without its line ending; a file others may read
 * or write is refused; a control character in the token is refused.
 *
 * Contract: token_file_read() returns 0 and a heap copy in *token, which
 * the caller owns and releases with token_free() (wipes, then frees); or
 * -1 with one line in err that names the file and never quotes the token.
 * `group_readable` (may be NULL) is set when the group may read the file,
 * so the caller can warn once instead of every cycle.
 *
 * token_file_replace() puts value in path atomically (issue 12: a rotated
 * OAuth2 refresh token): a temporary file ".NAME.XXXXXX" in path's own
 * directory, mode 0600 whatever the umask (fchmod), gets value and "\n",
 * is fsynced and renamed over path; then the directory is fsynced.  A
 * reader sees the old file or the new one, never a part.  A symlink at path
 * is replaced, not followed.  value must be what token_file_read() accepts
 * back: 1 to TOKEN_MAX - 1 bytes, no blank or control character.
 * Returns 0 when done; -1 when path was not touched (its old content, if
 * any, stays; no temporary file is left); 1 when path was replaced but the
 * directory could not be synced (the new content may not survive a crash).
 * For -1 and 1, why gets one line naming the file and the step; never the
 * value.  Copies of value on the stack are not made (it goes from the
 * caller's buffer to write()).
 */
#ifndef MAIL_E2E_TOKEN_FILE_H
#define MAIL_E2E_TOKEN_FILE_H

#include <stdbool.h>
#include <stddef.h>

#define TOKEN_MAX 16384   /* Microsoft's JWTs run to a few KiB */

int token_file_read(const char *path, char **token, bool *group_readable,
                    char *err, size_t errlen);
void token_free(char *token);
int token_file_replace(const char *path, const char *value, char *why, size_t cap);

#endif
