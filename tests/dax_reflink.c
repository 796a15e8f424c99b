// SPDX-License-Identifier: GPL-2.0
/*
 * dax_reflink: xfs reflink on DAX.  A FICLONE'd file shares its blocks with
 * the source: mapped from both files the same pfn shows up; a write through
 * either mapping COWs (new block, the other file unchanged); FALLOC_FL_UNSHARE
 * gives private blocks; truncating one file leaves the other intact.
 * Regression floor (stock 6.12 supports fsdax reflink on xfs).
 * Variants: xfs x {4k, 2m}, MAP_SHARED.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/fs.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)

FIXTURE(reflink) {
	struct dax_file src, dst;
};

FIXTURE_VARIANT(reflink) {
	struct dax_mode m;
};

DAX_ADD_VARIANT(reflink, xfs_4k, DAX_FS_XFS, false, true);
DAX_ADD_VARIANT(reflink, xfs_2m, DAX_FS_XFS, true, true);

FIXTURE_SETUP(reflink)
{
	const char *dir;

	dax_file_init(&self->dst);
	/* src.buf: a buffer for read(2) of either file */
	dir = dax_file_setup(_metadata, &self->src, &variant->m, FSIZE,
			     DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_BUF, 1);
	if (!dir)
		return;
	dax_file_clone(_metadata, &self->dst, &self->src, dir, &variant->m, DAX_MAP);
}

FIXTURE_TEARDOWN(reflink)
{
	dax_file_teardown(&self->src);
	dax_file_teardown(&self->dst);
}

TEST_F(reflink, shared_blocks_same_pfn)
{
	touch_range(self->src.p, FSIZE, false);
	touch_range(self->dst.p, FSIZE, false);
	EXPECT_EQ(-1, pattern_check(self->dst.p, FSIZE, 1, 0));
	EXPECT_EQ(pagemap_pfn(self->src.p), pagemap_pfn(self->dst.p));
	EXPECT_EQ(pagemap_pfn(self->src.p + PMDSZ + 9 * PG),
		  pagemap_pfn(self->dst.p + PMDSZ + 9 * PG));
	EXPECT_LT(0, pagemap_pfn(self->dst.p));
}

TEST_F(reflink, write_cows)
{
	long long before;

	touch_range(self->src.p, FSIZE, false);
	touch_range(self->dst.p, FSIZE, false);
	before = pagemap_pfn(self->dst.p + 3 * PG);
	pattern_fill(self->dst.p + 3 * PG, PG, 2, 3 * PG);
	EXPECT_NE(before, pagemap_pfn(self->dst.p + 3 * PG));
	EXPECT_EQ(before, pagemap_pfn(self->src.p + 3 * PG));
	EXPECT_EQ(-1, pattern_check(self->src.p, FSIZE, 1, 0));
	EXPECT_EQ(-1, pattern_check(self->dst.p + 3 * PG, PG, 2, 3 * PG));
	expect_file_pattern(_metadata, self->src.fd, self->src.buf, 0, FSIZE, 1);
	expect_file_pattern(_metadata, self->dst.fd, self->src.buf, 3 * PG, PG, 2);
	expect_file_pattern(_metadata, self->dst.fd, self->src.buf, 4 * PG, FSIZE - 4 * PG, 1);
	/* and a write through the source mapping COWs the source */
	pattern_fill(self->src.p + PMDSZ, PG, 3, PMDSZ);
	expect_file_pattern(_metadata, self->dst.fd, self->src.buf, PMDSZ, PG, 1);
	expect_file_pattern(_metadata, self->src.fd, self->src.buf, PMDSZ, PG, 3);
	EXPECT_EQ(-1, pattern_check(self->dst.p + PMDSZ, PG, 1, PMDSZ));
}

TEST_F(reflink, unshare_and_truncate)
{
	touch_range(self->src.p, FSIZE, false);
	touch_range(self->dst.p, FSIZE, false);
	ASSERT_EQ(0, fallocate(self->dst.fd, FALLOC_FL_UNSHARE_RANGE, 0, PMDSZ))
		TH_LOG("UNSHARE: %s", strerror(errno));
	EXPECT_EQ(-1, pattern_check(self->dst.p, FSIZE, 1, 0));
	EXPECT_NE(pagemap_pfn(self->src.p), pagemap_pfn(self->dst.p));
	EXPECT_EQ(pagemap_pfn(self->src.p + PMDSZ), pagemap_pfn(self->dst.p + PMDSZ));

	ASSERT_EQ(0, ftruncate(self->src.fd, PG));
	expect_file_pattern(_metadata, self->dst.fd, self->src.buf, 0, FSIZE, 1);
	EXPECT_EQ(-1, pattern_check(self->dst.p, FSIZE, 1, 0));
	pattern_fill(self->dst.p + 3 * MiB, PG, 4, 3 * MiB);
	expect_file_pattern(_metadata, self->dst.fd, self->src.buf, 3 * MiB, PG, 4);
}

TEST_HARNESS_MAIN
