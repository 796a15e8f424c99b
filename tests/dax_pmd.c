// SPDX-License-Identifier: GPL-2.0
/*
 * dax_pmd: a 2 MiB aligned mapping of a 2 MiB aligned extent is mapped with
 * PMDs, 4 KiB mappings are not.  Regression floor: passes on stock 6.12.
 *
 * The proof does not rely on /proc/vmstat thp_fault_* (it does not count DAX
 * faults) nor on smaps (stock 6.12 shows 0 kB for DAX): it counts this
 * process's page faults (one per PMD against 512 per 2 MiB of PTEs), checks
 * that /proc/self/pagemap shows 512 physically contiguous, 2 MiB aligned
 * PFNs, and, when tracefs has the fs_dax events, counts dax_pmd_fault_done
 * events that returned NOPAGE (PMD installed) and FALLBACK.
 *
 * Variants: {xfs, ext4} x {MAP_SHARED, MAP_PRIVATE}; the file is 4 MiB,
 * fallocated and written with write(2) first.  Private mappings are touched
 * with loads (a private write fault always falls back to PTEs), shared ones
 * with stores only (a load then a store would be two faults per PMD: read
 * fault, then the write-protect fault that makes it writable).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)

FIXTURE(pmd) {
	struct dax_file f;	/* not mapped: the tests map it their own ways */
	bool trace;
};

FIXTURE_VARIANT(pmd) {
	struct dax_mode m;
};

DAX_ADD_VARIANT(pmd, xfs_shared, DAX_FS_XFS, true, true);
DAX_ADD_VARIANT(pmd, xfs_private, DAX_FS_XFS, true, false);
DAX_ADD_VARIANT(pmd, ext4_shared, DAX_FS_EXT4, true, true);
DAX_ADD_VARIANT(pmd, ext4_private, DAX_FS_EXT4, true, false);

FIXTURE_SETUP(pmd)
{
	self->trace = false;
	if (!dax_file_setup(_metadata, &self->f, &variant->m, FSIZE,
			    DAX_ALLOC | DAX_FILL | DAX_BUF, 1))
		return;
	self->trace = pmd_trace_start() == 0;
	if (!self->trace)
		TH_LOG("fs_dax tracepoint not available: fault counts and pagemap only");
}

FIXTURE_TEARDOWN(pmd)
{
	if (self->trace)
		pmd_trace_stop();
	dax_file_teardown(&self->f);
}

/* 512 PFNs starting 2 MiB aligned and contiguous: one PMD-sized extent. */
static bool pfns_pmd_contiguous(struct __test_metadata *_metadata, char *p)
{
	long long pfn0 = pagemap_pfn(p), pfn;
	unsigned long i;

	if (pfn0 <= 0) {
		TH_LOG("pagemap: %p not present (%lld)", p, pfn0);
		return false;
	}
	if (pfn0 % 512) {
		TH_LOG("pfn %#llx of %p is not 2 MiB aligned", pfn0, p);
		return false;
	}
	for (i = 1; i < 512; i++) {
		pfn = pagemap_pfn(p + i * PG);
		if (pfn != pfn0 + (long long)i) {
			TH_LOG("pfn of page %lu is %#llx, expected %#llx", i, pfn, pfn0 + i);
			return false;
		}
	}
	return true;
}

TEST_F(pmd, aligned_mapping_gets_pmds)
{
	char *p = dax_map(&variant->m, self->f.fd, 0, FSIZE);
	long f0, faults;
	int fb = 0, np;

	ASSERT_NE(MAP_FAILED, p);
	f0 = fault_count();
	if (variant->m.shared)
		pattern_fill(p, FSIZE, 1, 0);	/* stores only: write faults */
	else
		touch_range(p, FSIZE, false);	/* loads only: read faults */
	faults = fault_count() - f0;
	TH_LOG("%ld faults for 4 MiB", faults);
	/* 2 PMDs; allow a little slack for a retried fault */
	EXPECT_GE(4, faults);
	EXPECT_LE(2, faults);
	EXPECT_TRUE(pfns_pmd_contiguous(_metadata, p));
	EXPECT_TRUE(pfns_pmd_contiguous(_metadata, p + PMDSZ));
	if (self->trace) {
		np = pmd_trace_count(p, FSIZE, &fb);
		TH_LOG("trace: %d PMD faults NOPAGE, %d FALLBACK", np, fb);
		EXPECT_EQ(2, np);
		EXPECT_EQ(0, fb);
	}
	EXPECT_EQ(-1, pattern_check(p, FSIZE, 1, 0));
	ASSERT_EQ(0, munmap(p, FSIZE));
}

/*
 * Fault the first 2 MiB of the len bytes mapped at p (written if write):
 * one fault per 4 KiB page, no PMD fault in the whole mapping, the data.
 */
static void expect_pte_faults(struct __test_metadata *_metadata, FIXTURE_DATA(pmd) *self,
			      char *p, size_t len, bool write)
{
	long f0, faults;

	f0 = fault_count();
	touch_range(p, PMDSZ, write);
	faults = fault_count() - f0;
	TH_LOG("%ld faults for 2 MiB", faults);
	EXPECT_LE(512, faults);
	if (self->trace)
		EXPECT_EQ(0, pmd_trace_count(p, len, NULL));
	EXPECT_EQ(-1, pattern_check(p, PMDSZ, 1, 0));
}

TEST_F(pmd, nohugepage_gets_ptes)
{
	struct dax_mode m = variant->m;
	char *p;

	m.pmd = false;		/* MADV_NOHUGEPAGE */
	p = dax_map(&m, self->f.fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, p);
	expect_pte_faults(_metadata, self, p, FSIZE, variant->m.shared);
	ASSERT_EQ(0, munmap(p, FSIZE));
}

/* virtual address and file offset out of 2 MiB phase: no PMD can be used */
TEST_F(pmd, misaligned_mapping_gets_ptes)
{
	char *p = map_aligned(PMDSZ, PROT_READ | PROT_WRITE,
			      variant->m.shared ? MAP_SHARED : MAP_PRIVATE,
			      self->f.fd, 0, PG);

	ASSERT_NE(MAP_FAILED, p);
	expect_pte_faults(_metadata, self, p, PMDSZ, variant->m.shared);
	ASSERT_EQ(0, munmap(p, PMDSZ));
}

/*
 * Read fault first (read-only PMD), then write.  Shared: the write upgrades
 * the PMD in one more fault and reaches the file.  Private: the write COWs
 * one 4 KiB page (the PMD is split/zapped), the neighbours still show the
 * file, the file is unchanged.
 */
TEST_F(pmd, read_then_write)
{
	char *p = dax_map(&variant->m, self->f.fd, 0, PMDSZ);
	long f0, faults;

	ASSERT_NE(MAP_FAILED, p);
	f0 = fault_count();
	touch_range(p, PMDSZ, false);
	faults = fault_count() - f0;
	EXPECT_GE(2, faults);
	if (variant->m.shared) {
		f0 = fault_count();
		pattern_fill(p, PMDSZ, 2, 0);
		faults = fault_count() - f0;
		TH_LOG("%ld faults to write the read-mapped PMD", faults);
		EXPECT_GE(2, faults);
		ASSERT_EQ(PMDSZ, pread(self->f.fd, self->f.buf, PMDSZ, 0));
		EXPECT_EQ(-1, pattern_check(self->f.buf, PMDSZ, 2, 0));
	} else {
		pattern_fill(p + 5 * PG, PG, 3, 5 * PG);
		EXPECT_EQ(-1, pattern_check(p + 5 * PG, PG, 3, 5 * PG));
		EXPECT_EQ(-1, pattern_check(p, 5 * PG, 1, 0));
		EXPECT_EQ(-1, pattern_check(p + 6 * PG, PMDSZ - 6 * PG, 1, 6 * PG));
		ASSERT_EQ(PMDSZ, pread(self->f.fd, self->f.buf, PMDSZ, 0));
		EXPECT_EQ(-1, pattern_check(self->f.buf, PMDSZ, 1, 0));
		/* the COWed page is anonymous memory now: not the file's pfn */
		EXPECT_NE(pagemap_pfn(p + 4 * PG) + 1, pagemap_pfn(p + 5 * PG));
	}
	ASSERT_EQ(0, munmap(p, PMDSZ));
}

TEST_HARNESS_MAIN
