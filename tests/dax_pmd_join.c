// SPDX-License-Identifier: GPL-2.0
/*
 * dax_pmd_join: a PMD copy-on-write fault whose new blocks' pages cannot be
 * joined into a PMD folio falls back before it stores or copies anything.
 *
 * A PMD entry needs its 512 pages to be one PMD-order folio; pages that are
 * still in use at another size cannot be joined.  A free block's page can
 * still be in use: xfs copy-on-write (here through a COW fork
 * preallocation) moves a file's page to a new block while a pipe holds the
 * old page, and frees the old block at once (the write does not wait, as on
 * 6.12).  The test frees the rest of that block's 2 MiB, right before the
 * 2 MiB extent of a reflinked file C, and takes (nearly) all other free
 * space, so that the 2 MiB copy-on-write allocation of a PMD write fault on
 * C lands there (xfs allocates near the file's blocks):
 *
 *  - the PMD fault falls back (fs_dax:dax_pmd_fault_done says FALLBACK);
 *    xfs then cancels the copy-on-write blocks, the fault being unfinished;
 *  - no entry of C may point at those cancelled blocks: the series before
 *    patch 53 stored the PMD entry (and copied into the blocks) before it
 *    found the pages could not be joined, and the PTE retry split that
 *    entry into PTE entries for blocks C no longer has.  One of them is the
 *    page in the pipe, so C's truncate waited for a pin that is not C's
 *    (and once other files took the blocks, C's entries changed the owner
 *    of their pages).  Checks: C's data (read(2)), and C's truncate
 *    returns at once while the pipe still holds the page.
 *
 * xfs only (reflink).  Group "safety": stock 6.12 makes the PMD (it has no
 * folios to join) and fails the fallback check.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

#define COWEXT	(128 * KiB)	/* COW extent size hint of A: 32 blocks */
#define PINPG	5		/* A's page held by the pipe */
#define ASEED	0xa11
#define CSEED	0xc11
#define SLACK	64		/* free single blocks left for metadata */

FIXTURE(join) {
	int a, b, c, d, f;
	int pfd[2];
	unsigned char *model;
};

FIXTURE_VARIANT(join) {
	bool held;	/* the pipe still holds the page when C faults */
};

/* the case itself */
FIXTURE_VARIANT_ADD(join, held) { .held = true };
/*
 * Control: the same without the pin (the pipe is emptied first): the
 * copy-on-write lands on base, and is mapped by a PMD.  It shows that the
 * test puts the allocation where it means to.
 */
FIXTURE_VARIANT_ADD(join, control) { .held = false };

FIXTURE_SETUP(join)
{
	self->a = self->b = self->c = self->d = self->f = -1;
	self->pfd[0] = self->pfd[1] = -1;
	self->model = NULL;
	RIG_REQUIRE(dax_dir(DAX_FS_XFS), return, "no $DAX_XFS");
	RIG_REQUIRE(pmd_trace_start() == 0, return, "no fs_dax trace events");
	ASSERT_EQ(0, pipe(self->pfd));
	self->model = malloc(PMDSZ);
	ASSERT_NE(NULL, self->model);
}

FIXTURE_TEARDOWN(join)
{
	int *fds[] = { &self->a, &self->b, &self->c, &self->d, &self->f };
	unsigned int i;

	pmd_trace_stop();
	drain_pipe(self->pfd[0]);
	for (i = 0; i < 2; i++)
		if (self->pfd[i] >= 0)
			close(self->pfd[i]);
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] < 0)
			continue;
		/* give the space back now, not in background inactivation */
		if (ftruncate(*fds[i], 0))
			TH_LOG("ftruncate: %s", strerror(errno));
		close(*fds[i]);
	}
	free(self->model);
}

/*
 * Allocate every free block of the filesystem to fd (unwritten), 2 MiB at a
 * time, then block by block, from offset *off on.  Returns the blocks.
 */
static long fill_fs(int fd, off_t *off)
{
	long blocks = 0;

	while (!fallocate(fd, 0, *off, PMDSZ)) {
		*off += PMDSZ;
		blocks += PMDSZ / PG;
	}
	while (!fallocate(fd, 0, *off, PG)) {
		*off += PG;
		blocks++;
	}
	return errno == ENOSPC ? blocks : -1;
}

/* hole punch in a child under a watchdog: 0, errno, or -1 (did not end) */
static int punch(int fd, off_t off, off_t len)
{
	pid_t pid = fork_child();

	if (pid == 0)
		_exit(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) ?
		      errno : 0);
	return child_status_ms(pid, PIN_WAIT_MS);
}

TEST_F_TIMEOUT(join, cow_fallback_leaves_no_entry, 600)
{
	struct dax_mode pmd = { .fs = DAX_FS_XFS, .pmd = true, .shared = true };
	struct dax_mode pte = { .fs = DAX_FS_XFS, .pmd = false, .shared = true };
	struct file_clone_range fcr = { .src_offset = 0, .src_length = PG, .dest_offset = 0 };
	const char *dir = dax_dir(DAX_FS_XFS);
	static unsigned char buf[PMDSZ];
	int np, fb = 0, done, status;
	long long base;
	pid_t pid;
	unsigned char v = 0x5a;
	struct iovec iov;
	off_t off = 0, i;
	unsigned char *p;

	/* A: one 2 MiB extent at base; page 0 reflinked into B */
	self->a = dax_create(dir, PMDSZ, DAX_ALLOC | DAX_FILL, ASEED);
	ASSERT_LE(0, self->a);
	RIG_REQUIRE(pmd_aligned_extents(self->a, PMDSZ), return, "no 2 MiB aligned extent");
	base = fiemap_phys(self->a, 0);
	ASSERT_LE(0, base);
	ASSERT_EQ(0, base % PMDSZ);
	ASSERT_EQ(0, set_cowextsize(self->a, COWEXT)) TH_LOG("cowextsize: %s", strerror(errno));
	self->b = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, self->b);
	fcr.src_fd = self->a;
	RIG_REQUIRE(!ioctl(self->b, FICLONERANGE, &fcr), return, "FICLONERANGE: %s",
		    strerror(errno));
	/* copy-on-write of page 0: A's COW fork gets [0, 32), unwritten */
	ASSERT_EQ(1, pwrite(self->a, &v, 1, 7));
	ASSERT_NE(base, fiemap_phys(self->a, 0));

	/* the pipe holds A's page PINPG */
	p = dax_map(&pte, self->a, 0, PMDSZ);
	ASSERT_NE(MAP_FAILED, p);
	touch_range(p, PMDSZ, false);
	iov.iov_base = p + PINPG * PG;
	iov.iov_len = PG;
	ASSERT_EQ(PG, vmsplice(self->pfd[1], &iov, 1, 0));
	ASSERT_EQ(0, munmap(p, PMDSZ));

	/* C, reflinked into D: a PMD write fault on C copies-on-write 2 MiB */
	self->c = dax_create(dir, PMDSZ, DAX_ALLOC | DAX_FILL, CSEED);
	ASSERT_LE(0, self->c);
	ASSERT_TRUE(pmd_aligned_extents(self->c, PMDSZ));
	self->d = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, self->d);
	ASSERT_EQ(0, ioctl(self->d, FICLONE, self->c));
	ASSERT_EQ(1, fiemap_shared(self->c, 0));
	pattern_fill(self->model, PMDSZ, CSEED, 0);

	/* no free space left, but for SLACK single blocks */
	self->f = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, self->f);
	ASSERT_LT(0, fill_fs(self->f, &off)) TH_LOG("fill: %s", strerror(errno));
	for (i = 0; i < SLACK; i++)
		ASSERT_EQ(0, punch(self->f, i * 8 * PG, PG));

	/*
	 * A's page PINPG is in its COW fork: this write moves it to a new
	 * block and frees the old one (A's alone) while the pipe holds it.
	 */
	ASSERT_EQ(1, pwrite(self->a, &v, 1, PINPG * PG + 9));
	ASSERT_NE(base + (long long)(PINPG * PG), fiemap_phys(self->a, PINPG * PG))
		TH_LOG("the write did not copy-on-write the held page");
	/* free the rest of A's 2 MiB and B's page 0: base is 2 MiB of free space */
	ASSERT_EQ(0, punch(self->a, 0, PMDSZ)) TH_LOG("punch of A");
	ASSERT_EQ(0, ftruncate(self->b, 0));
	ASSERT_EQ(0, syncfs(self->a));

	/* the PMD write fault on C: its 2 MiB copy-on-write lands on base */
	if (!variant->held)
		drain_pipe(self->pfd[0]);
	ASSERT_EQ(0, pmd_trace_start());
	p = dax_map(&pmd, self->c, 0, PMDSZ);
	ASSERT_NE(MAP_FAILED, p);
	p[3 * PG + 1] = 0x77;
	self->model[3 * PG + 1] = 0x77;
	np = pmd_trace_count(p, PMDSZ, &fb);
	TH_LOG("PMD faults: %d NOPAGE, %d FALLBACK; C's page 3 at %#llx, base %#llx", np, fb,
	       fiemap_phys(self->c, 3 * PG), base);
	if (variant->held) {
		EXPECT_EQ(0, np) TH_LOG("a PMD was made over pages that a pipe still holds");
		EXPECT_LE(1, fb);
	} else {
		EXPECT_EQ(1, np);
		ASSERT_EQ(base, fiemap_phys(self->c, 0))
			TH_LOG("the copy-on-write did not land on base (the test's premise)");
	}
	EXPECT_EQ(-1, pattern_check(p, 3 * PG, CSEED, 0));
	ASSERT_EQ(0, munmap(p, PMDSZ));

	/*
	 * C has no business with the page the pipe holds: its truncate must
	 * not wait for it.  An entry left pointing at the cancelled blocks
	 * (base) would make the layout break wait for the pin on base's page
	 * PINPG; and when another file takes those blocks, C's entries
	 * would change that file's pages' owner.
	 */
	ASSERT_EQ(PMDSZ, pread(self->c, buf, PMDSZ, 0));
	EXPECT_EQ(0, memcmp(buf, self->model, PMDSZ));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(ftruncate(self->c, 0) ? errno : 0);
	done = wait_child_ms(pid, 5000, &status);
	EXPECT_EQ(1, done) TH_LOG("C's truncate waits (state %c) for the page in the pipe",
				  task_state(pid));
	if (!done) {
		drain_pipe(self->pfd[0]);
		done = wait_child_ms(pid, PIN_WAIT_MS, &status);
	}
	if (!done)
		kill_child_ms(pid, 5000, NULL);
	else
		EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
