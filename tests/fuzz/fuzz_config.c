/*
 * fuzz_config.c - libFuzzer target for the configuration loader: the input
 * is the INI file, handed over as an in-memory file (memfd), so the real
 * inih reader, ${VAR} expansion and validation run on it.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	char path[64], err[512];
	int fd = memfd_create("fuzz.conf", 0);

	if (fd < 0)
		return 0;
	if (fchmod(fd, 0600) == 0 && write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (config_load(path, &cfg, err, sizeof(err)) == 0)
			config_free(&cfg);
	}
	close(fd);
	return 0;
}
