// SPDX-License-Identifier: GPL-2.0
/*
 * dax_vmops: mremap, mprotect, madvise(MADV_DONTNEED), partial munmap and
 * mlock on DAX mappings (whole PMDs and pieces of them).  Regression floor.
 *
 * Variants: {xfs, ext4} x {4k, 2m} x {MAP_SHARED, MAP_PRIVATE}; 4 MiB file
 * written with pattern 1.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)

DAX_FILE_FIXTURE(vmops);
DAX_ADD_ALL_VARIANTS(vmops);
/* f.len: the current length of the mapping at f.p */
DAX_FILE_FIXTURE_SETUP(vmops, FSIZE, DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_BUF, 1);

/* write seed over [off, off+len): through the file for shared, COW for private */
static uint32_t dirty(char *p, size_t off, size_t len, uint32_t seed)
{
	pattern_fill(p + off, len, seed, off);
	return seed;
}

TEST_F(vmops, mremap_move)
{
	char *p = self->f.p, *n, *target, v;
	void *fa = NULL;

	touch_range(p, FSIZE, false);
	dirty(p, PG, PG, 2);
	target = map_aligned(FSIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, 0);
	ASSERT_NE(MAP_FAILED, target);
	n = mremap(p, FSIZE, FSIZE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	ASSERT_EQ(target, n) TH_LOG("mremap: %s", strerror(errno));
	self->f.p = n;
	EXPECT_EQ(SIGSEGV, probe_read(p + PG, &v, &fa));
	EXPECT_EQ((void *)(p + PG), fa);

	EXPECT_EQ(-1, pattern_check(n, PG, 1, 0));
	EXPECT_EQ(-1, pattern_check(n + PG, PG, 2, PG));
	EXPECT_EQ(-1, pattern_check(n + 2 * PG, FSIZE - 2 * PG, 1, 2 * PG));
	dirty(n, 3 * MiB, PG, 3);
	EXPECT_EQ(-1, pattern_check(n + 3 * MiB, PG, 3, 3 * MiB));
	if (variant->m.shared) {
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, PG, PG, 2);
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, 3 * MiB, PG, 3);
	} else {
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, 0, FSIZE, 1);
	}
}

TEST_F(vmops, mremap_grow_and_shrink)
{
	char *p = self->f.p, *n, v;
	void *fa = NULL;

	/* shrink to 2 MiB: the rest goes away */
	touch_range(p, FSIZE, false);
	n = mremap(p, FSIZE, PMDSZ, 0);
	ASSERT_EQ(p, n);
	self->f.len = PMDSZ;
	EXPECT_EQ(SIGSEGV, probe_read(p + PMDSZ, &v, &fa));
	EXPECT_EQ((void *)(p + PMDSZ), fa);
	EXPECT_EQ(-1, pattern_check(p, PMDSZ, 1, 0));

	/* grow back (may move): the new part shows the file */
	dirty(p, 0, PG, 4);
	n = mremap(p, PMDSZ, FSIZE, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, n);
	self->f.p = n;
	self->f.len = FSIZE;
	EXPECT_EQ(-1, pattern_check(n, PG, 4, 0));
	EXPECT_EQ(-1, pattern_check(n + PG, FSIZE - PG, 1, PG));
	dirty(n, FSIZE - PG, PG, 5);
	if (variant->m.shared) {
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, FSIZE - PG, PG, 5);
	} else {
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, 0, FSIZE, 1);
	}
}

TEST_F(vmops, mprotect_readonly_then_rw)
{
	char *p = self->f.p, v = 0;
	void *fa = NULL;

	dirty(p, 0, FSIZE, 2);
	ASSERT_EQ(0, mprotect(p, FSIZE, PROT_READ));
	EXPECT_EQ(0, probe_read(p + PMDSZ + 5, &v, NULL));
	EXPECT_EQ(SIGSEGV, probe_write(p + PMDSZ + 5, 7, &fa));
	EXPECT_EQ((void *)(p + PMDSZ + 5), fa);
	EXPECT_EQ(SIGSEGV, probe_write(p, 7, &fa));
	EXPECT_EQ(-1, pattern_check(p, FSIZE, 2, 0));

	ASSERT_EQ(0, mprotect(p, FSIZE, PROT_READ | PROT_WRITE));
	dirty(p, PMDSZ, PG, 3);
	EXPECT_EQ(-1, pattern_check(p + PMDSZ, PG, 3, PMDSZ));
	if (variant->m.shared) {
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, PMDSZ, PG, 3);
	} else {
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, 0, FSIZE, 1);
	}

	/* PROT_NONE then back */
	ASSERT_EQ(0, mprotect(p, PMDSZ, PROT_NONE));
	EXPECT_EQ(SIGSEGV, probe_read(p + 100, &v, &fa));
	ASSERT_EQ(0, mprotect(p, PMDSZ, PROT_READ | PROT_WRITE));
	EXPECT_EQ(-1, pattern_check(p, PMDSZ, 2, 0));
}

/* mprotect of one page inside a (PMD-)mapped range splits it */
TEST_F(vmops, mprotect_one_page_in_pmd)
{
	char *p = self->f.p, v;
	void *fa = NULL;

	touch_range(p, FSIZE, variant->m.shared);
	ASSERT_EQ(0, mprotect(p + 9 * PG, PG, PROT_READ));
	EXPECT_EQ(SIGSEGV, probe_write(p + 9 * PG + 1, 1, &fa));
	EXPECT_EQ((void *)(p + 9 * PG + 1), fa);
	EXPECT_EQ(0, probe_read(p + 9 * PG + 1, &v, NULL));
	dirty(p, 8 * PG, PG, 6);
	dirty(p, 10 * PG, PG, 6);
	EXPECT_EQ(-1, pattern_check(p + 8 * PG, PG, 6, 8 * PG));
	EXPECT_EQ(-1, pattern_check(p + 9 * PG, PG, 1, 9 * PG));
	EXPECT_EQ(-1, pattern_check(p + 10 * PG, PG, 6, 10 * PG));
	EXPECT_EQ(-1, pattern_check(p + 11 * PG, FSIZE - 11 * PG, 1, 11 * PG));
}

TEST_F(vmops, madv_dontneed)
{
	char *p = self->f.p;

	touch_range(p, FSIZE, false);
	dirty(p, 0, PMDSZ, 2);
	dirty(p, PMDSZ + 3 * PG, PG, 2);
	ASSERT_EQ(0, madvise(p, FSIZE, MADV_DONTNEED));
	if (variant->m.shared) {
		/* the data is in the file: it comes back */
		EXPECT_EQ(-1, pattern_check(p, PMDSZ, 2, 0));
		EXPECT_EQ(-1, pattern_check(p + PMDSZ + 3 * PG, PG, 2, PMDSZ + 3 * PG));
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, 0, PMDSZ, 2);
	} else {
		/* private copies are dropped: the file's data is visible again */
		EXPECT_EQ(-1, pattern_check(p, FSIZE, 1, 0));
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, 0, FSIZE, 1);
	}

	/* a single page in the middle of a (PMD-)mapped range */
	touch_range(p, FSIZE, false);
	dirty(p, 17 * PG, 3 * PG, 3);
	ASSERT_EQ(0, madvise(p + 18 * PG, PG, MADV_DONTNEED));
	EXPECT_EQ(-1, pattern_check(p + 17 * PG, PG, 3, 17 * PG));
	EXPECT_EQ(-1, pattern_check(p + 18 * PG, PG, variant->m.shared ? 3 : 1, 18 * PG));
	EXPECT_EQ(-1, pattern_check(p + 19 * PG, PG, 3, 19 * PG));
}

TEST_F(vmops, partial_munmap)
{
	char *p = self->f.p, v;
	void *fa = NULL;

	touch_range(p, FSIZE, variant->m.shared);
	ASSERT_EQ(0, munmap(p + 100 * PG, PG));
	EXPECT_EQ(SIGSEGV, probe_read(p + 100 * PG, &v, &fa));
	EXPECT_EQ((void *)(p + 100 * PG), fa);
	EXPECT_EQ(-1, pattern_check(p, 100 * PG, 1, 0));
	EXPECT_EQ(-1, pattern_check(p + 101 * PG, FSIZE - 101 * PG, 1, 101 * PG));
	dirty(p, 99 * PG, PG, 2);
	dirty(p, 101 * PG, PG, 2);
	/* unmap the first 2 MiB around the hole, keep the rest */
	ASSERT_EQ(0, munmap(p, PMDSZ));
	EXPECT_EQ(SIGSEGV, probe_read(p + 99 * PG, &v, NULL));
	EXPECT_EQ(-1, pattern_check(p + PMDSZ, PMDSZ, 1, PMDSZ));
	if (variant->m.shared) {
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, 99 * PG, PG, 2);
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, 101 * PG, PG, 2);
	}
	ASSERT_EQ(0, munmap(p + PMDSZ, PMDSZ));
	self->f.p = MAP_FAILED;
}

/*
 * mlock of a DAX mapping succeeds but does not lock: mlock_fixup() leaves
 * DAX VMAs alone (vma_is_dax), so VmFlags gets no "lo".
 */
TEST_F(vmops, mlock_munlock)
{
	char *p = self->f.p;

	ASSERT_EQ(0, mlock(p, FSIZE)) TH_LOG("mlock: %s", strerror(errno));
	EXPECT_FALSE(smaps_has_vmflag(p, "lo"));
	EXPECT_EQ(-1, pattern_check(p, FSIZE, 1, 0));
	dirty(p, PG, PG, 2);
	EXPECT_EQ(-1, pattern_check(p + PG, PG, 2, PG));
	ASSERT_EQ(0, munlock(p, FSIZE));
	EXPECT_FALSE(smaps_has_vmflag(p, "lo"));
	EXPECT_EQ(-1, pattern_check(p + PG, PG, 2, PG));
}

TEST_HARNESS_MAIN
