// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the initramfs that tools/kmemleak/run.py boots a
 * CONFIG_DEBUG_KMEMLEAK kernel with, after the suite ran at boot: mount
 * debugfs, let every object the suite allocated age past kmemleak's
 * minimum (5 s), scan twice (the second scan drops what the first saw
 * only in flight), print the report between markers, power off.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#define KMEMLEAK "/sys/kernel/debug/kmemleak"

static int kmemleak_cmd(const char *cmd)
{
	int fd = open(KMEMLEAK, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, cmd, strlen(cmd));
	close(fd);
	return n == (ssize_t)strlen(cmd) ? 0 : -1;
}

int main(void)
{
	char buf[4096];
	ssize_t n;
	int fd;

	mount("sysfs", "/sys", "sysfs", 0, NULL);
	if (mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL))
		puts("kmemleak-init: error: cannot mount debugfs");
	sleep(6);
	if (kmemleak_cmd("scan") || (sleep(1), kmemleak_cmd("scan"))) {
		puts("kmemleak-init: error: cannot scan: " KMEMLEAK " is missing or kmemleak is off");
	} else {
		puts("kmemleak-init: report begin");
		fflush(stdout);
		fd = open(KMEMLEAK, O_RDONLY);
		while (fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			write(1, buf, n);
		puts("kmemleak-init: report end");
	}
	fflush(stdout);
	sync();
	reboot(RB_POWER_OFF);
	/* where power off does not end QEMU, -no-reboot makes a reboot end it */
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}
