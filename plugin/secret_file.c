/*
 * secret_file.c - see secret_file.h.
 */
#include "secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	const char *noun;
	bool blank_ok;
} kinds[] = {
	[SECRET_PASSWORD] = { "password", true },
	[SECRET_CLIENT_SECRET] = { "client secret", true },
	[SECRET_TOKEN] = { "token", false },
	[SECRET_REFRESH_TOKEN] = { "refresh token", false },
};

void secret_free(char *secret)
{
	if (secret) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
}

/* Open path and apply the mode rules to what was opened: the descriptor in
 * *fd for 0 and 1 (see secret_file.h), closed for -1. */
static int open_checked(const char *path, enum secret_kind kind, int *fd, char *why, size_t cap)
{
	const char *noun = kinds[kind].noun;
	struct stat st;
	unsigned mode;

	*fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (*fd < 0 || fstat(*fd, &st) != 0) {
		snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
		goto refused;
	}
	mode = (unsigned)(st.st_mode & 07777);
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, cap, "%s is not a regular file: keep the %s in a plain file", path, noun);
		goto refused;
	}
	if (mode & 0007) {
		snprintf(why, cap, "%s holds a %s and is accessible by others (mode %04o): chmod 600 it",
		         path, noun, mode);
		goto refused;
	}
	if (mode & 0040) {
		snprintf(why, cap, "%s holds a %s and is readable by its group (mode %04o): chmod 600 it",
		         path, noun, mode);
		return 1;
	}
	return 0;
refused:
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return -1;
}

/* Read from fd until a line end or SECRET_MAX bytes; *len: bytes in buf. */
static int read_head(int fd, const char *path, char *buf, size_t *len, char *why, size_t cap)
{
	*len = 0;
	while (*len < SECRET_MAX) {
		ssize_t n = read(fd, buf + *len, SECRET_MAX - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
		if (memchr(buf + *len - (size_t)n, '\n', (size_t)n))
			break;
	}
	return 0;
}

/* Cut buf (len bytes read) to its first line, NUL-terminated, and check it
 * against the kind's rules. */
static int take_first_line(const char *path, enum secret_kind kind, char *buf, size_t len,
                           char *why, size_t cap)
{
	const char *noun = kinds[kind].noun;
	const char *nl = memchr(buf, '\n', len);
	size_t n = nl ? (size_t)(nl - buf) : len;

	if (!nl && len == SECRET_MAX) {
		snprintf(why, cap, "%s: the %s (first line) is longer than %d bytes", path, noun,
		         SECRET_MAX - 1);
		return -1;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	explicit_bzero(buf + n, SECRET_MAX + 1 - n);
	if (n == 0) {
		snprintf(why, cap, "%s: the %s (first line) is empty: write the %s on its first line",
		         path, noun, noun);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c < 0x20 || c == 0x7f || (c == ' ' && !kinds[kind].blank_ok)) {
			snprintf(why, cap, "%s: the %s contains a %s: write it on the first line alone",
			         path, noun, kinds[kind].blank_ok ? "control character" : "blank or control character");
			return -1;
		}
	}
	return 0;
}

int secret_file_read(const char *path, enum secret_kind kind, char **secret,
                     char *why, size_t cap)
{
	char *buf;
	size_t len;
	int fd, rc;

	*secret = NULL;
	rc = open_checked(path, kind, &fd, why, cap);
	if (rc < 0)
		return -1;
	buf = malloc(SECRET_MAX + 1);
	if (!buf) {
		snprintf(why, cap, "out of memory reading %s", path);
		close(fd);
		return -1;
	}
	if (read_head(fd, path, buf, &len, why, cap) != 0 ||
	    take_first_line(path, kind, buf, len, why, cap) != 0) {
		close(fd);
		explicit_bzero(buf, SECRET_MAX + 1);
		free(buf);
		return -1;
	}
	close(fd);
	*secret = buf;
	return rc;
}

int secret_file_check(const char *path, enum secret_kind kind, char *why, size_t cap)
{
	int fd, rc = open_checked(path, kind, &fd, why, cap);

	if (fd >= 0)
		close(fd);
	return rc;
}

/* The directory part of path ("." for a bare name) and the temporary
 * file's template "DIR/.NAME.XXXXXX", in tmpl of cap bytes. */
static int temp_template(const char *path, char *dir, size_t dircap, char *tmpl, size_t cap)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	int n;

	if (*name == '\0' || dlen >= dircap)
		return -1;
	if (!slash)
		snprintf(dir, dircap, ".");
	else if (dlen == 0)
		snprintf(dir, dircap, "/");
	else {
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
	}
	n = snprintf(tmpl, cap, "%s/.%s.XXXXXX", dir, name);
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static bool value_ok(const char *value)
{
	size_t len = strlen(value);

	if (len == 0 || len >= SECRET_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)value[i] < 0x21 || value[i] == 0x7f)
			return false;
	return true;
}

/* Create, fill and sync the temporary file; -1 with why set. */
static int write_temp(char *tmpl, const char *value, char *why, size_t cap)
{
	int fd = mkstemp(tmpl);

	if (fd < 0) {
		snprintf(why, cap, "cannot create a temporary file %s: %s", tmpl, strerror(errno));
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 || fchmod(fd, 0600) != 0) {
		snprintf(why, cap, "cannot set up %s: %s", tmpl, strerror(errno));
		goto fail;
	}
	if (write_all(fd, value, strlen(value)) != 0 || write_all(fd, "\n", 1) != 0) {
		snprintf(why, cap, "cannot write %s: %s", tmpl, strerror(errno ? errno : EIO));
		goto fail;
	}
	if (fsync(fd) != 0) {
		snprintf(why, cap, "cannot sync %s: %s", tmpl, strerror(errno));
		goto fail;
	}
	if (close(fd) != 0) {
		fd = -1;
		snprintf(why, cap, "cannot write %s: %s", tmpl, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmpl);
	return -1;
}

int secret_file_replace(const char *path, const char *value, char *why, size_t cap)
{
	char dir[4096], tmpl[4200];
	int dfd, rc = 0;

	if (!value_ok(value)) {
		snprintf(why, cap, "%s: not written: the value is empty, too long or has a blank or control character", path);
		return -1;
	}
	if (temp_template(path, dir, sizeof(dir), tmpl, sizeof(tmpl)) != 0) {
		snprintf(why, cap, "%s: not a file path, or too long", path);
		return -1;
	}
	errno = 0;
	if (write_temp(tmpl, value, why, cap) != 0)
		return -1;
	if (rename(tmpl, path) != 0) {
		snprintf(why, cap, "cannot rename %s to %s: %s", tmpl, path, strerror(errno));
		unlink(tmpl);
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		snprintf(why, cap, "%s replaced, but its directory %s could not be synced: %s", path, dir, strerror(errno));
		rc = 1;
	}
	if (dfd >= 0)
		close(dfd);
	return rc;
}
