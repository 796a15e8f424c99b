// SPDX-License-Identifier: GPL-2.0
/*
 * dax_stale_entry: DAX page cache entries that outlive the blocks, or the
 * block mapping, they were made for.
 *
 * A DAX entry ties a file offset to the pages of the blocks under it: the
 * pages are associated with the file (->mapping/->index, or a share count
 * for reflinked blocks), busy-page scans before truncate look at them, and
 * memory-failure finds the file through them.  An entry that is not deleted
 * when its blocks are freed keeps a block that now belongs to another file
 * associated with the old one.
 *
 * partial: a file is faulted in with PMDs (2 MiB entries), then part of
 * one 2 MiB entry is freed: truncate inside it, punch hole, collapse range,
 * and on xfs a FICLONERANGE over part of it.  The truncation deletes the
 * whole PMD entry, which cannot be split, so
 *   - rest_faulted_small: the part that stays is faulted in again page by
 *     page (no page of the PMD-sized folio of a surviving entry);
 *   - rest_pin_holds_truncate: a page of that part, mapped with a PTE
 *     before the truncation and pinned after it, holds off the truncation
 *     of the rest of the file until the pin goes (the page must have been
 *     unmapped and faulted in again, with an entry of its own: xfs and ext4
 *     unmap the whole file before any truncation).
 *
 * cow_in_pmd (xfs): a file faulted in with a PMD is reflinked, and a write
 * through a PTE-only mapping unshares one page inside the PMD entry.  The
 * fault replaced the PMD entry by a single-page entry stored in the PMD
 * entry's slot, so that it covered the whole 2 MiB: the other 511 pages
 * were then mapped without being associated with the file (invisible to
 * busy-page scans: a pin on them did not hold off truncate).  Every page
 * mapped from the file must be associated with it.
 *
 * Needs gup_test (page state through dump_page()).  "Holds off" is seen,
 * not timed: the truncating task must be asleep in a pin wait
 * (task_sleeps_in(dax_pin_waits), lib/daxtest.h).  Stock 6.12 fails
 * rest_pin_holds_truncate (its busy-page scan skips a file that nothing maps
 * any more, so the truncate does not wait for the pin, and warns in
 * dax_disassociate_entry()) and cow_in_pmd, whose file's eviction then hits
 * "kernel BUG at fs/inode.c:674" (BUG_ON(nrpages): the misplaced entry made
 * the mapping's page count wrong); the series failed cow_in_pmd the same way
 * before its last patch.  rest_faulted_small passes on both.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(2 * PMDSZ)
#define HIT	(PMDSZ / 2)		/* the freed range starts in the first PMD */
#define HITLEN	(64 * KiB)

/* Whether the page mapped at addr is associated with a file at all. */
static bool associated(const struct page_state *ps)
{
	return ps->mapping || ps->index;	/* owned, or a share count */
}

enum op { OP_TRUNCATE, OP_PUNCH, OP_COLLAPSE, OP_CLONE };

FIXTURE(partial) {
	int a;
};

FIXTURE_VARIANT(partial) {
	enum dax_fs fs;
	enum op op;
};

FIXTURE_VARIANT_ADD(partial, xfs_truncate) { .fs = DAX_FS_XFS, .op = OP_TRUNCATE };
FIXTURE_VARIANT_ADD(partial, xfs_punch) { .fs = DAX_FS_XFS, .op = OP_PUNCH };
FIXTURE_VARIANT_ADD(partial, xfs_collapse) { .fs = DAX_FS_XFS, .op = OP_COLLAPSE };
FIXTURE_VARIANT_ADD(partial, xfs_clone) { .fs = DAX_FS_XFS, .op = OP_CLONE };
FIXTURE_VARIANT_ADD(partial, ext4_truncate) { .fs = DAX_FS_EXT4, .op = OP_TRUNCATE };
FIXTURE_VARIANT_ADD(partial, ext4_punch) { .fs = DAX_FS_EXT4, .op = OP_PUNCH };
FIXTURE_VARIANT_ADD(partial, ext4_collapse) { .fs = DAX_FS_EXT4, .op = OP_COLLAPSE };

FIXTURE_SETUP(partial)
{
	const char *dir = dax_dir(variant->fs);

	self->a = -1;
	RIG_REQUIRE(dir, return, "no DAX mount for %s", dax_fs_name(variant->fs));
	self->a = dax_create(dir, FSIZE, DAX_ALLOC | DAX_FILL, 31);
	ASSERT_LE(0, self->a) TH_LOG("create: %s", strerror(errno));
	/* the rig's filesystems are made for 2 MiB extents (setup-pmem.sh) */
	RIG_REQUIRE(pmd_aligned_extents(self->a, FSIZE), return,
		    "no 2 MiB aligned extents for the file");
}

FIXTURE_TEARDOWN(partial)
{
	if (self->a >= 0)
		close(self->a);
}

/*
 * Fault the whole file in with PMDs, then free [HIT, HIT + HITLEN) (truncate:
 * everything from HIT) with the variant's operation; d is an empty file of
 * HITLEN bytes, the source of OP_CLONE.  With pte0, page 0 is also mapped
 * with a PTE before the operation.  Returns 0, or -1 if the operation failed
 * or did not free the block at HIT.
 */
static int free_part(int a, int d, enum op op, char **pte0)
{
	long long phys;
	char *p;

	p = map_aligned(FSIZE, PROT_READ, MAP_SHARED, a, 0, 0);
	if (p == MAP_FAILED)
		return -1;
	touch_range(p, FSIZE, false);
	munmap(p, FSIZE);
	if (pte0) {
		/* page 0 mapped with a PTE, through the PMD entry */
		*pte0 = mmap(NULL, PG, PROT_READ, MAP_SHARED, a, 0);
		if (*pte0 == MAP_FAILED)
			return -1;
		touch_range(*pte0, PG, false);
	}
	phys = fiemap_phys(a, HIT);
	if (phys < 0)
		return -1;

	switch (op) {
	case OP_TRUNCATE:
		if (ftruncate(a, HIT))
			return -1;
		break;
	case OP_PUNCH:
		if (fallocate(a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, HIT, HITLEN))
			return -1;
		break;
	case OP_COLLAPSE:
		if (fallocate(a, FALLOC_FL_COLLAPSE_RANGE, HIT, HITLEN))
			return -1;
		break;
	case OP_CLONE: {
		struct file_clone_range r = {
			.src_fd = d, .src_length = HITLEN, .dest_offset = HIT,
		};

		if (ioctl(a, FICLONERANGE, &r))
			return -1;
		break;
	}
	}
	/* the block must be gone from the file */
	if (fsync(a) || fiemap_phys(a, HIT) == phys)
		return -1;
	return 0;
}

/*
 * What is left of the 2 MiB entry is faulted in again with PTEs: each page
 * on its own, not one of a PMD-sized folio of an entry that survived.
 */
TEST_F(partial, rest_faulted_small)
{
	const struct dax_mode pte = { .fs = variant->fs, .pmd = false, .shared = true };
	const char *dir = dax_dir(variant->fs);
	bool warned = kernel_warned();
	static const off_t offs[] = { 0, HIT - PG };
	struct page_state ps;
	unsigned int i;
	int d, err;
	char *p;

	d = dax_create(dir, HITLEN, 0, 0);
	ASSERT_LE(0, d);
	ASSERT_LE(0, free_part(self->a, d, variant->op, NULL))
		TH_LOG("freeing part of the file: %s", strerror(errno));
	close(d);

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		p = dax_map(&pte, self->a, offs[i], PG);
		ASSERT_NE(MAP_FAILED, p);
		EXPECT_EQ(-1, pattern_check(p, PG, 31, offs[i]));
		err = page_state(p, &ps);
		RIG_REQUIRE(err != -ENOENT, return, "no gup_test");
		ASSERT_EQ(0, err) TH_LOG("page_state: %s", strerror(-err));
		EXPECT_FALSE(ps.large)
			TH_LOG("offset %#lx: the old 2 MiB entry is still there: %s",
			       (long)offs[i], page_state_str(&ps));
		EXPECT_TRUE(ps.mapping) TH_LOG("offset %#lx: not owned: %s",
					       (long)offs[i], page_state_str(&ps));
		ASSERT_EQ(0, munmap(p, PG));
	}
	ASSERT_EQ(0, ftruncate(self->a, 0));
	if (!warned)
		EXPECT_FALSE(kernel_warned()) TH_LOG("the kernel warned (see the log)");
}

/*
 * A page of the part that stays, mapped with a PTE before the truncation and
 * pinned after it (vmsplice into a pipe nobody reads), must hold off the
 * truncation of the rest of the file until the pin goes: it had to be
 * faulted in again, getting an entry of its own.
 */
TEST_F(partial, rest_pin_holds_truncate)
{
	const char *dir = dax_dir(variant->fs);
	int d, pfd[2], status = 0, done, w;
	struct iovec iov;
	char buf[PG], seen[256];
	char *q;
	pid_t pid;

	d = dax_create(dir, HITLEN, 0, 0);
	ASSERT_LE(0, d);
	ASSERT_LE(0, free_part(self->a, d, variant->op, &q))
		TH_LOG("freeing part of the file: %s", strerror(errno));
	close(d);

	ASSERT_EQ(0, pipe(pfd));
	iov.iov_base = q;
	iov.iov_len = PG;
	ASSERT_EQ(PG, vmsplice(pfd[1], &iov, 1, 0)) TH_LOG("vmsplice: %s", strerror(errno));
	ASSERT_EQ(0, munmap(q, PG));

	pid = fork_child();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pfd[0]);
		close(pfd[1]);
		_exit(ftruncate(self->a, 0) ? errno : 0);
	}
	/* held off: the truncate is asleep in a pin wait (seen, not timed) */
	w = task_sleeps_in(pid, dax_pin_waits, PIN_WAIT_MS, seen, sizeof(seen));
	TH_LOG("truncate while page 0 is pinned: %s", seen);
	EXPECT_EQ(1, w) TH_LOG("truncate is not asleep in a pin wait (%s)",
			       w < 0 ? "it finished while page 0 was pinned" : "timed out");

	/* the pipe still has the file's data; then the truncate completes */
	ASSERT_EQ(PG, read(pfd[0], buf, PG));
	EXPECT_EQ(-1, pattern_check(buf, PG, 31, 0));
	close(pfd[0]);
	close(pfd[1]);
	done = wait_child_ms(pid, 20000, &status);
	if (done != 1 && kill_child_ms(pid, 5000, NULL) != 1)
		TH_LOG("truncate child %d did not die", pid);
	ASSERT_EQ(1, done) TH_LOG("still blocked after the pin went");
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

FIXTURE(cow_in_pmd) {
	int a, b;
};

FIXTURE_SETUP(cow_in_pmd)
{
	const char *dir = dax_dir(DAX_FS_XFS);

	self->a = self->b = -1;
	RIG_REQUIRE(dir, return, "no $DAX_XFS");
	self->a = dax_create(dir, PMDSZ, DAX_ALLOC | DAX_FILL, 41);
	ASSERT_LE(0, self->a) TH_LOG("create: %s", strerror(errno));
	RIG_REQUIRE(pmd_aligned_extents(self->a, PMDSZ), return,
		    "no 2 MiB aligned extent for the file");
	self->b = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, self->b);
}

FIXTURE_TEARDOWN(cow_in_pmd)
{
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
}

TEST_F(cow_in_pmd, every_mapped_page_associated)
{
	const struct dax_mode pte = { .fs = DAX_FS_XFS, .pmd = false, .shared = true };
	bool warned = kernel_warned();
	struct page_state ps;
	char *p, *q;
	int i, err;

	/* a PMD entry */
	p = map_aligned(PMDSZ, PROT_READ, MAP_SHARED, self->a, 0, 0);
	ASSERT_NE(MAP_FAILED, p);
	touch_range(p, PMDSZ, false);
	ASSERT_EQ(0, munmap(p, PMDSZ));

	/* the rig's xfs has reflink=1 */
	RIG_REQUIRE(!ioctl(self->b, FICLONE, self->a), return, "FICLONE: %s (no reflink)",
		    strerror(errno));

	/* copy-on-write of page 5 through PTEs, then read faults around it */
	p = dax_map(&pte, self->a, 0, PMDSZ);
	ASSERT_NE(MAP_FAILED, p);
	p[5 * PG] ^= 0xff;
	for (i = 0; i < 16; i++) {
		volatile char c = p[i * PG];

		(void)c;
		err = page_state(p + i * PG, &ps);
		RIG_REQUIRE(err != -ENOENT, return, "no gup_test");
		ASSERT_EQ(0, err) TH_LOG("page_state: %s", strerror(-err));
		EXPECT_TRUE(associated(&ps))
			TH_LOG("page %d is mapped but not associated with a file: %s",
			       i, page_state_str(&ps));
	}
	/* data: A has the change, B (the clone) does not */
	q = dax_map(&pte, self->b, 0, PMDSZ);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, pattern_check(q, PMDSZ, 41, 0));
	ASSERT_EQ(0, munmap(q, PMDSZ));
	EXPECT_EQ(5 * PG, pattern_check(p, PMDSZ, 41, 0));
	p[5 * PG] ^= 0xff;
	EXPECT_EQ(-1, pattern_check(p, PMDSZ, 41, 0));
	ASSERT_EQ(0, munmap(p, PMDSZ));

	ASSERT_EQ(0, ftruncate(self->a, 0));
	ASSERT_EQ(0, ftruncate(self->b, 0));
	if (!warned)
		EXPECT_FALSE(kernel_warned()) TH_LOG("the kernel warned (see the log)");
}

TEST_HARNESS_MAIN
