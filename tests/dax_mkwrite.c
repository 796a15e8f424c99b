// SPDX-License-Identifier: GPL-2.0
/*
 * dax_mkwrite: write faults on shared DAX mappings keep reaching the
 * filesystem (->pfn_mkwrite / huge_fault) after writeback cleaned them
 * (DESIGN pitfall 9): fsync write-protects the dirty PTEs/PMDs, so the next
 * store faults again (one fault per page, or per PMD), a store without an
 * fsync in between does not; with MAP_SYNC the same holds and the data is
 * in the file after every store.  Regression floor.
 * Variants: {xfs, ext4} x {4k, 2m}, MAP_SHARED.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)

DAX_FILE_FIXTURE(mkw);
DAX_ADD_SHARED_VARIANTS(mkw);
/* not mapped: the tests map it their own ways */
DAX_FILE_FIXTURE_SETUP(mkw, FSIZE, DAX_ALLOC | DAX_FILL | DAX_BUF, 1);

/* store one word per page; returns the faults it took */
static long store_pages(char *p, size_t len, uint32_t seed)
{
	long f0 = fault_count();
	size_t off;

	for (off = 0; off < len; off += PG)
		pattern_fill(p + off, 4, seed, off);
	return fault_count() - f0;
}

static void run(struct __test_metadata *_metadata, FIXTURE_DATA(mkw) *self,
		const struct dax_mode *m, char *p)
{
	long per_range = m->pmd ? FSIZE / PMDSZ : FSIZE / PG, f;
	int round;

	f = store_pages(p, FSIZE, 2);
	TH_LOG("first stores: %ld faults", f);
	EXPECT_LE(per_range, f);
	/* still writable: no faults */
	EXPECT_EQ(0, store_pages(p, FSIZE, 3));
	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, fsync(self->f.fd));
		f = store_pages(p, FSIZE, 4 + round);
		TH_LOG("stores after fsync %d: %ld faults", round, f);
		EXPECT_LE(per_range, f) TH_LOG("writeback did not write-protect, or faults lost");
		EXPECT_GE(per_range * 2, f);
		ASSERT_EQ(4, pread(self->f.fd, self->f.buf, 4, FSIZE - PG));
		EXPECT_EQ(-1, pattern_check(self->f.buf, 4, 4 + round, FSIZE - PG));
	}
	/* msync does the same as fsync */
	ASSERT_EQ(0, msync(p, FSIZE, MS_SYNC));
	EXPECT_LE(per_range, store_pages(p, FSIZE, 8));
}

TEST_F(mkw, refault_after_fsync)
{
	char *p = dax_map(&variant->m, self->f.fd, 0, FSIZE);

	ASSERT_NE(MAP_FAILED, p);
	run(_metadata, self, &variant->m, p);
	munmap(p, FSIZE);
}

TEST_F(mkw, refault_after_fsync_map_sync)
{
	char *p = map_aligned(FSIZE, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC,
			      self->f.fd, 0, 0);

	ASSERT_NE(MAP_FAILED, p) TH_LOG("MAP_SYNC: %s", strerror(errno));
	if (!variant->m.pmd)
		ASSERT_EQ(0, madvise(p, FSIZE, MADV_NOHUGEPAGE));
	run(_metadata, self, &variant->m, p);
	munmap(p, FSIZE);
}

TEST_HARNESS_MAIN
