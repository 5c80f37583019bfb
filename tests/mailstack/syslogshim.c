/*
 * syslogshim.c - LD_PRELOAD for the unpacked servers (cyrus.sh, domains.sh):
 * Cyrus and OpenDKIM log only through syslog(3), i.e. /dev/log, which the
 * test machine lacks, so every error would vanish.  This appends each
 * syslog line to the file named by $ME2E_SYSLOG_FILE instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
static char ident[64] = "?";
static int mask = 0xff;
void openlog(const char *id, int opt, int fac) { (void)opt; (void)fac; if (id) snprintf(ident, sizeof ident, "%s", id); }
void closelog(void) {}
int setlogmask(int m) { int o = mask; if (m) mask = m; return o; }
void vsyslog(int pri, const char *fmt, va_list ap)
{
	int e = errno, n, fd;
	const char *path = getenv("ME2E_SYSLOG_FILE");
	char buf[4096];
	struct timeval tv;
	struct tm tm;
	if (!path || !(LOG_MASK(LOG_PRI(pri)) & mask)) return;
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	n = snprintf(buf, sizeof buf, "%02d:%02d:%02d.%06ld %s[%d] <%d>: ", tm.tm_hour, tm.tm_min,
		tm.tm_sec, (long)tv.tv_usec, ident, (int)getpid(), LOG_PRI(pri));
	errno = e;   /* for %m */
	if (n > 0 && n < (int)sizeof buf) n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
	if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
	if (n > 0 && buf[n - 1] != '\n') buf[n++] = '\n';
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd >= 0) { ssize_t w = write(fd, buf, n); (void)w; close(fd); }
	errno = e;
}
void syslog(int pri, const char *fmt, ...) { va_list ap; va_start(ap, fmt); vsyslog(pri, fmt, ap); va_end(ap); }
void __syslog_chk(int pri, int flag, const char *fmt, ...) { va_list ap; (void)flag; va_start(ap, fmt); vsyslog(pri, fmt, ap); va_end(ap); }
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap) { (void)flag; vsyslog(pri, fmt, ap); }
