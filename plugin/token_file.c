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
