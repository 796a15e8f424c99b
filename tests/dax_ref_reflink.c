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
	struct dax_file src, dst;
};

FIXTURE_VARIANT(rr) {
	struct dax_mode m;
};

DAX_ADD_VARIANT(rr, xfs_4k, DAX_FS_XFS, false, true);
DAX_ADD_VARIANT(rr, xfs_2m, DAX_FS_XFS, true, true);

FIXTURE_SETUP(rr)
{
	const char *dir;

	dax_file_init(&self->dst);
	dir = dax_file_setup(_metadata, &self->src, &variant->m, FSIZE,
			     DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_RIG | DAX_GUP, 1);
	if (!dir)
		return;
	dax_file_clone(_metadata, &self->dst, &self->src, dir, &variant->m, DAX_MAP);
	touch_range(self->src.p, PMDSZ, false);
	touch_range(self->dst.p, PMDSZ, false);
	ASSERT_EQ(pagemap_pfn(self->src.p + 3 * PG), pagemap_pfn(self->dst.p + 3 * PG));
}

FIXTURE_TEARDOWN(rr)
{
	dax_file_teardown(&self->src);
	dax_file_teardown(&self->dst);
}

static void expect_mapped(struct __test_metadata *_metadata, int pmd, char *addr,
			  long n, const char *what)
{
	struct page_state ps;

	get_page_state(_metadata, what, addr, &ps);
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
	expect_mapped(_metadata, variant->m.pmd, self->src.p + 3 * PG, 2, "shared, both mapped");
	ASSERT_EQ(0, munmap(self->dst.p, FSIZE));
	self->dst.p = MAP_FAILED;
	expect_mapped(_metadata, variant->m.pmd, self->src.p + 3 * PG, 1, "after munmap of dst");
}

TEST_F(rr, cow_splits_counts)
{
	/* 4k: COW of one page; 2m: the write COWs (at least) that page */
	pattern_fill(self->dst.p + 3 * PG, PG, 2, 3 * PG);
	EXPECT_NE(pagemap_pfn(self->src.p + 3 * PG), pagemap_pfn(self->dst.p + 3 * PG));
	touch_range(self->dst.p, PMDSZ, false);
	expect_mapped(_metadata, variant->m.pmd ? -1 : 0, self->dst.p + 3 * PG, 1, "dst after COW");
	EXPECT_EQ(-1, pattern_check(self->src.p + 3 * PG, PG, 1, 3 * PG));
	expect_mapped(_metadata, variant->m.pmd, self->src.p + 3 * PG, 1, "src after COW");
}

TEST_HARNESS_MAIN
