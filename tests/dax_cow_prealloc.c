// SPDX-License-Identifier: GPL-2.0
/*
 * dax_cow_prealloc: DAX writes over XFS copy-on-write preallocations.
 *
 * A write that has to copy-on-write a reflinked block makes XFS allocate
 * more than that block in the file's COW fork: the whole COW extent size
 * hint around it (128 KiB here), as unwritten extents.  Later writes to
 * those offsets copy-on-write too, even where the block is no longer
 * shared.  Two bugs of 6.12 hide there, both found by dax_stress:
 *
 * leftover_not_remapped: a write fault through a PMD-capable mapping over a
 *   2 MiB range whose COW fork holds several such extents gets, from XFS, a
 *   mapping of only the first one, so it falls back to PTEs; but XFS had
 *   converted every COW extent under the data fork mapping to "written",
 *   and the fallback cancels only the first.  A written COW extent is
 *   remapped into the file by the next xfs_reflink_end_cow() over its
 *   range, which unsharing a hole runs: the file then shows the old
 *   contents of the COW blocks (freed blocks, maybe another file's) where
 *   it must read zeroes.  Checks: after the fault, a hole punched under a
 *   leftover and that range unshared, the range reads zeroes and is not
 *   mapped to the leftover's blocks (FIEMAP), and the rest of the file is
 *   its data.
 *
 * dirty_entry_dropped: a block written through a mapping, not synced (a
 *   dirty DAX entry), gets covered by a COW preallocation; unsharing it
 *   copies it to a new block and frees the old one.  The dirty entry
 *   survived the unshare's invalidation, still pointing at the freed block,
 *   and the next fault mapped the new block without associating it with
 *   the file.  Checks: after the unshare, a fault of the page maps a page
 *   that belongs to the file (->mapping set, via gup_test's dump), with the
 *   file's data; no kernel warning.
 *
 * short_write_keeps_data: write(2) to a reflinked block copies the block
 *   first, around the range written; when the user buffer faults half-way,
 *   the rest of the range was neither copied nor written, yet the block
 *   replaced the old one.  Checks: the file holds the bytes written and
 *   its old data everywhere else.
 *
 * All fail on stock 6.12.  xfs only (reflink).
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

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define COWEXT	(128 * KiB)	/* COW extent size hint: 32 blocks */
#define BLK(n)	((size_t)(n) * PG)

FIXTURE(cowpre) {
	int a, b;
	unsigned char *model;
};

FIXTURE_SETUP(cowpre)
{
	const char *dir = dax_dir(DAX_FS_XFS);

	self->a = self->b = -1;
	self->model = NULL;
	if (!dir)
		SKIP(return, "no $DAX_XFS");
	self->a = dax_create(dir, FSIZE, DAX_ALLOC | DAX_FILL, 31);
	ASSERT_LE(0, self->a) TH_LOG("create: %s", strerror(errno));
	ASSERT_TRUE(pmd_aligned_extents(self->a, FSIZE));
	ASSERT_EQ(0, set_cowextsize(self->a, COWEXT))
		TH_LOG("cowextsize: %s", strerror(errno));
	self->b = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, self->b);
	self->model = malloc(FSIZE);
	ASSERT_NE(NULL, self->model);
	pattern_fill(self->model, FSIZE, 31, 0);
}

FIXTURE_TEARDOWN(cowpre)
{
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
	free(self->model);
}

/* one byte through pwrite(2): copies-on-write the block if it must */
static int poke(int fd, unsigned char *model, size_t off, unsigned char v)
{
	model[off] = v;
	return pwrite(fd, &v, 1, off) == 1 ? 0 : -1;
}

/*
 * The whole file against the model, through read(2): -1 if equal, else the
 * first offset that differs; -2 if the read failed.
 */
static long file_check(int fd, const unsigned char *model)
{
	static unsigned char buf[FSIZE];
	long i = 0;

	if (pread(fd, buf, FSIZE, 0) != FSIZE)
		return -2;
	if (!memcmp(buf, model, FSIZE))
		return -1;
	while (buf[i] == model[i])
		i++;
	return i;
}

TEST_F(cowpre, leftover_not_remapped)
{
	struct dax_mode pmd = { .fs = DAX_FS_XFS, .pmd = true, .shared = true };
	struct file_clone_range fcr = { .src_offset = 2 * MiB, .src_length = 2 * MiB,
					.dest_offset = 2 * MiB };
	long long leftover, phys607;
	int trace, fallbacks = 0;
	unsigned char *p;

	ASSERT_EQ(0, ioctl(self->b, FICLONE, self->a)) TH_LOG("FICLONE: %s", strerror(errno));
	/*
	 * Copy-on-write blocks 519 and 607: COW fork [512, 519) + [520, 544)
	 * and [576, 607) stay, unwritten.  Block 607's new block is the last of
	 * the [576, 608) allocation, so [576, 607) sits right before it.
	 */
	ASSERT_EQ(0, poke(self->a, self->model, BLK(519) + 7, 0x5a));
	ASSERT_EQ(0, poke(self->a, self->model, BLK(607) + 7, 0x5a));
	phys607 = fiemap_phys(self->a, BLK(607));
	ASSERT_LT(0, phys607);
	leftover = phys607 - (long long)BLK(607 - 592);	/* where [592] would be */

	/* [512, 1024) becomes one shared extent again: B's (the old data) */
	fcr.src_fd = self->b;
	ASSERT_EQ(0, ioctl(self->a, FICLONERANGE, &fcr)) TH_LOG("%s", strerror(errno));
	pattern_fill(self->model + 2 * MiB, 2 * MiB, 31, 2 * MiB);

	/* a PMD write fault at 2 MiB: XFS offers [512, 519), the fault falls back */
	trace = pmd_trace_start() == 0;
	p = dax_map(&pmd, self->a, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, p);
	p[2 * MiB + 3] = self->model[2 * MiB + 3] = 0xa5;
	if (trace) {
		pmd_trace_count(p + 2 * MiB, PMDSZ, &fallbacks);
		pmd_trace_stop();
		ASSERT_LE(1, fallbacks) TH_LOG("the PMD fault did not fall back: nothing tested");
	}
	ASSERT_EQ(0, munmap(p, FSIZE));

	/* a hole under the [576, 607) leftover, then unshare it */
	ASSERT_EQ(0, fallocate(self->a, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       BLK(592), BLK(8)));
	memset(self->model + BLK(592), 0, BLK(8));
	ASSERT_EQ(0, fallocate(self->a, FALLOC_FL_UNSHARE_RANGE, BLK(592), BLK(8)))
		TH_LOG("unshare: %s", strerror(errno));

	EXPECT_NE(leftover, fiemap_phys(self->a, BLK(592)))
		TH_LOG("block 592 got the leftover COW block");
	EXPECT_EQ(-1, file_check(self->a, self->model)) TH_LOG("data differs");
	ASSERT_EQ(0, fsync(self->a));
	EXPECT_EQ(-1, file_check(self->a, self->model)) TH_LOG("data differs after fsync");
}

TEST_F(cowpre, dirty_entry_dropped)
{
	struct dax_mode pte = { .fs = DAX_FS_XFS, .pmd = false, .shared = true };
	struct file_clone_range fcr = { .src_offset = 0, .src_length = PG,
					.dest_offset = BLK(519) };
	struct page_state ps;
	unsigned char *p;
	int ret;

	if (kernel_warned())
		SKIP(return, "the kernel warned before this test: cannot tell (the run fails anyway)");
	/* block 530 written through a mapping, not synced: a dirty DAX entry */
	p = dax_map(&pte, self->a, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, p);
	memset(p + BLK(530), 0x3c, PG);
	memset(self->model + BLK(530), 0x3c, PG);
	ASSERT_EQ(0, munmap(p, FSIZE));

	/*
	 * Share only block 519 (a clone into A flushes just that range), then
	 * copy-on-write it: the preallocation [512, 544) covers block 530.
	 */
	memset(self->model + BLK(519), 0x11, PG);
	ASSERT_EQ(PG, pwrite(self->b, self->model + BLK(519), PG, 0));
	fcr.src_fd = self->b;
	ASSERT_EQ(0, ioctl(self->a, FICLONERANGE, &fcr)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, poke(self->a, self->model, BLK(519) + 9, 0x77));

	/* block 530 is copied to a preallocated block, its old one freed */
	ASSERT_EQ(0, fallocate(self->a, FALLOC_FL_UNSHARE_RANGE, BLK(520), BLK(24)))
		TH_LOG("unshare: %s", strerror(errno));

	p = dax_map(&pte, self->a, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0, memcmp(p + BLK(530), self->model + BLK(530), PG));
	ret = page_state(p + BLK(530), &ps);
	if (ret == -ENOENT)
		SKIP(goto out, "no gup_test");
	ASSERT_EQ(0, ret) TH_LOG("page_state: %s", strerror(-ret));
	TH_LOG("block 530: %s", page_state_str(&ps));
	EXPECT_TRUE(ps.mapping) TH_LOG("the page mapped at 530 is not the file's");
out:
	ASSERT_EQ(0, munmap(p, FSIZE));
	EXPECT_EQ(-1, file_check(self->a, self->model)) TH_LOG("data differs");
	ASSERT_EQ(0, ftruncate(self->a, 0));
	EXPECT_FALSE(kernel_warned()) TH_LOG("the kernel warned (see the log)");
}

TEST_F(cowpre, short_write_keeps_data)
{
	unsigned char *buf;
	ssize_t r;

	ASSERT_EQ(0, ioctl(self->b, FICLONE, self->a)) TH_LOG("FICLONE: %s", strerror(errno));
	/* 200 bytes from a buffer whose second half is not readable */
	buf = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 0xe7, PG);
	ASSERT_EQ(0, mprotect(buf + PG, PG, PROT_NONE));
	r = pwrite(self->a, buf + PG - 100, 200, BLK(10) + 1000);
	ASSERT_EQ(100, r) TH_LOG("pwrite: %zd %s", r, r < 0 ? strerror(errno) : "");
	memset(self->model + BLK(10) + 1000, 0xe7, 100);
	ASSERT_EQ(0, munmap(buf, 2 * PG));

	/* the copied block has the 100 new bytes and the old data around them */
	EXPECT_EQ(-1, file_check(self->a, self->model)) TH_LOG("data differs");
	ASSERT_EQ(0, ftruncate(self->b, 0));
	EXPECT_EQ(-1, file_check(self->a, self->model)) TH_LOG("data differs after B's truncate");
}

TEST_HARNESS_MAIN
