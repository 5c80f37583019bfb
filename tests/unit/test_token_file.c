/*
 * test_token_file.c - token_file_replace() (plugin/token_file.c), linked
 * alone: the new content, mode 0600 whatever the umask, a new inode (never
 * written in place), no temporary file left after success or failure, the
 * old file intact when the write fails (a file-size limit: robust also for
 * root), when the directory is not writable (an unprivileged child), when
 * the target is a directory, and no reader ever sees a part of a file.
 */
#include <dirent.h>
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

#include "token_file.h"
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
	rc = token_file_replace(p, NEW, why, sizeof(why));
	umask(old_umask);
	CHECK(rc == 0, "replace: returns 0 (%s)", why);
	CHECK(slurp(p, buf, sizeof(buf)) == 0 && strcmp(buf, NEW "\n") == 0, "replace: the file holds the value and a LF");
	CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 0600, "replace: mode 0600 under umask 0277 (got %04o)",
	      (unsigned)(st.st_mode & 07777));
	CHECK(st.st_ino != st0.st_ino, "replace: a new inode (renamed over, never written in place)");
	CHECK(strays("refresh", NULL) == 0, "replace: no temporary file left");
	CHECK(token_file_read(p, &err_tok, NULL, err, sizeof(err)) == 0 && strcmp(err_tok, NEW) == 0,
	      "replace: token_file_read() reads the value back");
	token_free(err_tok);
	CHECK(token_file_replace(path_in("fresh"), OLD, why, sizeof(why)) == 0 &&
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
	rc = token_file_replace(path_in("link"), NEW, why, sizeof(why));
	CHECK(rc == 0 && lstat(path_in("link"), &st) == 0 && S_ISREG(st.st_mode) &&
	      slurp(path_in("target"), buf, sizeof(buf)) == 0 && strcmp(buf, OLD "\n") == 0,
	      "a symlink at path is replaced, its target left alone");
	unlink(path_in("link"));
	unlink(path_in("target"));
	if (!getcwd(cwd, sizeof(cwd)) || chdir(dir) != 0) {
		CHECK(0, "chdir to the test directory");
		return;
	}
	rc = token_file_replace("bare", NEW, why, sizeof(why));
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
	rc = token_file_replace(p, NEW, why, sizeof(why));
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	check_failed("write fails (file-size limit)", rc, why, p, NEW);
	CHECK(strstr(why, "cannot write") != NULL, "write fails: why says the write failed: %s", why);
}

static void bad_targets(void)
{
	char why[512] = "", big[TOKEN_MAX + 8];
	char p[512], sub[512];
	int rc;

	snprintf(p, sizeof(p), "%s", path_in("refresh"));
	put(p, OLD "\n", 0600);
	snprintf(sub, sizeof(sub), "%s", path_in("sub"));
	mkdir(sub, 0700);
	rc = token_file_replace(sub, NEW, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "rename") != NULL && strays("refresh", "sub") == 0,
	      "target is a directory: rename fails, temp removed (%s)", why);
	rmdir(sub);
	rc = token_file_replace("/nonexistent-dir-me2e/refresh", NEW, why, sizeof(why));
	CHECK(rc == -1 && strstr(why, "temporary") != NULL, "missing directory: -1 (%s)", why);
	rc = token_file_replace(path_in(""), NEW, why, sizeof(why));
	CHECK(rc == -1, "path ends in '/': -1 (%s)", why);
	check_failed("empty value", token_file_replace(p, "", why, sizeof(why)), why, p, "\x01");
	check_failed("value with a blank", token_file_replace(p, "abc def", why, sizeof(why)), why, p, "abc def");
	check_failed("value with a LF", token_file_replace(p, "abc\ndef", why, sizeof(why)), why, p, "abc\ndef");
	memset(big, 'a', TOKEN_MAX);
	big[TOKEN_MAX] = '\0';
	check_failed("value of TOKEN_MAX bytes", token_file_replace(p, big, why, sizeof(why)), why, p, big);
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
		int rc = token_file_replace(p, NEW, why, sizeof(why));
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
		if (token_file_replace(p, i % 2 ? OLD : NEW, why, sizeof(why)) != 0)
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
	snprintf(dir, sizeof(dir), "/tmp/me2e-tokfile.XXXXXX");
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp: %s", strerror(errno));
		return unit_done();
	}
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
