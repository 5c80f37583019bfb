/*
 * token_file.c - see token_file.h.
 */
#include "token_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void token_free(char *token)
{
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
}

int token_file_read(const char *path, char **token, bool *group_readable,
                    char *err, size_t errlen)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd;

	*token = NULL;
	/* fstat of the opened file: no window between check and read.
	 * O_NONBLOCK: a FIFO must not block the open (it is then refused). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 0007)) {
		snprintf(err, errlen, S_ISREG(st.st_mode)
		         ? "%s holds a token and is accessible by others (mode %04o): chmod 600 it"
		         : "%s is not a regular file (mode %04o)", path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	if (group_readable)
		*group_readable = (st.st_mode & 0040) != 0;
	buf = malloc(TOKEN_MAX + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory reading %s", path);
		close(fd);
		return -1;
	}
	while (len < TOKEN_MAX) {
		ssize_t n = read(fd, buf + len, TOKEN_MAX - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (memchr(buf + len, '\n', (size_t)n)) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	fd = -1;
	buf[len] = '\0';
	len = strcspn(buf, "\n");
	if (len == TOKEN_MAX) {
		snprintf(err, errlen, "%s: the token (first line) is longer than %d bytes", path, TOKEN_MAX);
		goto fail;
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	explicit_bzero(buf + len, TOKEN_MAX + 1 - len);
	if (len == 0) {
		snprintf(err, errlen, "%s: the token (first line) is empty", path);
		goto fail;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c < 0x21 || c == 0x7f) {
			snprintf(err, errlen, "%s: the token contains a blank or control character", path);
			goto fail;
		}
	}
	*token = buf;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	explicit_bzero(buf, TOKEN_MAX + 1);
	free(buf);
	return -1;
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

	if (len == 0 || len >= TOKEN_MAX)
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

int token_file_replace(const char *path, const char *value, char *why, size_t cap)
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
