/*
 * test_secret_file.c - plugin/secret_file.c, linked alone.
 *
 * The reader, from a table: first line, line ends, the rules per kind
 * (blanks in passwords, not in tokens), control characters (NUL too),
 * empty and over-long files, the mode rules (others: refused, group:
 * accepted and reported), files that are no regular files; every message
 * names the file and never the secret.
 *
 * The writer, secret_file_replace(): the new content, mode 0600 whatever
 * the umask, a new inode (never written in place), no temporary file left
 * after success or failure, the old file intact when the write fails (a
 * file-size limit: robust also for root), when the directory is not
 * writable (an unprivileged child), when the target is a directory, and no
 * reader ever sees a part of a file.
 */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "secret_file.h"
#include "unit.h"

#define OLD "0.AXoAold-refresh-token"
#define NEW "0.AXoAnew-refresh-token_rotated"

static char dir[256];

/* The path of name in dir, in a static buffer: copy it to keep it. */
static char *path_in(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static int slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static void put(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
}

/* Files in dir other than the named ones: temporaries left behind. */
static int strays(const char *keep1, const char *keep2)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((keep1 && strcmp(e->d_name, keep1) == 0) || (keep2 && strcmp(e->d_name, keep2) == 0))
			continue;
		n++;
	}
	closedir(d);
	return n;
}

/* --- the reader ------------------------------------------------------------ */

static const struct read_case {
	const char *name;
	const char *content;
	size_t len;               /* 0: strlen(content) */
	mode_t mode;
	enum secret_kind kind;
	int rc;
	const char *secret;       /* expected for rc >= 0 */
	const char *why;          /* in the message (rc != 0) */
} read_cases[] = {
	{ "password, LF", "s3cret pw\n", 0, 0600, SECRET_PASSWORD, 0, "s3cret pw", NULL },
	{ "password, CRLF, more lines", "pw\r\nsecond line\n", 0, 0600, SECRET_PASSWORD, 0, "pw", NULL },
	{ "no line end", "pw-no-newline", 0, 0600, SECRET_PASSWORD, 0, "pw-no-newline", NULL },
	{ "UTF-8 password", "p\xc3\xa4ssw\xc3\xb6rd\n", 0, 0400, SECRET_PASSWORD, 0, "p\xc3\xa4ssw\xc3\xb6rd", NULL },
	{ "token", "ya29.a0AfH6SM-token_x\n", 0, 0600, SECRET_TOKEN, 0, "ya29.a0AfH6SM-token_x", NULL },
	{ "token with a blank", "abc def-token\n", 0, 0600, SECRET_TOKEN, -1, NULL,
	  "the token contains a blank or control character" },
	{ "refresh token with a blank", "abc def-token\n", 0, 0600, SECRET_REFRESH_TOKEN, -1, NULL,
	  "the refresh token contains a blank or control character" },
	{ "client secret with a blank", "abc def-secret\n", 0, 0600, SECRET_CLIENT_SECRET, 0, "abc def-secret", NULL },
	{ "password with a tab", "abc\tdef-pass\n", 0, 0600, SECRET_PASSWORD, -1, NULL,
	  "the password contains a control character" },
	{ "password with a NUL", "abc\0def-pass\n", 13, 0600, SECRET_PASSWORD, -1, NULL,
	  "the password contains a control character" },
	{ "password with DEL", "abc\x7f" "def-pass\n", 0, 0600, SECRET_PASSWORD, -1, NULL, "control character" },
	{ "CR inside the line", "abc\rdef-pass\n", 0, 0600, SECRET_PASSWORD, -1, NULL, "control character" },
	{ "empty file", "", 0, 0600, SECRET_PASSWORD, -1, NULL, "the password (first line) is empty" },
	{ "empty first line", "\nsecond-line-secret\n", 0, 0600, SECRET_TOKEN, -1, NULL,
	  "the token (first line) is empty" },
	{ "CRLF only", "\r\n", 0, 0600, SECRET_REFRESH_TOKEN, -1, NULL, "the refresh token (first line) is empty" },
	{ "group may read: accepted, reported", "grp-token\n", 0, 0640, SECRET_TOKEN, 1, "grp-token",
	  "holds a token and is readable by its group (mode 0640): chmod 600 it" },
	{ "group may write only: accepted", "gw-pass\n", 0, 0620, SECRET_PASSWORD, 0, "gw-pass", NULL },
	{ "others may read", "open-pass\n", 0, 0644, SECRET_PASSWORD, -1, NULL,
	  "holds a password and is accessible by others (mode 0644): chmod 600 it" },
	{ "others may write", "open-pass\n", 0, 0602, SECRET_PASSWORD, -1, NULL, "accessible by others (mode 0602)" },
	{ "others, client secret", "open-secret\n", 0, 0604, SECRET_CLIENT_SECRET, -1, NULL,
	  "holds a client secret and is accessible by others (mode 0604)" },
	{ "others, refresh token", "open-refresh\n", 0, 0666, SECRET_REFRESH_TOKEN, -1, NULL,
	  "holds a refresh token and is accessible by others (mode 0666)" },
};

static void write_bytes(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		if (len && write(fd, data, len) != (ssize_t)len)
			CHECK(0, "writing %s", path);
		close(fd);
	}
	chmod(path, mode);
}

/* The message names the file, never the first line of its content. */
static bool why_is_safe(const char *why, const char *path, const char *content)
{
	char first[64];
	size_t n = strcspn(content, "\r\n");

	if (n >= sizeof(first))
		n = sizeof(first) - 1;
	memcpy(first, content, n);
	first[n] = '\0';
	return strstr(why, path) != NULL && (n < 3 || strstr(why, first) == NULL);
}

static void read_table(void)
{
	char why[512], path[512];

	snprintf(path, sizeof(path), "%s", path_in("secret"));
	for (size_t i = 0; i < sizeof(read_cases) / sizeof(read_cases[0]); i++) {
		const struct read_case *c = &read_cases[i];
		size_t len = c->len ? c->len : strlen(c->content);
		char sentinel = 'x', *got = &sentinel;   /* the reader must set it */
		int rc, want;

		write_bytes(path, c->content, len, c->mode);
		why[0] = '\0';
		rc = secret_file_read(path, c->kind, &got, why, sizeof(why));
		CHECK(rc == c->rc, "read %s: rc %d (want %d): %s", c->name, rc, c->rc, why);
		if (c->rc >= 0)
			CHECK(got && got != &sentinel && strcmp(got, c->secret) == 0,
			      "read %s: the first line without its end", c->name);
		else
			CHECK(got == NULL, "read %s: no secret handed out", c->name);
		if (c->why)
			CHECK(strstr(why, c->why) != NULL && why_is_safe(why, path, c->content),
			      "read %s: says \"%s\", names the file, not the secret: %s", c->name, c->why, why);
		/* The mode rules alone: what the read said about the mode. */
		want = c->rc > 0 ? 1 : c->why && strstr(c->why, "accessible by others") ? -1 : 0;
		rc = secret_file_check(path, c->kind, why, sizeof(why));
		CHECK(rc == want, "check %s: %d (want %d) %s", c->name, rc, want, rc ? why : "");
		if (got != &sentinel)
			secret_free(got);
	}
	unlink(path);
}

/* Cases that need more than bytes in a file. */
static void read_special(void)
{
	char why[512], path[512], fifo[512], *got, *big = malloc(SECRET_MAX + 2);
	int rc;

	snprintf(path, sizeof(path), "%s", path_in("secret"));
	if (!big) {
		CHECK(0, "malloc");
		return;
	}
	memset(big, 'a', SECRET_MAX + 1);
	big[SECRET_MAX - 1] = '\n';
	write_bytes(path, big, SECRET_MAX, 0600);
	rc = secret_file_read(path, SECRET_TOKEN, &got, why, sizeof(why));
	CHECK(rc == 0 && strlen(got) == SECRET_MAX - 1, "read: a first line of SECRET_MAX - 1 bytes is taken");
	secret_free(got);
	big[SECRET_MAX - 1] = 'a';
	write_bytes(path, big, SECRET_MAX + 1, 0600);
	rc = secret_file_read(path, SECRET_TOKEN, &got, why, sizeof(why));
	CHECK(rc == -1 && got == NULL && strstr(why, "the token (first line) is longer than 16383 bytes"),
	      "read: a longer first line is refused: %s", why);
	free(big);
	unlink(path);

	rc = secret_file_read(path, SECRET_PASSWORD, &got, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "cannot read") && strstr(why, path) && strstr(why, "No such file"),
	      "read: a missing file: %s", why);
	rc = secret_file_read(dir, SECRET_PASSWORD, &got, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "is not a regular file"), "read: a directory is refused: %s", why);
	snprintf(fifo, sizeof(fifo), "%s", path_in("fifo"));
	if (mkfifo(fifo, 0600) != 0) {
		CHECK(0, "mkfifo: %s", strerror(errno));
		return;
	}
	rc = secret_file_read(fifo, SECRET_TOKEN, &got, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "fifo is not a regular file"), "read: a FIFO is refused, not waited on: %s", why);
	rc = secret_file_check(fifo, SECRET_PASSWORD, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "is not a regular file"), "check: a FIFO is refused: %s", why);
	unlink(fifo);
	secret_free(NULL);
	CHECK(1, "secret_free(NULL) does nothing");
}

/* --- the writer ------------------------------------------------------------ */

static void success(void)
{
	char why[512] = "", buf[256], *err_tok;
	char err[256];
	struct stat st0, st;
	char *p = path_in("refresh");
	mode_t old_umask;
	int rc;

	put(p, OLD "\n", 0644);
	stat(p, &st0);
	old_umask = umask(0277);
	rc = secret_file_replace(p, NEW, why, sizeof(why));
	umask(old_umask);
	CHECK(rc == 0, "replace: returns 0 (%s)", why);
	CHECK(slurp(p, buf, sizeof(buf)) == 0 && strcmp(buf, NEW "\n") == 0, "replace: the file holds the value and a LF");
	CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600, "replace: mode 0600 under umask 0277 (got %04o)",
	      (unsigned)(st.st_mode & 07777));
	CHECK(st.st_ino != st0.st_ino, "replace: a new inode (renamed over, never written in place)");
	CHECK(strays("refresh", NULL) == 0, "replace: no temporary file left");
	CHECK(secret_file_read(p, SECRET_REFRESH_TOKEN, &err_tok, err, sizeof(err)) == 0 &&
	      strcmp(err_tok, NEW) == 0, "replace: secret_file_read() reads the value back");
	secret_free(err_tok);
	CHECK(secret_file_replace(path_in("fresh"), OLD, why, sizeof(why)) == 0 &&
	      slurp(path_in("fresh"), buf, sizeof(buf)) == 0 && strcmp(buf, OLD "\n") == 0,
	      "replace: a file that did not exist is created");
	unlink(path_in("fresh"));
}

static void relative_and_symlink(void)
{
	char why[512] = "", buf[256], cwd[512];
	struct stat st;
	int rc;

	put(path_in("target"), OLD "\n", 0600);
	symlink("target", path_in("link"));
	rc = secret_file_replace(path_in("link"), NEW, why, sizeof(why));
	CHECK(rc == 0 && lstat(path_in("link"), &st) == 0 && S_ISREG(st.st_mode) &&
	      slurp(path_in("target"), buf, sizeof(buf)) == 0 && strcmp(buf, OLD "\n") == 0,
	      "a symlink at path is replaced, its target left alone");
	unlink(path_in("link"));
	unlink(path_in("target"));
	if (!getcwd(cwd, sizeof(cwd)) || chdir(dir) != 0) {
		CHECK(0, "chdir to the test directory");
		return;
	}
	rc = secret_file_replace("bare", NEW, why, sizeof(why));
	CHECK(rc == 0 && slurp("bare", buf, sizeof(buf)) == 0 && strcmp(buf, NEW "\n") == 0,
	      "a bare file name: replaced in the current directory");
	unlink("bare");
	if (chdir(cwd) != 0)
		CHECK(0, "chdir back");
}

/* A failure must leave the old file and no temporary, and not quote value. */
static void check_failed(const char *what, int rc, const char *why, const char *p, const char *value)
{
	char buf[256];

	CHECK(rc == -1, "%s: -1 (%s)", what, why);
	CHECK(slurp(p, buf, sizeof(buf)) == 0 && strcmp(buf, OLD "\n") == 0, "%s: the old file is intact", what);
	CHECK(strays("refresh", "sub") == 0, "%s: no temporary file left", what);
	CHECK(why[0] != '\0' && strstr(why, value) == NULL, "%s: why names the problem, not the value", what);
}

static void write_fails(void)
{
	char why[512] = "";
	char *p = path_in("refresh");
	struct rlimit old, lim = { 8, 8 };
	int rc;

	put(p, OLD "\n", 0600);
	/* As root nothing is read-only; a file-size limit fails the write. */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim.rlim_max = old.rlim_max;
	setrlimit(RLIMIT_FSIZE, &lim);
	rc = secret_file_replace(p, NEW, why, sizeof(why));
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	check_failed("write fails (file-size limit)", rc, why, p, NEW);
	CHECK(strstr(why, "cannot write") != NULL, "write fails: why says the write failed: %s", why);
}

static void bad_targets(void)
{
	char why[512] = "", big[SECRET_MAX + 8];
	char p[512], sub[512];
	int rc;

	snprintf(p, sizeof(p), "%s", path_in("refresh"));
	put(p, OLD "\n", 0600);
	snprintf(sub, sizeof(sub), "%s", path_in("sub"));
	mkdir(sub, 0700);
	rc = secret_file_replace(sub, NEW, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "rename") != NULL && strays("refresh", "sub") == 0,
	      "target is a directory: rename fails, temp removed (%s)", why);
	rmdir(sub);
	rc = secret_file_replace("/nonexistent-dir-me2e/refresh", NEW, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "temporary") != NULL, "missing directory: -1 (%s)", why);
	rc = secret_file_replace(path_in(""), NEW, why, sizeof(why));
	CHECK(rc == -1, "path ends in '/': -1 (%s)", why);
	check_failed("empty value", secret_file_replace(p, "", why, sizeof(why)), why, p, "\x01");
	check_failed("value with a blank", secret_file_replace(p, "abc def", why, sizeof(why)), why, p, "abc def");
	check_failed("value with a LF", secret_file_replace(p, "abc\ndef", why, sizeof(why)), why, p, "abc\ndef");
	memset(big, 'a', SECRET_MAX);
	big[SECRET_MAX] = '\0';
	check_failed("value of SECRET_MAX bytes", secret_file_replace(p, big, why, sizeof(why)), why, p, big);
}

/* The directory is not writable for an unprivileged user (root ignores
 * modes, so the attempt runs in a child that gave root up). */
static void readonly_dir(void)
{
	char p[512];
	pid_t pid;
	int status = 0;
	struct passwd *nobody = getpwnam("nobody");
	uid_t uid = nobody ? nobody->pw_uid : 65534;
	gid_t gid = nobody ? nobody->pw_gid : 65534;

	snprintf(p, sizeof(p), "%s", path_in("refresh"));
	put(p, OLD "\n", 0644);
	chmod(dir, 0755);
	pid = fork();
	if (pid == 0) {
		char why[512] = "";
		if (geteuid() == 0 && (setgid(gid) != 0 || setuid(uid) != 0))
			_exit(3);
		if (geteuid() != 0)
			chmod(dir, 0555);
		int rc = secret_file_replace(p, NEW, why, sizeof(why));
		_exit(rc == -1 && strstr(why, "Permission denied") && !strstr(why, NEW) ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	chmod(dir, 0700);
	chmod(p, 0600);
	check_failed("read-only directory", WIFEXITED(status) && WEXITSTATUS(status) == 0 ? -1 : 0,
	             "Permission denied", p, NEW);
}

/* A reader racing 300 replacements only ever sees one whole value. */
static void no_torn_reads(void)
{
	char why[512];
	char *p = path_in("refresh");
	int pipefd[2], bad = 0, reads = 0, failed = 0;
	pid_t pid;

	put(p, OLD "\n", 0600);
	if (pipe(pipefd) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		char buf[256], stop;
		int n = 0, torn = 0;
		close(pipefd[1]);
		fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
		while (read(pipefd[0], &stop, 1) < 0 && errno == EAGAIN) {
			if (slurp(p, buf, sizeof(buf)) == 0 && strcmp(buf, OLD "\n") != 0 && strcmp(buf, NEW "\n") != 0)
				torn++;
			n++;
		}
		_exit(torn ? 1 : (n > 0 ? 0 : 2));
	}
	close(pipefd[0]);
	for (int i = 0; i < 300; i++)
		if (secret_file_replace(p, i % 2 ? OLD : NEW, why, sizeof(why)) != 0)
			failed++;
	if (write(pipefd[1], "x", 1) != 1)
		failed++;
	close(pipefd[1]);
	waitpid(pid, &bad, 0);
	reads = WIFEXITED(bad) ? WEXITSTATUS(bad) : 9;
	CHECK(failed == 0 && reads == 0, "300 replacements raced by a reader: every read saw a whole file (child %d, failed %d)",
	      reads, failed);
	CHECK(strays("refresh", NULL) == 0, "300 replacements: no temporary file left");
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/me2e-secretfile.XXXXXX");
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return unit_done();
	}
	read_table();
	read_special();
	success();
	relative_and_symlink();
	write_fails();
	bad_targets();
	readonly_dir();
	no_torn_reads();
	unlink(path_in("refresh"));
	rmdir(dir);
	return unit_done();
}
