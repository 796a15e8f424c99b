// SPDX-License-Identifier: GPL-2.0
/*
 * dax_mapsync: MAP_SYNC semantics on xfs and ext4 DAX (6.12 mm/mmap.c):
 * - MAP_SHARED_VALIDATE | MAP_SYNC maps with VM_SYNC ("sf" in VmFlags);
 *   write faults into unallocated blocks work (the fault path syncs the
 *   metadata before installing the PTE/PMD: ->pfn_mkwrite / NEEDDSYNC);
 * - MAP_SHARED does not validate flags: MAP_SYNC and unknown bits are
 *   accepted;
 * - MAP_SHARED_VALIDATE refuses unknown flags and MAP_SYNC on a file
 *   without DAX with EOPNOTSUPP;
 * - MAP_PRIVATE does not validate flags: MAP_PRIVATE | MAP_SYNC succeeds and
 *   writes stay private.
 * Regression floor: passes on stock 6.12.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define MAP_UNKNOWN_BIT 0x200000	/* unused by x86 mmap flags in 6.12 */

#define FSIZE	(4 * MiB)

DAX_FILE_FIXTURE(sync);
DAX_ADD_FS_VARIANTS(sync);
/* sparse: write faults must allocate blocks */
DAX_FILE_FIXTURE_SETUP(sync, FSIZE, DAX_BUF, 0);

static void *map_sync(int fd, size_t len, int flags, bool pmd)
{
	char *p = map_aligned(len, PROT_READ | PROT_WRITE, flags, fd, 0, 0);

	if (p != MAP_FAILED && !pmd)
		madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

TEST_F(sync, validate_sync_allocating_writes)
{
	struct stat st;
	char *p;

	p = map_sync(self->f.fd, FSIZE, MAP_SHARED_VALIDATE | MAP_SYNC, true);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("MAP_SYNC mmap: %s", strerror(errno));
	EXPECT_TRUE(smaps_has_vmflag(p, "sf"));
	ASSERT_EQ(0, fstat(self->f.fd, &st));
	EXPECT_EQ(0, st.st_blocks);

	/* first 2 MiB may use a PMD, the rest is written through 4 KiB PTEs */
	ASSERT_EQ(0, madvise(p + PMDSZ, FSIZE - PMDSZ, MADV_NOHUGEPAGE));
	pattern_fill(p, FSIZE, 11, 0);
	ASSERT_EQ(0, fstat(self->f.fd, &st));
	EXPECT_LE(FSIZE / 512, st.st_blocks) TH_LOG("st_blocks %ld", (long)st.st_blocks);
	ASSERT_EQ(FSIZE, pread(self->f.fd, self->f.buf, FSIZE, 0));
	EXPECT_EQ(-1, pattern_check(self->f.buf, FSIZE, 11, 0));
	EXPECT_EQ(0, fsync(self->f.fd));
	/* rewrite of mapped, allocated blocks */
	pattern_fill(p + PG, PG, 12, PG);
	ASSERT_EQ(PG, pread(self->f.fd, self->f.buf, PG, PG));
	EXPECT_EQ(-1, pattern_check(self->f.buf, PG, 12, PG));
	ASSERT_EQ(0, munmap(p, FSIZE));
}

TEST_F(sync, shared_does_not_validate)
{
	char *p = map_sync(self->f.fd, FSIZE, MAP_SHARED | MAP_SYNC, false);
	char vmflags[256] = "";

	/*
	 * MAP_SHARED accepts MAP_SYNC without validation.  (6.12 computes
	 * vm_flags before masking the legacy flags, so the VMA even gets
	 * VM_SYNC: not asserted, it is not a promise of the ABI.)
	 */
	ASSERT_NE(MAP_FAILED, p);
	smaps_field(p, "VmFlags", vmflags, sizeof(vmflags));
	TH_LOG("MAP_SHARED|MAP_SYNC VmFlags: %s", vmflags);
	pattern_fill(p, PG, 13, 0);
	ASSERT_EQ(PG, pread(self->f.fd, self->f.buf, PG, 0));
	EXPECT_EQ(-1, pattern_check(self->f.buf, PG, 13, 0));
	ASSERT_EQ(0, munmap(p, FSIZE));

	/* unknown bits are ignored by MAP_SHARED, refused by MAP_SHARED_VALIDATE */
	p = map_sync(self->f.fd, FSIZE, MAP_SHARED | MAP_UNKNOWN_BIT, false);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, munmap(p, FSIZE));
	p = map_sync(self->f.fd, FSIZE, MAP_SHARED_VALIDATE | MAP_UNKNOWN_BIT, false);
	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EOPNOTSUPP, errno);
}

TEST_F(sync, private_sync_accepted)
{
	char *p = map_sync(self->f.fd, FSIZE, MAP_PRIVATE | MAP_SYNC, true);

	ASSERT_NE(MAP_FAILED, p) TH_LOG("MAP_PRIVATE|MAP_SYNC: %s", strerror(errno));
	EXPECT_EQ(-1, zero_check(p, FSIZE));
	pattern_fill(p, FSIZE, 14, 0);
	EXPECT_EQ(-1, pattern_check(p, FSIZE, 14, 0));
	ASSERT_EQ(FSIZE, pread(self->f.fd, self->f.buf, FSIZE, 0));
	EXPECT_EQ(-1, zero_check(self->f.buf, FSIZE));
	ASSERT_EQ(0, munmap(p, FSIZE));
}

TEST_F(sync, readonly_fd_refused_for_write)
{
	int ro = reopen_fd(self->f.fd, O_RDONLY);
	char *p;

	ASSERT_LE(0, ro);
	p = map_sync(ro, FSIZE, MAP_SHARED_VALIDATE | MAP_SYNC, false);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EACCES, errno);
	p = mmap(NULL, FSIZE, PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, zero_check(p, PG));
	munmap(p, FSIZE);
	close(ro);
}

/* Not DAX: MAP_SYNC with MAP_SHARED_VALIDATE is EOPNOTSUPP (memfd). */
TEST(sync_refused_without_dax)
{
	int fd = memfd_create("nodax", 0);
	char *p;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, PG));
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EOPNOTSUPP, errno);
	p = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE, fd, 0);
	EXPECT_NE(MAP_FAILED, p);
	close(fd);
}

TEST_HARNESS_MAIN
