// SPDX-License-Identifier: GPL-2.0
/*
 * dax_smaps: /proc/self/smaps and /proc/self/status account DAX mappings
 * like any file mapping:
 * - 4 KiB: Rss == Pss == bytes faulted, all in Private_Clean/Private_Dirty
 *   (one mapper), Anonymous 0, FilePmdMapped 0, RssFile grows the same;
 * - 2 MiB: FilePmdMapped == 2048 kB per PMD, Rss the same;
 * - two mappings of the same pages: each VMA's Rss is full, Pss half, and
 *   the pages count as Shared_*;
 * - MADV_DONTNEED takes the Rss away; a private COW turns a page Anonymous.
 *
 * NEW SEMANTICS (group "refcount"): fails on stock 6.12, where DAX mappings
 * show Rss 0 kB (vm_normal_page() is NULL for DAX, nothing is accounted).
 * Variants: {xfs, ext4} x {4k, 2m} x {MAP_SHARED, MAP_PRIVATE (read faults)}.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define NPAGES	37

DAX_FILE_FIXTURE(smaps);
DAX_ADD_ALL_VARIANTS(smaps);
DAX_FILE_FIXTURE_SETUP(smaps, FSIZE, DAX_ALLOC | DAX_FILL | DAX_MAP, 1);

/* bytes expected mapped after touching the first len bytes */
static long touched_kb(const struct dax_mode *m, size_t len)
{
	if (m->pmd)
		return ((len + PMDSZ - 1) / PMDSZ) * (PMDSZ / KiB);
	return len / KiB;
}

#define LOG_SMAPS(p) TH_LOG("Rss %ld Pss %ld Shared_Clean %ld Shared_Dirty %ld Private_Clean %ld Private_Dirty %ld Anonymous %ld FilePmdMapped %ld", \
	smaps_kb(p, "Rss"), smaps_kb(p, "Pss"), smaps_kb(p, "Shared_Clean"), smaps_kb(p, "Shared_Dirty"), \
	smaps_kb(p, "Private_Clean"), smaps_kb(p, "Private_Dirty"), smaps_kb(p, "Anonymous"), \
	smaps_kb(p, "FilePmdMapped"))

TEST_F(smaps, rss_of_faulted_range)
{
	char *p = self->f.p;
	long rssfile0 = proc_kb("/proc/self/status", "RssFile"), want;

	ASSERT_EQ(0, smaps_kb(p, "Rss"));
	touch_range(p, NPAGES * PG, variant->m.shared);
	want = touched_kb(&variant->m, NPAGES * PG);
	LOG_SMAPS(p);
	EXPECT_EQ(want, smaps_kb(p, "Rss"));
	EXPECT_EQ(want, smaps_kb(p, "Pss"));
	EXPECT_EQ(want, smaps_kb(p, "Private_Clean") + smaps_kb(p, "Private_Dirty"));
	EXPECT_EQ(0, smaps_kb(p, "Shared_Clean") + smaps_kb(p, "Shared_Dirty"));
	EXPECT_EQ(0, smaps_kb(p, "Anonymous"));
	EXPECT_EQ(variant->m.pmd ? want : 0, smaps_kb(p, "FilePmdMapped"));
	if (variant->m.shared)
		EXPECT_EQ(want, smaps_kb(p, "Private_Dirty"));
	EXPECT_EQ(want, proc_kb("/proc/self/status", "RssFile") - rssfile0);

	/* the whole file */
	touch_range(p, FSIZE, variant->m.shared);
	EXPECT_EQ(FSIZE / KiB, smaps_kb(p, "Rss"));
	EXPECT_EQ(variant->m.pmd ? FSIZE / KiB : 0, smaps_kb(p, "FilePmdMapped"));

	ASSERT_EQ(0, madvise(p, FSIZE, MADV_DONTNEED));
	EXPECT_EQ(0, smaps_kb(p, "Rss"));
	EXPECT_EQ(rssfile0, proc_kb("/proc/self/status", "RssFile"));
}

TEST_F(smaps, two_mappings_share)
{
	char *q = dax_map(&variant->m, self->f.fd, 0, FSIZE);
	long want = touched_kb(&variant->m, NPAGES * PG);

	ASSERT_NE(MAP_FAILED, q);
	touch_range(self->f.p, NPAGES * PG, false);
	touch_range(q, NPAGES * PG, false);
	LOG_SMAPS(self->f.p);
	EXPECT_EQ(want, smaps_kb(self->f.p, "Rss"));
	EXPECT_EQ(want, smaps_kb(q, "Rss"));
	EXPECT_EQ(want / 2, smaps_kb(self->f.p, "Pss"));
	EXPECT_EQ(want, smaps_kb(self->f.p, "Shared_Clean") + smaps_kb(self->f.p, "Shared_Dirty"));
	EXPECT_EQ(0, smaps_kb(self->f.p, "Private_Clean") + smaps_kb(self->f.p, "Private_Dirty"));
	ASSERT_EQ(0, munmap(q, FSIZE));
	EXPECT_EQ(want, smaps_kb(self->f.p, "Pss"));
}

/* private: a COW replaces one DAX page by an anonymous page */
TEST_F(smaps, private_cow_is_anonymous)
{
	char *p = self->f.p;
	long want;

	touch_range(p, NPAGES * PG, false);
	want = touched_kb(&variant->m, NPAGES * PG);
	EXPECT_EQ(want, smaps_kb(p, "Rss"));
	if (variant->m.shared) {
		touch_range(p, NPAGES * PG, true);
		EXPECT_EQ(want, smaps_kb(p, "Rss"));
		EXPECT_EQ(0, smaps_kb(p, "Anonymous"));
		EXPECT_EQ(want, smaps_kb(p, "Private_Dirty"));
		return;
	}
	p[PG] = 1;
	LOG_SMAPS(p);
	EXPECT_EQ(4, smaps_kb(p, "Anonymous"));
	/* 4k: the COWed page replaced its DAX page; 2m: the PMD was split,
	 * only the COWed page is mapped until the others fault again */
	if (variant->m.pmd) {
		EXPECT_EQ(4, smaps_kb(p, "Rss"));
	} else {
		EXPECT_EQ(want, smaps_kb(p, "Rss"));
	}
	touch_range(p, NPAGES * PG, false);
	EXPECT_EQ(NPAGES * 4, smaps_kb(p, "Rss"));
	EXPECT_EQ(0, smaps_kb(p, "FilePmdMapped"));
}

TEST_HARNESS_MAIN
