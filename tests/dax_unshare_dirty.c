// SPDX-License-Identifier: GPL-2.0
/*
 * dax_unshare_dirty: unsharing a reflinked range that was written through
 * a mapping, then reusing the freed blocks.
 *
 * On xfs, file B is a FICLONE of file A, so both share every block.  B is
 * written through a MAP_SHARED mapping and not synced (the write faults
 * copy-on-write B's pages and leave dirty DAX entries), then
 * FALLOC_FL_UNSHARE_RANGE runs over all of B, A is truncated so its blocks
 * are freed, and new files allocate and fault them in.  A DAX entry of B
 * left pointing at an old block would make dax_associate_entry() warn when
 * the block's page is associated with a new file, and would later act on a
 * page that belongs to another file.
 *
 * Checks: the data of B and of the new files, and that the kernel did not
 * warn meanwhile (the "W" taint, bit 9 of /proc/sys/kernel/tainted, set by
 * any WARN).  Passes on stock 6.12 and with the series (regression test
 * written while chasing a warning dax_stress found).  xfs only (reflink).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define NEWF	8		/* files made to reuse A's freed blocks */

FIXTURE(unshare) {
	int a, b;
};

FIXTURE_VARIANT(unshare) {
	struct dax_mode m;
};

FIXTURE_VARIANT_ADD(unshare, xfs_4k) { .m = { .fs = DAX_FS_XFS, .pmd = false, .shared = true } };
FIXTURE_VARIANT_ADD(unshare, xfs_2m) { .m = { .fs = DAX_FS_XFS, .pmd = true, .shared = true } };

FIXTURE_SETUP(unshare)
{
	const char *dir = dax_dir(DAX_FS_XFS);

	self->a = self->b = -1;
	if (!dir)
		SKIP(return, "no $DAX_XFS");
	self->a = dax_create(dir, FSIZE, DAX_ALLOC | DAX_FILL, 21);
	ASSERT_LE(0, self->a) TH_LOG("create: %s", strerror(errno));
	self->b = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, self->b);
	if (ioctl(self->b, FICLONE, self->a))
		SKIP(return, "FICLONE: %s (no reflink)", strerror(errno));
}

FIXTURE_TEARDOWN(unshare)
{
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
}

/* 4 MiB of 4 KiB faults and eight new files: past the harness's 30 s on KASAN */
TEST_F_TIMEOUT(unshare, dirty_entries_dropped, 300)
{
	const char *dir = dax_dir(DAX_FS_XFS);
	int fd[NEWF], i;
	char *p, *q;

	if (kernel_warned())
		SKIP(return, "the kernel warned before this test: cannot tell (the run fails anyway)");
	/* B's entries: faulted for write through a shared mapping, not synced */
	p = dax_map(&variant->m, self->b, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, p);
	pattern_fill(p, FSIZE, 22, 0);
	ASSERT_EQ(0, munmap(p, FSIZE));

	/* B gets blocks of its own; A keeps the old ones, then lets them go */
	ASSERT_EQ(0, fallocate(self->b, FALLOC_FL_UNSHARE_RANGE, 0, FSIZE))
		TH_LOG("unshare: %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(self->a, 0));
	ASSERT_EQ(0, fsync(self->a));

	/* new files take the freed blocks and fault them in */
	for (i = 0; i < NEWF; i++) {
		fd[i] = dax_create(dir, FSIZE, DAX_ALLOC, 0);
		ASSERT_LE(0, fd[i]);
		q = dax_map(&variant->m, fd[i], 0, FSIZE);
		ASSERT_NE(MAP_FAILED, q);
		EXPECT_EQ(-1, zero_check(q, FSIZE)) TH_LOG("new file %d is not zero", i);
		pattern_fill(q, FSIZE, 100 + i, 0);
		ASSERT_EQ(0, munmap(q, FSIZE));
	}

	/* B reads its own data, through a mapping and read(2), also after fsync */
	ASSERT_EQ(0, fsync(self->b));
	p = dax_map(&variant->m, self->b, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, pattern_check(p, FSIZE, 22, 0));
	ASSERT_EQ(0, munmap(p, FSIZE));
	for (i = 0; i < NEWF; i++) {
		q = dax_map(&variant->m, fd[i], 0, FSIZE);
		ASSERT_NE(MAP_FAILED, q);
		EXPECT_EQ(-1, pattern_check(q, FSIZE, 100 + i, 0)) TH_LOG("new file %d", i);
		ASSERT_EQ(0, munmap(q, FSIZE));
		close(fd[i]);
	}
	/* dropping B's entries must not touch the other files' pages */
	ASSERT_EQ(0, ftruncate(self->b, 0));
	EXPECT_FALSE(kernel_warned()) TH_LOG("the kernel warned (see the log)");
}

TEST_HARNESS_MAIN
