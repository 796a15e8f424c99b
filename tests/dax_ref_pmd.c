// SPDX-License-Identifier: GPL-2.0
/*
 * dax_ref_pmd: a PMD-mapped DAX extent is an order-9 folio; one PMD mapping
 * holds one folio reference and one entire mapcount; a 4 KiB mapping of one
 * of its pages next to it adds one reference and that page's mapcount.
 *
 * NEW SEMANTICS (group "refcount"): fails on stock 6.12, where DAX pages are
 * never compound and PMDs hold no reference (dump_page: refcount:2
 * mapcount:0, no "head:" line).
 *
 * Variants: {xfs, ext4} x {MAP_SHARED, MAP_PRIVATE (read faults)}, 2 MiB
 * aligned mappings of a 4 MiB fallocated, written file.  That the mapping is
 * really a PMD is checked first (one fault per 2 MiB, as in dax_pmd).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)

DAX_FILE_FIXTURE(refpmd);
DAX_ADD_VARIANT(refpmd, xfs_shared, DAX_FS_XFS, true, true);
DAX_ADD_VARIANT(refpmd, xfs_private, DAX_FS_XFS, true, false);
DAX_ADD_VARIANT(refpmd, ext4_shared, DAX_FS_EXT4, true, true);
DAX_ADD_VARIANT(refpmd, ext4_private, DAX_FS_EXT4, true, false);

FIXTURE_SETUP(refpmd)
{
	long f0;

	if (!dax_file_setup(_metadata, &self->f, &variant->m, FSIZE,
			    DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_RIG | DAX_GUP, 1))
		return;
	f0 = fault_count();
	touch_range(self->f.p, PMDSZ, variant->m.shared);
	ASSERT_GE(2, fault_count() - f0) TH_LOG("first 2 MiB not PMD-mapped: %ld faults",
						fault_count() - f0);
}

static void get_state(struct __test_metadata *_metadata, const char *what,
		      char *addr, struct page_state *ps)
{

	get_page_state(_metadata, what, addr, ps);
	ASSERT_EQ(pagemap_pfn(addr), (long long)ps->pfn);
}

static void expect_pmd_folio(struct __test_metadata *_metadata, const struct page_state *ps,
			     long refs, long entire, long ptemapped_pages)
{
	EXPECT_TRUE(ps->large);
	EXPECT_EQ(9, ps->order);
	EXPECT_EQ(refs, ps->refcount);
	EXPECT_EQ(entire, ps->entire_mapcount);
	EXPECT_EQ(entire + ptemapped_pages, ps->folio_mapcount);
	EXPECT_EQ(ptemapped_pages, ps->nr_pages_mapped);
	EXPECT_EQ(0, ps->pincount);
	EXPECT_EQ(NULL, strstr(ps->flags, "anon"));
}

TEST_F(refpmd, one_pmd_mapping)
{
	struct page_state ps;

	get_state(_metadata, "page 7 of a PMD mapping", self->f.p + 7 * PG, &ps);
	expect_pmd_folio(_metadata, &ps, 1, 1, 0);
	EXPECT_EQ(0, ps.mapcount);	/* no PTE maps this page */
	get_state(_metadata, "page 0 of a PMD mapping", self->f.p, &ps);
	expect_pmd_folio(_metadata, &ps, 1, 1, 0);
	get_state(_metadata, "page 511 of a PMD mapping", self->f.p + 511 * PG, &ps);
	expect_pmd_folio(_metadata, &ps, 1, 1, 0);
}

TEST_F(refpmd, second_pmd_separate_folio)
{
	struct page_state a, b;

	touch_range(self->f.p + PMDSZ, PMDSZ, false);
	get_state(_metadata, "first PMD", self->f.p + PG, &a);
	get_state(_metadata, "second PMD", self->f.p + PMDSZ + PG, &b);
	expect_pmd_folio(_metadata, &a, 1, 1, 0);
	expect_pmd_folio(_metadata, &b, 1, 1, 0);
	EXPECT_NE(a.pfn & ~511UL, b.pfn & ~511UL);
}

/* a 4 KiB mapping of page 7 of the same extent, next to the PMD mapping */
TEST_F(refpmd, pmd_plus_pte_mapping)
{
	struct dax_mode small = variant->m;
	struct page_state ps;
	char *q;

	small.pmd = false;
	small.shared = true;
	q = dax_map(&small, self->f.fd, 0, PMDSZ);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, pattern_check(q + 7 * PG, PG, 1, 7 * PG));
	get_state(_metadata, "page 7, PMD + PTE mapped", self->f.p + 7 * PG, &ps);
	EXPECT_EQ(pagemap_pfn(q + 7 * PG), (long long)ps.pfn);
	expect_pmd_folio(_metadata, &ps, 2, 1, 1);
	EXPECT_EQ(1, ps.mapcount);
	get_state(_metadata, "page 8, PMD mapped only", self->f.p + 8 * PG, &ps);
	expect_pmd_folio(_metadata, &ps, 2, 1, 1);
	EXPECT_EQ(0, ps.mapcount);
	ASSERT_EQ(0, munmap(q, PMDSZ));
	get_state(_metadata, "page 7 after the PTE mapping is gone", self->f.p + 7 * PG, &ps);
	expect_pmd_folio(_metadata, &ps, 1, 1, 0);
	EXPECT_EQ(0, ps.mapcount);
}

TEST_HARNESS_MAIN
