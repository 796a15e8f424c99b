// SPDX-License-Identifier: GPL-2.0
/*
 * dax_ref_reflink: a block shared by two xfs files (FICLONE) and mapped from
 * both is one page with two mappings: refcount 2, mapcount 2 (PMD: entire
 * mapcount 2); after COW of one side each page has 1/1; after munmap of one
 * file's mapping the shared page has 1/1.
 *
 * The shared page must not look anonymous (stock's PAGE_MAPPING_DAX_SHARED
 * aliases the anon bit: DESIGN point 5).
 *
 * NEW SEMANTICS (group "refcount"): fails on stock 6.12 (mapcount 0, "anon").
 * Variants: xfs x {4k, 2m}, MAP_SHARED.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/fs.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)

FIXTURE(rr) {
	int src, dst;
	char *ps, *pd;
};

FIXTURE_VARIANT(rr) {
	struct dax_mode m;
};

DAX_ADD_VARIANT(rr, xfs_4k, DAX_FS_XFS, false, true);
DAX_ADD_VARIANT(rr, xfs_2m, DAX_FS_XFS, true, true);

FIXTURE_SETUP(rr)
{
	const char *dir = dax_dir(variant->m.fs);

	self->src = self->dst = -1;
	self->ps = self->pd = MAP_FAILED;
	RIG_REQUIRE(dir, return, "no xfs DAX mount ($DAX_XFS)");
	RIG_REQUIRE_GUP_TEST(return);
	self->src = dax_create(dir, FSIZE, DAX_ALLOC | DAX_FILL, 1);
	ASSERT_LE(0, self->src);
	self->dst = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, self->dst);
	ASSERT_EQ(0, ioctl(self->dst, FICLONE, self->src)) TH_LOG("FICLONE: %s", strerror(errno));
	self->ps = dax_map(&variant->m, self->src, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, self->ps);
	self->pd = dax_map(&variant->m, self->dst, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, self->pd);
	touch_range(self->ps, PMDSZ, false);
	touch_range(self->pd, PMDSZ, false);
	ASSERT_EQ(pagemap_pfn(self->ps + 3 * PG), pagemap_pfn(self->pd + 3 * PG));
}

FIXTURE_TEARDOWN(rr)
{
	if (self->ps != MAP_FAILED)
		munmap(self->ps, FSIZE);
	if (self->pd != MAP_FAILED)
		munmap(self->pd, FSIZE);
	if (self->src >= 0)
		close(self->src);
	if (self->dst >= 0)
		close(self->dst);
}

static void expect_mapped(struct __test_metadata *_metadata, int pmd, char *addr,
			  long n, const char *what)
{
	struct page_state ps;
	int ret = page_state(addr, &ps);

	ASSERT_EQ(0, ret) TH_LOG("page_state: %s", strerror(-ret));
	TH_LOG("%s: %s", what, page_state_str(&ps));
	/* stock 6.12 marks shared DAX pages with PAGE_MAPPING_DAX_SHARED, which
	 * aliases the anon bit: dump_page() calls them "anon" */
	EXPECT_EQ(NULL, strstr(ps.flags, "anon")) TH_LOG("%s: looks anonymous", what);
	EXPECT_EQ(n, ps.refcount) TH_LOG("%s: refcount", what);
	if (pmd < 0) {		/* either: a 2 MiB COW may give a new PMD folio */
		EXPECT_EQ(n, ps.large ? ps.entire_mapcount + ps.mapcount : ps.mapcount);
	} else if (pmd) {
		EXPECT_TRUE(ps.large);
		EXPECT_EQ(n, ps.entire_mapcount) TH_LOG("%s: entire_mapcount", what);
	} else {
		EXPECT_FALSE(ps.large);
		EXPECT_EQ(n, ps.mapcount) TH_LOG("%s: mapcount", what);
	}
}

TEST_F(rr, shared_block_two_files)
{
	expect_mapped(_metadata, variant->m.pmd, self->ps + 3 * PG, 2, "shared, both mapped");
	ASSERT_EQ(0, munmap(self->pd, FSIZE));
	self->pd = MAP_FAILED;
	expect_mapped(_metadata, variant->m.pmd, self->ps + 3 * PG, 1, "after munmap of dst");
}

TEST_F(rr, cow_splits_counts)
{
	/* 4k: COW of one page; 2m: the write COWs (at least) that page */
	pattern_fill(self->pd + 3 * PG, PG, 2, 3 * PG);
	EXPECT_NE(pagemap_pfn(self->ps + 3 * PG), pagemap_pfn(self->pd + 3 * PG));
	touch_range(self->pd, PMDSZ, false);
	expect_mapped(_metadata, variant->m.pmd ? -1 : 0, self->pd + 3 * PG, 1, "dst after COW");
	EXPECT_EQ(-1, pattern_check(self->ps + 3 * PG, PG, 1, 3 * PG));
	expect_mapped(_metadata, variant->m.pmd, self->ps + 3 * PG, 1, "src after COW");
}

TEST_HARNESS_MAIN
