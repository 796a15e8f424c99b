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

FIXTURE(smaps) {
	int fd;
	char *p;
};

FIXTURE_VARIANT(smaps) {
	struct dax_mode m;
};

DAX_ADD_ALL_VARIANTS(smaps);

FIXTURE_SETUP(smaps)
{
	const char *dir = dax_dir(variant->m.fs);

	self->fd = -1;
	self->p = MAP_FAILED;
	if (!dir)
		SKIP(return, "no %s DAX mount ($DAX_XFS/$DAX_EXT4)", dax_fs_name(variant->m.fs));
	self->fd = dax_create(dir, FSIZE, DAX_ALLOC | DAX_FILL, 1);
	ASSERT_LE(0, self->fd) TH_LOG("create: %s", strerror(errno));
	ASSERT_EQ(1, fd_is_dax(self->fd));
	self->p = dax_map(&variant->m, self->fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, self->p);
}

FIXTURE_TEARDOWN(smaps)
{
	if (self->p != MAP_FAILED)
		munmap(self->p, FSIZE);
	if (self->fd >= 0)
		close(self->fd);
}

static long status_kb(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	size_t n = strlen(field);
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

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
	char *p = self->p;
	long rssfile0 = status_kb("RssFile"), want;

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
	EXPECT_EQ(want, status_kb("RssFile") - rssfile0);

	/* the whole file */
	touch_range(p, FSIZE, variant->m.shared);
	EXPECT_EQ(FSIZE / KiB, smaps_kb(p, "Rss"));
	EXPECT_EQ(variant->m.pmd ? FSIZE / KiB : 0, smaps_kb(p, "FilePmdMapped"));

	ASSERT_EQ(0, madvise(p, FSIZE, MADV_DONTNEED));
	EXPECT_EQ(0, smaps_kb(p, "Rss"));
	EXPECT_EQ(rssfile0, status_kb("RssFile"));
}

TEST_F(smaps, two_mappings_share)
{
	char *q = dax_map(&variant->m, self->fd, 0, FSIZE);
	long want = touched_kb(&variant->m, NPAGES * PG);

	ASSERT_NE(MAP_FAILED, q);
	touch_range(self->p, NPAGES * PG, false);
	touch_range(q, NPAGES * PG, false);
	LOG_SMAPS(self->p);
	EXPECT_EQ(want, smaps_kb(self->p, "Rss"));
	EXPECT_EQ(want, smaps_kb(q, "Rss"));
	EXPECT_EQ(want / 2, smaps_kb(self->p, "Pss"));
	EXPECT_EQ(want, smaps_kb(self->p, "Shared_Clean") + smaps_kb(self->p, "Shared_Dirty"));
	EXPECT_EQ(0, smaps_kb(self->p, "Private_Clean") + smaps_kb(self->p, "Private_Dirty"));
	ASSERT_EQ(0, munmap(q, FSIZE));
	EXPECT_EQ(want, smaps_kb(self->p, "Pss"));
}

/* private: a COW replaces one DAX page by an anonymous page */
TEST_F(smaps, private_cow_is_anonymous)
{
	char *p = self->p;
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
