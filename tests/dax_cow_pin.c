// SPDX-License-Identifier: GPL-2.0
/*
 * dax_cow_pin: a copy-on-write write(2) over a DAX page that user space still
 * holds (vmsplice()d into a pipe) must not leave the file's DAX entry
 * pointing at the old block.  xfs, reflink: A's block is FICLONEd into B, A
 * is mapped and its page read and pinned (pipe 1); pwrite() then gives A a
 * new block.  Afterwards:
 *
 *  - the page mapped at A's offset is associated with A (dump_page: a
 *    ->mapping), and has the new data;
 *  - pinned again (pipe 2) and with pipe 1 released, a truncate of A must
 *    wait for pipe 2's pin on the new block: it sleeps in the pin wait until
 *    pipe 2 is drained, and what pipe 2 holds is A's new data, even after
 *    other files were written.
 *
 * The write may wait for pipe 1 (the series breaks the layout of the range
 * first); if it sleeps in a pin wait, pipe 1 is drained and the write must
 * then complete.  Every wait runs in a child under a watchdog.
 *
 * A second test pins a page of a PMD entry outside the copied range.
 *
 * Group "safety": the series before the fix left the stale entry (the busy
 * invalidate failed silently), so the truncate missed pipe 2's pin; stock
 * 6.12 fails both (its busy-page scan skips a file nothing maps, and it drops
 * the whole PMD entry) and hits "kernel BUG at fs/inode.c:674" at eviction.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define LEN	(16 * PG)
#define SEED_OLD	0x01d
#define SEED_NEW	0x2ee

FIXTURE(cp) {
	int fda, fdb;
	int p1[2], p2[2];
	char *pa;
	pid_t child;
};

FIXTURE_VARIANT(cp) {
	struct dax_mode m;
};

DAX_ADD_VARIANT(cp, xfs_4k, DAX_FS_XFS, false, true);

FIXTURE_SETUP(cp)
{
	const char *dir = dax_dir(variant->m.fs);
	struct iovec iov;

	self->fda = self->fdb = -1;
	self->p1[0] = self->p1[1] = self->p2[0] = self->p2[1] = -1;
	self->pa = MAP_FAILED;
	self->child = 0;
	RIG_REQUIRE(dir, return, "no xfs DAX mount");
	RIG_REQUIRE_GUP_TEST(return);
	ASSERT_EQ(0, pipe(self->p1));
	ASSERT_EQ(0, pipe(self->p2));
	self->fda = dax_create(dir, LEN, DAX_FILL, SEED_OLD);
	ASSERT_LE(0, self->fda);
	ASSERT_EQ(0, fsync(self->fda));
	self->fdb = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, self->fdb);
	RIG_REQUIRE(!ioctl(self->fdb, FICLONE, self->fda), return, "FICLONE: %s", strerror(errno));
	self->pa = dax_map(&variant->m, self->fda, 0, LEN);
	ASSERT_NE(MAP_FAILED, self->pa);
	ASSERT_EQ(-1, pattern_check(self->pa, PG, SEED_OLD, 0));
	iov.iov_base = self->pa;
	iov.iov_len = PG;
	ASSERT_EQ(PG, vmsplice(self->p1[1], &iov, 1, 0));
}

FIXTURE_TEARDOWN(cp)
{
	drain_pipe(self->p1[0]);
	drain_pipe(self->p2[0]);
	if (self->child > 0 && kill_child_ms(self->child, 20000, NULL) != 1)
		TH_LOG("child %d did not die", self->child);
	if (self->pa != MAP_FAILED)
		munmap(self->pa, LEN);
	for (int i = 0; i < 2; i++) {
		if (self->p1[i] >= 0)
			close(self->p1[i]);
		if (self->p2[i] >= 0)
			close(self->p2[i]);
	}
	if (self->fda >= 0)
		close(self->fda);
	if (self->fdb >= 0)
		close(self->fdb);
}

/*
 * Wait for child pid: it finishes, or it sleeps in a pin wait, in which case
 * release_fd is drained and it must finish then.  Returns the exit status or
 * -1 (not finished).
 */
static int finish_or_release(struct __test_metadata *_metadata, pid_t pid, int release_fd,
			     const char *what)
{
	char seen[256];
	int status, w;

	if (wait_child_ms(pid, 3000, &status) == 1)
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
	w = task_sleeps_in(pid, dax_pin_waits, PIN_WAIT_MS, seen, sizeof(seen));
	TH_LOG("%s with a page held: %s", what, seen);
	if (w == 1)
		drain_pipe(release_fd);
	else if (w == 0)
		TH_LOG("%s neither finished nor waits for the pin", what);
	if (wait_child_ms(pid, 15000, &status) != 1)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/*
 * A truncate of fd must wait for the pin that pipe pfd holds on the page at
 * file offset off: it sleeps in a pin wait (the child's pid is kept in
 * *child for the teardown) until the pipe is drained; meanwhile another
 * file of len bytes takes free blocks, and the pinned page still holds
 * pattern(seed) of A.  Then the truncate completes.
 */
static void truncate_waits_for_pin(struct __test_metadata *_metadata, const char *dir,
				   int fd, int pfd, uint32_t seed, size_t off, size_t len,
				   pid_t *child, const char *lost)
{
	char buf[PG], seen[256];
	int status, w, fdc;

	*child = fork_child();
	ASSERT_LE(0, *child);
	if (*child == 0)
		_exit(ftruncate(fd, 0) ? 1 : 0);
	w = task_sleeps_in(*child, dax_pin_waits, PIN_WAIT_MS, seen, sizeof(seen));
	TH_LOG("truncate with a page pinned: %s", seen);
	EXPECT_EQ(1, w) TH_LOG("%s", lost);

	/* whatever happened, other files now take free blocks */
	fdc = dax_create(dir, len, DAX_FILL, 0xccc);
	ASSERT_LE(0, fdc);
	ASSERT_EQ(0, fsync(fdc));
	/* the pinned page still holds A's data */
	ASSERT_EQ(PG, read(pfd, buf, PG));
	EXPECT_EQ(-1, pattern_check(buf, PG, seed, off))
		TH_LOG("the page pinned through A now holds another file's data");
	drain_pipe(pfd);
	ASSERT_EQ(1, wait_child_ms(*child, 15000, &status)) TH_LOG("truncate still blocked");
	*child = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fdc);
}

TEST_F_TIMEOUT(cp, cow_write_over_pinned_page, 150)
{
	char buf[LEN], got[PG];
	struct page_state ps;
	struct iovec iov;
	int ret;

	/* A's first page gets a new block: copy-on-write */
	pattern_fill(buf, PG, SEED_NEW, 0);
	self->child = fork_child();
	ASSERT_LE(0, self->child);
	if (self->child == 0)
		_exit(pwrite(self->fda, buf, PG, 0) == PG ? 0 : 1);
	ret = finish_or_release(_metadata, self->child, self->p1[0], "copy-on-write pwrite");
	self->child = 0;
	ASSERT_EQ(0, ret) TH_LOG("pwrite over a pinned, shared page failed or hung");

	/* A maps its own new block, associated with A, with the new data */
	ASSERT_EQ(-1, pattern_check(self->pa, PG, SEED_NEW, 0));
	get_page_state(_metadata, "A's page after the copy-on-write", self->pa, &ps);
	EXPECT_TRUE(ps.mapping) TH_LOG("A's new page is not associated with A (stale DAX entry)");

	/* pin the new page, let the old one go */
	iov.iov_base = self->pa;
	iov.iov_len = PG;
	ASSERT_EQ(PG, vmsplice(self->p2[1], &iov, 1, 0));
	drain_pipe(self->p1[0]);
	ASSERT_EQ(0, munmap(self->pa, LEN));
	self->pa = MAP_FAILED;

	/* truncate must wait for the pin on the new block */
	truncate_waits_for_pin(_metadata, dax_dir(variant->m.fs), self->fda, self->p2[0],
			       SEED_NEW, 0, LEN, &self->child,
			       "truncate did not wait for the pin on A's new block");
	/* B still has the old data */
	ASSERT_EQ(PG, pread(self->fdb, got, PG, 0));
	EXPECT_EQ(-1, pattern_check(got, PG, SEED_OLD, 0));
}

/*
 * Part of a PMD entry is copied-on-write while a page elsewhere in it is
 * pinned: A (2 MiB, one aligned extent) is FICLONEd to B and PMD-mapped;
 * the first half is unmapped (the PMD goes), the second half is read
 * again page by page (PTEs inside the PMD entry); page 384 is pinned; a
 * pwrite() gives page 0 a new block.  The pin on page 384 must still be
 * seen: a truncate of A waits for it.  Stock 6.12 and the series before
 * the fix dropped the whole PMD entry and with it the pinned page's
 * association.
 */
FIXTURE(cpmd) {
	int fda, fdb;
	int pfd[2];
	char *pa;
	pid_t child;
};

FIXTURE_VARIANT(cpmd) {
	struct dax_mode m;
};

DAX_ADD_VARIANT(cpmd, xfs_2m, DAX_FS_XFS, true, true);

#define PMDPIN	(384 * PG)

FIXTURE_SETUP(cpmd)
{
	const char *dir = dax_dir(variant->m.fs);

	self->fda = self->fdb = -1;
	self->pfd[0] = self->pfd[1] = -1;
	self->pa = MAP_FAILED;
	self->child = 0;
	RIG_REQUIRE(dir, return, "no xfs DAX mount");
	ASSERT_EQ(0, pipe(self->pfd));
	self->fda = dax_create(dir, PMDSZ, DAX_ALLOC | DAX_FILL, SEED_OLD);
	ASSERT_LE(0, self->fda);
	ASSERT_EQ(0, fsync(self->fda));
	RIG_REQUIRE(pmd_aligned_extents(self->fda, PMDSZ), return, "no 2 MiB aligned extent");
	self->fdb = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, self->fdb);
	RIG_REQUIRE(!ioctl(self->fdb, FICLONE, self->fda), return, "FICLONE: %s", strerror(errno));
}

FIXTURE_TEARDOWN(cpmd)
{
	drain_pipe(self->pfd[0]);
	if (self->child > 0 && kill_child_ms(self->child, 20000, NULL) != 1)
		TH_LOG("child %d did not die", self->child);
	if (self->pa != MAP_FAILED)
		munmap(self->pa + PMDSZ / 2, PMDSZ / 2);
	pipe_close(self->pfd);
	if (self->fda >= 0)
		close(self->fda);
	if (self->fdb >= 0)
		close(self->fdb);
}

TEST_F_TIMEOUT(cpmd, cow_part_of_pmd_entry, 150)
{
	static char whole[PMDSZ];
	char buf[PG];
	struct iovec iov;

	self->pa = dax_map(&variant->m, self->fda, 0, PMDSZ);
	ASSERT_NE(MAP_FAILED, self->pa);
	ASSERT_EQ(-1, pattern_check(self->pa, PMDSZ, SEED_OLD, 0));
	/* the PMD mapping goes; what is read again is mapped by PTEs */
	ASSERT_EQ(0, munmap(self->pa, PMDSZ / 2));
	touch_range(self->pa + PMDSZ / 2, PMDSZ / 2, false);
	iov.iov_base = self->pa + PMDPIN;
	iov.iov_len = PG;
	ASSERT_EQ(PG, vmsplice(self->pfd[1], &iov, 1, 0));

	/* page 0 gets a block of its own */
	pattern_fill(buf, PG, SEED_NEW, 0);
	ASSERT_EQ(PG, pwrite(self->fda, buf, PG, 0));
	ASSERT_EQ(0, munmap(self->pa + PMDSZ / 2, PMDSZ / 2));
	self->pa = MAP_FAILED;

	/* truncate must wait for the pin on page 384 */
	truncate_waits_for_pin(_metadata, dax_dir(variant->m.fs), self->fda, self->pfd[0],
			       SEED_OLD, PMDPIN, PMDSZ, &self->child,
			       "the pin on a page outside the copied range was lost");
	/* B still has the old data everywhere */
	ASSERT_EQ((ssize_t)PMDSZ, pread(self->fdb, whole, PMDSZ, 0));
	EXPECT_EQ(-1, pattern_check(whole, PMDSZ, SEED_OLD, 0));
}

TEST_HARNESS_MAIN
