// SPDX-License-Identifier: GPL-2.0
/*
 * dax_split_owner: a PMD entry split into PTE entries keeps its pages' owner.
 *
 * A PTE write fault inside a PMD entry that has to give its page a block of
 * its own (xfs copy-on-write) splits the PMD entry into 512 PTE entries
 * first (fs/dax.c dax_split_pmd_entry()).  Pages whose blocks only this
 * file uses were owned by it as a PMD-order folio (->mapping the file,
 * ->index the file offset); they must stay owned, order-0 folios, each with
 * its own file offset: memory failure on ext4, or on xfs without rmapbt,
 * finds a page's processes through ->mapping and ->index
 * (dax_lock_folio(), collect_procs()), so a page that ends up "shared"
 * (->mapping NULL, a share count in ->index) gets nobody signalled.
 *
 * The file (xfs, 4 MiB) gets copy-on-write fork preallocations without
 * sharing its data blocks with anybody: it is FICLONEd, one byte of block
 * 519 is copied-on-write (the COW fork keeps [512, 519) and [520, 544) as
 * unwritten preallocations, cowextsize 128 KiB), then the clone's
 * [2 MiB, 4 MiB), the old blocks, is cloned back over the file's, so that
 * the second 2 MiB is again one 2 MiB aligned extent; the clone is then
 * truncated away (FIEMAP shows the extent unshared).  The second 2 MiB is
 * read through a PMD mapping: one PMD-order folio, owned, index 512 + n for
 * its page n.  A write through a second, PTE-only mapping (a child, under a
 * time limit) to page 530, a COW fork block, has to split the PMD entry.
 * Then pages 512, 513, 519, 529, 531, 600 and 1023 (not 530) must be
 * order-0 folios (the entry was split: otherwise nothing was tested) with
 * ->mapping set and ->index their file page offset, and the file must hold
 * its data and the byte written.
 *
 * The shared variant keeps the clone, so the blocks are shared (FIEMAP):
 * the PMD folio is shared (no ->mapping) to begin with, and its pages must
 * stay shared after the split (->mapping NULL, a share count), so that the
 * clone's mappers are not forgotten: a fix must not overshoot.
 *
 * Reads dump_page() through gup_test (page_state()).  Stock 6.12 has no
 * PMD-order folios and fails the precondition of both (order 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define COWEXT	(128 * KiB)	/* COW extent size hint: 32 blocks */
#define BLK(n)	((size_t)(n) * PG)
#define BASE	512		/* first page of the second 2 MiB */
#define COWPG	530		/* written: in the COW fork's [520, 544) */
#define SEED	53

/* pages looked at, all in [BASE, BASE + 512) and not COWPG */
static const unsigned long looked_at[] = { 512, 513, 519, 529, 531, 600, 1023 };
#define NLOOK	(sizeof(looked_at) / sizeof(looked_at[0]))

FIXTURE(split) {
	int a, b;
	char *p, *q;
	pid_t child;
};

FIXTURE_VARIANT(split) {
	bool keep_clone;	/* the data blocks stay shared with the clone */
};

FIXTURE_VARIANT_ADD(split, owned) { .keep_clone = false };
FIXTURE_VARIANT_ADD(split, shared) { .keep_clone = true };

FIXTURE_SETUP(split)
{
	struct file_clone_range fcr = { .src_offset = PMDSZ, .src_length = PMDSZ,
					.dest_offset = PMDSZ };
	const char *dir = dax_dir(DAX_FS_XFS);
	unsigned char v = 0x5a;

	self->a = self->b = -1;
	self->p = self->q = MAP_FAILED;
	self->child = 0;
	RIG_REQUIRE(dir, return, "no $DAX_XFS");
	RIG_REQUIRE_GUP_TEST(return);
	self->a = dax_create(dir, FSIZE, DAX_ALLOC | DAX_FILL, SEED);
	ASSERT_LE(0, self->a) TH_LOG("create: %s", strerror(errno));
	RIG_REQUIRE(pmd_aligned_extents(self->a, FSIZE), return,
		    "no 2 MiB aligned extents for the file");
	ASSERT_EQ(0, set_cowextsize(self->a, COWEXT))
		TH_LOG("cowextsize: %s", strerror(errno));
	self->b = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, self->b);
	RIG_REQUIRE(!ioctl(self->b, FICLONE, self->a), return, "FICLONE: %s (no reflink)",
		    strerror(errno));

	/* copy-on-write of block 519: COW fork preallocations around it */
	ASSERT_EQ(1, pwrite(self->a, &v, 1, BLK(519) + 7));
	/* the old blocks (the clone's) back: one 2 MiB extent, old data */
	fcr.src_fd = self->b;
	ASSERT_EQ(0, ioctl(self->a, FICLONERANGE, &fcr)) TH_LOG("FICLONERANGE: %s", strerror(errno));
	if (!variant->keep_clone) {
		/* truncated now (not left to background inactivation) */
		ASSERT_EQ(0, ftruncate(self->b, 0));
		close(self->b);
		self->b = -1;
	}
	ASSERT_EQ(0, fsync(self->a));
	ASSERT_TRUE(pmd_aligned_extents(self->a, FSIZE))
		TH_LOG("the second 2 MiB is not one aligned extent after the clone back");
	ASSERT_EQ(variant->keep_clone, fiemap_shared(self->a, BLK(BASE)))
		TH_LOG("FIEMAP: the data extent is %s", variant->keep_clone ? "not shared" : "shared");
	ASSERT_EQ(variant->keep_clone, fiemap_shared(self->a, BLK(COWPG)));
}

FIXTURE_TEARDOWN(split)
{
	if (self->child > 0 && kill_child_ms(self->child, 20000, NULL) != 1)
		TH_LOG("child %d did not die", self->child);
	if (self->p != MAP_FAILED)
		munmap(self->p, FSIZE);
	if (self->q != MAP_FAILED)
		munmap(self->q, FSIZE);
	if (self->a >= 0)
		close(self->a);
	if (self->b >= 0)
		close(self->b);
}

static void log_state(struct __test_metadata *_metadata, const char *what,
		      unsigned long pg, const struct page_state *ps)
{
	TH_LOG("%s page %lu: mapping %s index %#lx, %s", what, pg,
	       ps->mapping ? "set" : "NULL", ps->index, page_state_str(ps));
}

TEST_F_TIMEOUT(split, owner_kept, 120)
{
	const struct dax_mode pte = { .fs = DAX_FS_XFS, .pmd = false, .shared = true };
	bool owned = !variant->keep_clone, warned = kernel_warned();
	static unsigned char buf[FSIZE], model[FSIZE];
	struct page_state ps;
	unsigned int i;
	int err, status;
	long bad;

	/* the second 2 MiB read through a PMD mapping: one PMD-order folio */
	self->p = map_aligned(FSIZE, PROT_READ, MAP_SHARED, self->a, 0, 0);
	ASSERT_NE(MAP_FAILED, self->p);
	touch_range(self->p + PMDSZ, PMDSZ, false);
	for (i = 0; i < NLOOK; i++) {
		unsigned long pg = looked_at[i];

		err = page_state(self->p + BLK(pg), &ps);
		ASSERT_EQ(0, err) TH_LOG("page_state: %s", strerror(-err));
		if (i == 0)
			log_state(_metadata, "before the split:", pg, &ps);
		ASSERT_TRUE(ps.large && ps.order == 9)
			TH_LOG("page %lu is not in a PMD-order folio (no PMD entry?): %s",
			       pg, page_state_str(&ps));
		ASSERT_EQ(owned, ps.mapping)
			TH_LOG("before the split, the PMD folio is %s",
			       ps.mapping ? "owned" : "not owned");
		if (owned)
			ASSERT_EQ(pg, ps.index) TH_LOG("page %lu: index %#lx", pg, ps.index);
	}

	/*
	 * A write fault through a PTE-only mapping on page 530, which goes
	 * to a COW fork block: the PMD entry has to be split.  In a child, so
	 * that a fault loop cannot hang the test.
	 */
	self->q = dax_map(&pte, self->a, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, self->q);
	self->child = fork_child();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		self->q[BLK(COWPG) + 3] = 0xa5;
		_exit(0);
	}
	ASSERT_EQ(1, wait_child_ms(self->child, 60000, &status))
		TH_LOG("the write fault on page %d does not finish", COWPG);
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("writer status %#x", status);

	err = page_state(self->q + BLK(COWPG), &ps);
	ASSERT_EQ(0, err) TH_LOG("page_state: %s", strerror(-err));
	log_state(_metadata, "written", COWPG, &ps);

	for (i = 0; i < NLOOK; i++) {
		unsigned long pg = looked_at[i];

		err = page_state(self->q + BLK(pg), &ps);
		ASSERT_EQ(0, err) TH_LOG("page_state: %s", strerror(-err));
		log_state(_metadata, "after the split:", pg, &ps);
		/* an idle folio is split back with the entry: else not tested */
		ASSERT_FALSE(ps.large)
			TH_LOG("page %lu is still in a large folio: the PMD entry was not split",
			       pg);
		if (owned) {
			EXPECT_TRUE(ps.mapping)
				TH_LOG("page %lu, only this file's block, lost its owner (shared, share count %lu)",
				       pg, ps.index);
			EXPECT_EQ(pg, ps.index)
				TH_LOG("page %lu: index %#lx, not its file offset", pg, ps.index);
		} else {
			EXPECT_FALSE(ps.mapping)
				TH_LOG("page %lu, a block the clone shares, got an owner", pg);
			EXPECT_LE(1, ps.index) TH_LOG("page %lu: no share count", pg);
		}
	}

	/* data: the byte written, the old data everywhere else */
	ASSERT_EQ((ssize_t)FSIZE, pread(self->a, buf, FSIZE, 0));
	EXPECT_EQ(0xa5, buf[BLK(COWPG) + 3]);
	pattern_fill(model, FSIZE, SEED, 0);
	model[BLK(COWPG) + 3] = 0xa5;
	EXPECT_EQ(0, memcmp(buf, model, FSIZE)) TH_LOG("the file's data differs");
	if (self->b >= 0) {
		/* the clone has the original data, block 519's byte included */
		ASSERT_EQ((ssize_t)FSIZE, pread(self->b, buf, FSIZE, 0));
		bad = pattern_check(buf, FSIZE, SEED, 0);
		EXPECT_EQ(-1, bad) TH_LOG("the clone's data differs at %ld", bad);
	}
	if (!warned)
		EXPECT_FALSE(kernel_warned()) TH_LOG("the kernel warned (see the log)");
}

TEST_HARNESS_MAIN
