// SPDX-License-Identifier: GPL-2.0
/*
 * devdax_gup: GUP users on a device-DAX buffer (the rig's 2 MiB aligned
 * /dev/daxX.Y): FOLL_LONGTERM pins are allowed (GUP and GUP-fast, read-only
 * and writable, through gup_test's PIN_LONGTERM_TEST_START, held until
 * PIN_LONGTERM_TEST_STOP, and PIN_LONGTERM_BENCHMARK pins the whole buffer),
 * unlike filesystem DAX; an O_DIRECT read of a file's blocks from the pmem
 * block device below /mnt/xfs lands in the buffer; a child's writes through
 * its own faults are seen by the parent.  Data and return values only.
 *
 * Regression floor (group "regress"): passes on stock 6.12, where the same
 * works through the devmap side channel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/types.h>
#include <mm/gup_test.h>

#include "kselftest_harness.h"
#include "daxtest.h"
#include "devdax.h"

#define LEN		(4UL << 20)
#define GUP_TEST_PATH	"/sys/kernel/debug/gup_test"
#define FOLL_WRITE_	0x01

FIXTURE(gup) {
	int fd;
	char *p;
};

FIXTURE_SETUP(gup)
{
	const char *region = getenv("PMEM_DEVDAX_REGION");
	struct devdax_ns d;
	char dev[96];

	self->fd = -1;
	self->p = MAP_FAILED;
	if (!region)
		SKIP(return, "no $PMEM_DEVDAX_REGION (guest/setup-pmem.sh sets it)");
	/*
	 * The rig's namespace: devdax, 2 MiB (put it back if a test that
	 * reconfigures it was interrupted); look its name up, as it may
	 * have changed.
	 */
	if (devdax_lookup(region, &d) || strcmp(d.mode, "devdax") || !d.chardev[0])
		SKIP(return, "%s: no devdax namespace", region);
	if (d.align != DEVDAX_ALIGN_DEFAULT) {
		ASSERT_EQ(0, devdax_restore(region));
		ASSERT_EQ(0, devdax_lookup(region, &d));
	}
	snprintf(dev, sizeof(dev), "/dev/%s", d.chardev);
	self->fd = open(dev, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", dev, strerror(errno));
	self->p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->p) TH_LOG("mmap %s: %s", dev, strerror(errno));
}

FIXTURE_TEARDOWN(gup)
{
	if (self->p != MAP_FAILED)
		munmap(self->p, LEN);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(gup, longterm_pin_allowed)
{
	size_t lens[] = { PG, PMDSZ, LEN };
	struct gup_test gup = { 0 };
	unsigned int i, j;
	int gfd;

	if (access(GUP_TEST_PATH, R_OK | W_OK))
		SKIP(return, "no " GUP_TEST_PATH " (CONFIG_GUP_TEST, debugfs)");
	gfd = open(GUP_TEST_PATH, O_RDWR);
	ASSERT_LE(0, gfd);
	for (i = 0; i < sizeof(lt_modes) / sizeof(lt_modes[0]); i++) {
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			struct pin_longterm_test args = {
				.addr = (uintptr_t)self->p, .size = lens[j],
				.flags = lt_modes[i].flags,
			};
			int ret = ioctl(gfd, PIN_LONGTERM_TEST_START, &args);

			EXPECT_EQ(0, ret) TH_LOG("%s FOLL_LONGTERM pin of %zu bytes: %s",
						 lt_modes[i].name, lens[j], strerror(errno));
			if (ret == 0) {
				/* the pinned memory is still usable */
				self->p[lens[j] - 1] = (char)i;
				EXPECT_EQ((char)i, self->p[lens[j] - 1]);
				EXPECT_EQ(0, ioctl(gfd, PIN_LONGTERM_TEST_STOP));
			}
		}
	}
	gup.addr = (uintptr_t)self->p;
	gup.size = LEN;
	gup.nr_pages_per_call = 512;
	gup.gup_flags = FOLL_WRITE_;
	ASSERT_EQ(0, ioctl(gfd, PIN_LONGTERM_BENCHMARK, &gup)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(LEN, gup.size) TH_LOG("PIN_LONGTERM_BENCHMARK pinned %llu bytes",
					(unsigned long long)gup.size);
	close(gfd);
}

TEST_F(gup, odirect_read_into_buffer)
{
	const char *dir = dax_dir(DAX_FS_XFS), *bdev = getenv("PMEM_XFS_DEV");
	long long phys;
	int fd, bfd;

	if (!dir || !bdev)
		SKIP(return, "no $DAX_XFS or $PMEM_XFS_DEV");
	phys = devdax_file_on_bdev(_metadata, dir, bdev, PMDSZ, 5, &fd, &bfd);
	memset(self->p, 0, LEN);
	/* into the second PMD, from an offset in the middle of the first */
	ASSERT_EQ((ssize_t)PMDSZ, pread(bfd, self->p + PMDSZ, PMDSZ, phys));
	EXPECT_EQ(-1, pattern_check(self->p + PMDSZ, PMDSZ, 5, 0));
	ASSERT_EQ((ssize_t)(64 * KiB), pread(bfd, self->p + PMDSZ - 32 * KiB, 64 * KiB, phys));
	EXPECT_EQ(-1, pattern_check(self->p + PMDSZ - 32 * KiB, 64 * KiB, 5, 0));
	EXPECT_EQ(-1, zero_check(self->p, PMDSZ - 32 * KiB));
	close(bfd);
	close(fd);
}

TEST_F(gup, fork_child_writes)
{
	int status;
	pid_t pid;

	memset(self->p, 0, PG);
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		pattern_fill(self->p + PMDSZ, PMDSZ, 8, 0);
		self->p[0] = 1;
		_exit(0);
	}
	ASSERT_EQ(1, wait_child_ms(pid, 20000, &status));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(1, self->p[0]);
	EXPECT_EQ(-1, pattern_check(self->p + PMDSZ, PMDSZ, 8, 0));
}

TEST_HARNESS_MAIN
