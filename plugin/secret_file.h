/*
 * secret_file.h - the one reader and writer of files that hold a secret:
 * *_password_file, *_oauth2_token_file, oauth2_client_secret_file and
 * oauth2_refresh_token_file (SPEC §4, §10), and the mode check of the
 * configuration file itself when it holds a password.
 *
 * The rules, the same for every such file (msmtp's check_secure()):
 *  - the file is opened, then fstat'ed: no window between the check and
 *    the read.  O_NONBLOCK, so a FIFO cannot block the open (it is then
 *    refused);
 *  - it must be a regular file; one that others may read or write
 *    (mode & 0007) is refused; one its group may read is accepted and
 *    reported, so the caller can warn once instead of every cycle;
 *  - the secret is the first line without its line end (LF or CRLF),
 *    1 to SECRET_MAX - 1 bytes; a control character in it (NUL included)
 *    is refused, and in a token (SECRET_TOKEN, SECRET_REFRESH_TOKEN) a
 *    blank too: a token is one word;
 *  - every message is one line that names the file and the fix, never the
 *    secret.
 *
 * Contract:
 *  - secret_file_read() returns 0 and a heap copy in *secret, which the
 *    caller owns and releases with secret_free() (wipes, then frees);
 *    1 likewise, but the group may read the file: why (cap bytes) holds
 *    the warning line for the caller to log once; -1 with *secret NULL and
 *    why saying what is wrong.
 *  - secret_file_check() applies the mode rules alone, to a file that is
 *    not read now: the same 0 / 1 / -1 and why.
 *  - secret_free(NULL) does nothing.
 *  - secret_file_replace() puts value in path atomically (a rotated OAuth2
 *    refresh token): a temporary file ".NAME.XXXXXX" in path's own
 *    directory, mode 0600 whatever the umask (fchmod), gets value and "\n",
 *    is fsynced and renamed over path; then the directory is fsynced.  A
 *    reader sees the old file or the new one, never a part.  A symlink at
 *    path is replaced, not followed.  value must be what the reader accepts
 *    back as a token: 1 to SECRET_MAX - 1 bytes, no blank or control
 *    character.  Returns 0 when done; -1 when path was not touched (its
 *    old content, if any, stays; no temporary file is left); 1 when path
 *    was replaced but the directory could not be synced (the new content
 *    may not survive a crash).  For -1 and 1, why gets one line naming the
 *    file and the step; never the value.  No copy of value is made (it goes
 *    from the caller's buffer to write()).
 */
#ifndef MAIL_E2E_SECRET_FILE_H
#define MAIL_E2E_SECRET_FILE_H

#include <stddef.h>

#define SECRET_MAX 16384   /* Microsoft's JWTs run to a few KiB */

/* What a file holds: the word its messages use, and whether a blank is
 * allowed (in a password, yes; in a token, no). */
enum secret_kind {
	SECRET_PASSWORD,
	SECRET_CLIENT_SECRET,
	SECRET_TOKEN,
	SECRET_REFRESH_TOKEN,
};

int secret_file_read(const char *path, enum secret_kind kind, char **secret,
                     char *why, size_t cap);
int secret_file_check(const char *path, enum secret_kind kind, char *why, size_t cap);
void secret_free(char *secret);
int secret_file_replace(const char *path, const char *value, char *why, size_t cap);

#endif
