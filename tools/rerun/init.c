// SPDX-License-Identifier: GPL-2.0
/*
 * /init of a throw-away initramfs: re-run the vmalloc_sync KUnit suite
 * through debugfs in the same boot and print each run's results.
 *
 *   gcc -static -O2 -o init init.c          (UML: a host binary)
 *   gcc -m32 -static -O2 -o init init.c     (i386)
 *
 * Console protocol (tools/rerun/split.py reads it):
 *   === run N begin ===
 *   [rN] <one line of /sys/kernel/debug/kunit/vmalloc_sync/results>
 *   === run N end ===
 * Run 0 is the results file as the boot-time run left it.  Every results
 * line carries the [rN] prefix, so kernel messages printed in between are
 * told apart.  Where the kernel has CONFIG_PTDUMP_DEBUGFS, the vmalloc part
 * of the kernel page tables is dumped after each run the same way
 * ([pN] prefix, "=== ptdump N begin/end ===").
 *
 * The number of re-runs is the first argument that is a number on the
 * kernel command line (the kernel passes unknown words to init), default 5.
 * With the word "fail_page_alloc" there too, init first lets
 * fail_page_alloc fail page-table allocations (order 0, sleeping) for tasks
 * that ask with fail-nth, which the suite's table_alloc_failure_still_syncs
 * does (CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS); its
 * probability stays 0, so nothing else fails.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SUITE_DIR "/sys/kernel/debug/kunit/vmalloc_sync"

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Copy @path to stdout, each line prefixed with @prefix. */
static int dump(const char *path, const char *prefix)
{
	char line[4096];
	FILE *f = fopen(path, "r");

	if (!f) {
		say("rerun-init: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		if (n && line[n - 1] == '\n')
			line[--n] = '\0';
		say("%s%s\n", prefix, line);
	}
	fclose(f);
	return 0;
}

static void results(int n)
{
	char prefix[16];

	snprintf(prefix, sizeof(prefix), "[r%d] ", n);
	say("=== run %d begin ===\n", n);
	dump(SUITE_DIR "/results", prefix);
	say("=== run %d end ===\n", n);
}

static void ptdump(int n)
{
	char prefix[16];

	if (access("/sys/kernel/debug/page_tables/kernel", R_OK))
		return;
	snprintf(prefix, sizeof(prefix), "[p%d] ", n);
	say("=== ptdump %d begin ===\n", n);
	dump("/sys/kernel/debug/page_tables/kernel", prefix);
	say("=== ptdump %d end ===\n", n);
}

static void ls(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d) {
		say("rerun-init: ls %s: %s\n", path, strerror(errno));
		return;
	}
	while ((e = readdir(d)))
		say("rerun-init: ls %s: %s\n", path, e->d_name);
	closedir(d);
}

static void mnt(const char *src, const char *dir, const char *type)
{
	mkdir(dir, 0755);
	if (mount(src, dir, type, 0, NULL) && errno != EBUSY)
		say("rerun-init: mount %s on %s: %s\n", type, dir, strerror(errno));
}

static void put(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		say("rerun-init: write %s to %s: %s\n", val, path, strerror(errno));
	else
		say("rerun-init: %s = %s\n", path, val);
	if (fd >= 0)
		close(fd);
}

static void fail_page_alloc(void)
{
	/* verbose 1: one line per injected failure, no stack dump */
	static const char *const knobs[][2] = {
		{ "min-order", "0" }, { "ignore-gfp-wait", "N" }, { "verbose", "1" },
	};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/fail_page_alloc/%s",
			 knobs[i][0]);
		put(path, knobs[i][1]);
	}
}

static void off(void)
{
	sync();
	/* UML exits on power-off; QEMU (-no-reboot) exits on a reboot */
#ifdef __i386__
	reboot(RB_AUTOBOOT);
#endif
	reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	int runs = 5, fail = 0, i, fd;

	for (i = argc - 1; i > 0; i--) {	/* backwards: the first number wins */
		if (argv[i][0] >= '1' && argv[i][0] <= '9' && atoi(argv[i]) > 0)
			runs = atoi(argv[i]);
		if (!strcmp(argv[i], "fail_page_alloc"))
			fail = 1;
	}
	mnt("proc", "/proc", "proc");
	mnt("sysfs", "/sys", "sysfs");
	mnt("debugfs", "/sys/kernel/debug", "debugfs");
	say("rerun-init: %d re-runs of vmalloc_sync\n", runs);
	dump("/proc/cmdline", "[cmdline] ");
	/* VmallocTotal: the size of the vmalloc area, for counting entries */
	dump("/proc/meminfo", "[meminfo] ");

	if (access(SUITE_DIR "/run", W_OK)) {
		say("rerun-init: %s/run: %s\n", SUITE_DIR, strerror(errno));
		ls(SUITE_DIR);
		ls("/sys/kernel/debug/kunit");
		results(0);
		off();
	}
	results(0);
	ptdump(0);
	if (fail)
		fail_page_alloc();
	for (i = 1; i <= runs; i++) {
		double t0 = now();

		fd = open(SUITE_DIR "/run", O_WRONLY);
		if (fd < 0 || write(fd, "1\n", 2) != 2)
			say("rerun-init: run %d: write %s/run: %s\n", i, SUITE_DIR,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		say("rerun-init: run %d took %.2f s\n", i, now() - t0);
		results(i);
		ptdump(i);
	}
	say("rerun-init: done\n");
	off();
	return 0;
}
