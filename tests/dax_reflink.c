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
	int src, dst;
	char *ps, *pd;
	char *buf;
};

FIXTURE_VARIANT(reflink) {
	struct dax_mode m;
};

DAX_ADD_VARIANT(reflink, xfs_4k, DAX_FS_XFS, false, true);
DAX_ADD_VARIANT(reflink, xfs_2m, DAX_FS_XFS, true, true);

FIXTURE_SETUP(reflink)
{
	const char *dir = dax_dir(variant->m.fs);

	self->src = self->dst = -1;
	self->ps = self->pd = MAP_FAILED;
	self->buf = NULL;
	if (!dir)
		SKIP(return, "no xfs DAX mount ($DAX_XFS)");
	self->src = dax_create(dir, FSIZE, DAX_ALLOC | DAX_FILL, 1);
	ASSERT_LE(0, self->src);
	self->dst = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, self->dst);
	ASSERT_EQ(0, ioctl(self->dst, FICLONE, self->src))
		TH_LOG("FICLONE: %s (xfs made with reflink=1?)", strerror(errno));
	ASSERT_EQ(1, fd_is_dax(self->dst));
	self->ps = dax_map(&variant->m, self->src, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, self->ps);
	self->pd = dax_map(&variant->m, self->dst, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, self->pd);
	self->buf = malloc(FSIZE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(reflink)
{
	if (self->ps != MAP_FAILED)
		munmap(self->ps, FSIZE);
	if (self->pd != MAP_FAILED)
		munmap(self->pd, FSIZE);
	if (self->src >= 0)
		close(self->src);
	if (self->dst >= 0)
		close(self->dst);
	free(self->buf);
}

static void check_file(struct __test_metadata *_metadata, int fd, char *buf,
		       size_t off, size_t len, uint32_t seed)
{
	ASSERT_EQ((ssize_t)len, pread(fd, buf, len, off));
	EXPECT_EQ(-1, pattern_check(buf, len, seed, off));
}

TEST_F(reflink, shared_blocks_same_pfn)
{
	touch_range(self->ps, FSIZE, false);
	touch_range(self->pd, FSIZE, false);
	EXPECT_EQ(-1, pattern_check(self->pd, FSIZE, 1, 0));
	EXPECT_EQ(pagemap_pfn(self->ps), pagemap_pfn(self->pd));
	EXPECT_EQ(pagemap_pfn(self->ps + PMDSZ + 9 * PG), pagemap_pfn(self->pd + PMDSZ + 9 * PG));
	EXPECT_LT(0, pagemap_pfn(self->pd));
}

TEST_F(reflink, write_cows)
{
	long long before;

	touch_range(self->ps, FSIZE, false);
	touch_range(self->pd, FSIZE, false);
	before = pagemap_pfn(self->pd + 3 * PG);
	pattern_fill(self->pd + 3 * PG, PG, 2, 3 * PG);
	EXPECT_NE(before, pagemap_pfn(self->pd + 3 * PG));
	EXPECT_EQ(before, pagemap_pfn(self->ps + 3 * PG));
	EXPECT_EQ(-1, pattern_check(self->ps, FSIZE, 1, 0));
	EXPECT_EQ(-1, pattern_check(self->pd + 3 * PG, PG, 2, 3 * PG));
	check_file(_metadata, self->src, self->buf, 0, FSIZE, 1);
	check_file(_metadata, self->dst, self->buf, 3 * PG, PG, 2);
	check_file(_metadata, self->dst, self->buf, 4 * PG, FSIZE - 4 * PG, 1);
	/* and a write through the source mapping COWs the source */
	pattern_fill(self->ps + PMDSZ, PG, 3, PMDSZ);
	check_file(_metadata, self->dst, self->buf, PMDSZ, PG, 1);
	check_file(_metadata, self->src, self->buf, PMDSZ, PG, 3);
	EXPECT_EQ(-1, pattern_check(self->pd + PMDSZ, PG, 1, PMDSZ));
}

TEST_F(reflink, unshare_and_truncate)
{
	touch_range(self->ps, FSIZE, false);
	touch_range(self->pd, FSIZE, false);
	ASSERT_EQ(0, fallocate(self->dst, FALLOC_FL_UNSHARE_RANGE, 0, PMDSZ))
		TH_LOG("UNSHARE: %s", strerror(errno));
	EXPECT_EQ(-1, pattern_check(self->pd, FSIZE, 1, 0));
	EXPECT_NE(pagemap_pfn(self->ps), pagemap_pfn(self->pd));
	EXPECT_EQ(pagemap_pfn(self->ps + PMDSZ), pagemap_pfn(self->pd + PMDSZ));

	ASSERT_EQ(0, ftruncate(self->src, PG));
	check_file(_metadata, self->dst, self->buf, 0, FSIZE, 1);
	EXPECT_EQ(-1, pattern_check(self->pd, FSIZE, 1, 0));
	pattern_fill(self->pd + 3 * MiB, PG, 4, 3 * MiB);
	check_file(_metadata, self->dst, self->buf, 3 * MiB, PG, 4);
}

TEST_HARNESS_MAIN
