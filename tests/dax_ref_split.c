// SPDX-License-Identifier: GPL-2.0
/*
 * dax_ref_split: a PMD-sized DAX folio goes back to order-0 pages when its
 * 2 MiB entry is broken up, and the pages are sane afterwards:
 * - punch 4 KiB out of a PMD-mapped 2 MiB extent, fault the rest back in
 *   (now through PTEs): every page is order 0, refcount 1, mapcount 1, not
 *   locked, no memcg data, same pfn as before, same data; the hole reads
 *   zero and a write into it allocates a sane order-0 page;
 * - punch the whole 2 MiB, allocate and write it again, fault it: either an
 *   order-9 folio with refcount 1 / entire mapcount 1 (PMD) or order-0 pages
 *   with 1/1, never stale state (DESIGN pitfall 4: stale order/_nr_pages).
 *
 * NEW SEMANTICS (group "refcount"): fails on stock 6.12 (the PMD mapping is
 * not an order-9 folio, PTE-mapped pages have mapcount 0).
 * Variants: {xfs, ext4}, MAP_SHARED, 2 MiB aligned.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define HOLE	5	/* page punched out of the first 2 MiB */

DAX_FILE_FIXTURE(split);
DAX_ADD_VARIANT(split, xfs, DAX_FS_XFS, true, true);
DAX_ADD_VARIANT(split, ext4, DAX_FS_EXT4, true, true);

FIXTURE_SETUP(split)
{
	struct page_state ps;
	long f0;

	if (!dax_file_setup(_metadata, &self->f, &variant->m, FSIZE,
			    DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_RIG | DAX_GUP, 1))
		return;
	f0 = fault_count();
	touch_range(self->f.p, PMDSZ, false);
	ASSERT_GE(2, fault_count() - f0) TH_LOG("not PMD-mapped");
	get_page_state(_metadata, "before", self->f.p, &ps);
	ASSERT_TRUE(ps.large);
	ASSERT_EQ(9, ps.order);
	ASSERT_EQ(1, ps.entire_mapcount);
	ASSERT_EQ(1, ps.refcount);
}

static void expect_small_page(struct __test_metadata *_metadata, char *addr,
			      long long want_pfn, const char *what)
{
	struct page_state ps;

	get_page_state(_metadata, what, addr, &ps);
	EXPECT_FALSE(ps.large) TH_LOG("%s: still part of a large folio", what);
	EXPECT_EQ(1, ps.refcount);
	EXPECT_EQ(1, ps.mapcount);
	EXPECT_FALSE(ps.memcg) TH_LOG("%s: stale memcg data", what);
	EXPECT_EQ(NULL, strstr(ps.flags, "locked")) TH_LOG("%s: left locked", what);
	EXPECT_EQ(NULL, strstr(ps.flags, "head")) TH_LOG("%s: head flag", what);
	EXPECT_EQ(NULL, strstr(ps.flags, "anon"));
	if (want_pfn > 0)
		EXPECT_EQ(want_pfn, (long long)ps.pfn);
}

TEST_F(split, punch_4k_then_ptes)
{
	static const unsigned int pages[] = { 0, 1, HOLE - 1, HOLE + 1, 256, 511 };
	long long pfn0 = pagemap_pfn(self->f.p);
	char *p = self->f.p;
	unsigned int i;
	long f0;

	ASSERT_LT(0, pfn0);
	ASSERT_EQ(0, fallocate(self->f.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       HOLE * PG, PG));
	f0 = fault_count();
	EXPECT_EQ(-1, pattern_check(p, HOLE * PG, 1, 0));
	EXPECT_EQ(-1, zero_check(p + HOLE * PG, PG));
	EXPECT_EQ(-1, pattern_check(p + (HOLE + 1) * PG, PMDSZ - (HOLE + 1) * PG, 1,
				    (HOLE + 1) * PG));
	EXPECT_LE(500, fault_count() - f0) TH_LOG("refaulted with PTEs expected");
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		char what[32];

		snprintf(what, sizeof(what), "page %u", pages[i]);
		expect_small_page(_metadata, p + pages[i] * PG, pfn0 + pages[i], what);
	}
	/* write into the hole: a newly allocated, sane page */
	pattern_fill(p + HOLE * PG, PG, 2, HOLE * PG);
	expect_small_page(_metadata, p + HOLE * PG, 0, "refilled hole");
	/* the second 2 MiB is untouched by all this */
	touch_range(p + PMDSZ, PMDSZ, false);
	EXPECT_EQ(-1, pattern_check(p + PMDSZ, PMDSZ, 1, PMDSZ));
}

TEST_F(split, punch_2m_then_refill)
{
	struct page_state ps;
	char buf[PG];
	char *p = self->f.p;

	ASSERT_EQ(0, fallocate(self->f.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PMDSZ));
	EXPECT_EQ(-1, zero_check(p, PMDSZ));
	ASSERT_EQ(0, fallocate(self->f.fd, 0, 0, PMDSZ));
	for (size_t off = 0; off < PMDSZ; off += PG) {
		pattern_fill(buf, PG, 3, off);
		ASSERT_EQ(PG, pwrite(self->f.fd, buf, PG, off));
	}
	touch_range(p, PMDSZ, false);
	EXPECT_EQ(-1, pattern_check(p, PMDSZ, 3, 0));
	get_page_state(_metadata, "refilled", p + 2 * PG, &ps);
	EXPECT_EQ(1, ps.refcount);
	EXPECT_FALSE(ps.memcg);
	EXPECT_EQ(NULL, strstr(ps.flags, "locked"));
	if (ps.large) {
		EXPECT_EQ(9, ps.order);
		EXPECT_EQ(1, ps.entire_mapcount);
		EXPECT_EQ(1, ps.folio_mapcount);
	} else {
		EXPECT_EQ(1, ps.mapcount);
	}
}

TEST_HARNESS_MAIN
