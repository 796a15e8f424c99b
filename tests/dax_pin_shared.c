// SPDX-License-Identifier: GPL-2.0
/*
 * dax_pin_shared: a layout break (truncate, hole punch) that finds a pinned
 * page which stays mapped through page tables the break does not unmap must
 * sleep interruptibly until the pin goes, never spin.
 *
 *  - reflink (xfs): file A's block is FICLONEd into B; B stays mapped and
 *    read.  A child maps A, reads the same (shared) page, vmsplice()s it into
 *    a pipe, munmaps A and truncates A to zero: it must sleep in the pin
 *    wait (state S, little CPU time), SIGKILL must end it, and once the pipe
 *    is drained a truncate must complete.
 *  - partial_pmd (xfs, ext4): a 2 MiB extent is PMD-mapped, then mapped
 *    again by PTEs (mprotect splits the VMA) so that the PMD-sized folio is
 *    mapped page by page; a page of its second half is vmsplice()d, and a
 *    child punches the second half: the first half's PTEs stay mapped.
 *
 * The parent holds the pipe, so it can always end the wait by draining it:
 * on a kernel that spins here the test still ends (with "not ok").
 *
 * Group "safety": the series as it was spun here unkillably, with an RCU
 * stall; stock 6.12 fails the reflink cases another way (its busy-page scan
 * skips a file that nothing maps any more, so the truncate does not wait).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
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

#define SEED	0xc10ae

enum kind { REFLINK, PARTIAL_PMD };

FIXTURE(ps) {
	int fda, fdb;
	int pfd[2];
	char *mapb;		/* the mapping the break leaves alone */
	size_t len;
	off_t pinoff;		/* file offset of the pinned page */
	off_t cut;		/* the break's range: [cut, len) */
	pid_t child;
};

FIXTURE_VARIANT(ps) {
	struct dax_mode m;
	enum kind kind;
};

FIXTURE_VARIANT_ADD(ps, xfs_reflink) {
	.m = { .fs = DAX_FS_XFS, .pmd = false, .shared = true }, .kind = REFLINK,
};
FIXTURE_VARIANT_ADD(ps, xfs_partial_pmd) {
	.m = { .fs = DAX_FS_XFS, .pmd = true, .shared = true }, .kind = PARTIAL_PMD,
};
FIXTURE_VARIANT_ADD(ps, ext4_partial_pmd) {
	.m = { .fs = DAX_FS_EXT4, .pmd = true, .shared = true }, .kind = PARTIAL_PMD,
};

FIXTURE_SETUP(ps)
{
	const char *dir = dax_dir(variant->m.fs);
	struct iovec iov;
	char *pa;

	self->fda = self->fdb = -1;
	self->pfd[0] = self->pfd[1] = -1;
	self->mapb = MAP_FAILED;
	self->child = 0;
	RIG_REQUIRE(dir, return, "no %s DAX mount", dax_fs_name(variant->m.fs));
	ASSERT_EQ(0, pipe(self->pfd));

	if (variant->kind == REFLINK) {
		self->len = 16 * PG;
		self->pinoff = 0;
		self->cut = 0;
		self->fda = dax_create(dir, self->len, DAX_FILL, SEED);
		ASSERT_LE(0, self->fda);
		self->fdb = dax_create(dir, 0, 0, 0);
		ASSERT_LE(0, self->fdb);
		RIG_REQUIRE(!ioctl(self->fdb, FICLONE, self->fda), return,
			    "FICLONE on %s: %s", dir, strerror(errno));
		/* B keeps the shared page mapped */
		self->mapb = dax_map(&variant->m, self->fdb, 0, self->len);
		ASSERT_NE(MAP_FAILED, self->mapb);
		ASSERT_EQ(-1, pattern_check(self->mapb, self->len, SEED, 0));
		/* A's page is the same block: map, read, pin it, unmap */
		pa = dax_map(&variant->m, self->fda, 0, self->len);
		ASSERT_NE(MAP_FAILED, pa);
		ASSERT_EQ(-1, pattern_check(pa, PG, SEED, 0));
		iov.iov_base = pa;
		iov.iov_len = PG;
		ASSERT_EQ(PG, vmsplice(self->pfd[1], &iov, 1, 0));
		ASSERT_EQ(0, munmap(pa, self->len));
		return;
	}

	self->len = PMDSZ;
	self->cut = PMDSZ / 2;
	self->pinoff = self->cut + 44 * PG;
	self->fda = dax_create(dir, self->len, DAX_ALLOC | DAX_FILL, SEED);
	ASSERT_LE(0, self->fda);
	RIG_REQUIRE(pmd_aligned_extents(self->fda, self->len), return,
		    "no 2 MiB aligned extent on %s", dir);
	self->mapb = dax_map(&variant->m, self->fda, 0, self->len);
	ASSERT_NE(MAP_FAILED, self->mapb);
	/* a PMD fault makes the entry and its PMD-sized folio */
	ASSERT_EQ(-1, pattern_check(self->mapb, self->len, SEED, 0));
	/* split the VMA: what is mapped again is mapped by PTEs */
	ASSERT_EQ(0, mprotect(self->mapb, PG, PROT_READ));
	touch_range(self->mapb, self->len, false);
	iov.iov_base = self->mapb + self->pinoff;
	iov.iov_len = PG;
	ASSERT_EQ(PG, vmsplice(self->pfd[1], &iov, 1, 0));
}

FIXTURE_TEARDOWN(ps)
{
	drain_pipe(self->pfd[0]);
	if (self->child > 0 && kill_child_ms(self->child, 20000, NULL) != 1)
		TH_LOG("child %d did not die", self->child);
	if (self->mapb != MAP_FAILED)
		munmap(self->mapb, self->len);
	pipe_close(self->pfd);
	if (self->fda >= 0)
		close(self->fda);
	if (self->fdb >= 0)
		close(self->fdb);
}

/* in a child: the layout break of the variant; exit status 0 or errno */
static pid_t start_break(FIXTURE_DATA(ps) *self, const FIXTURE_VARIANT(ps) *variant)
{
	pid_t pid = fork_child();
	int ret;

	if (pid)
		return pid;
	if (variant->kind == REFLINK)
		ret = ftruncate(self->fda, self->cut);
	else
		ret = fallocate(self->fda, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				self->cut, self->len - self->cut);
	_exit(ret ? errno : 0);
}

/* the break task sleeps in the pin wait and burns (almost) no CPU */
static void check_sleeps(struct __test_metadata *_metadata, pid_t pid)
{
	char seen[256];
	long c0, c1;
	int w;

	w = task_sleeps_in(pid, dax_pin_waits, PIN_WAIT_MS, seen, sizeof(seen));
	TH_LOG("break with a pinned, still mapped page: %s", seen);
	EXPECT_EQ(1, w) TH_LOG("the break task is not asleep in a pin wait");
	c0 = task_cpu_ticks(pid);
	usleep(1000000);
	c1 = task_cpu_ticks(pid);
	ASSERT_LE(0, c0);
	ASSERT_LE(0, c1);
	/* a spinning task gets ~100 ticks a second; a sleeping one ~0 */
	EXPECT_GT(sysconf(_SC_CLK_TCK) / 4, c1 - c0) TH_LOG("%ld ticks of CPU in 1 s: spinning", c1 - c0);
}

TEST_F_TIMEOUT(ps, waits_until_released, 120)
{
	int status;
	long off;

	self->child = start_break(self, variant);
	ASSERT_LT(0, self->child);
	check_sleeps(_metadata, self->child);
	drain_pipe(self->pfd[0]);
	ASSERT_EQ(1, wait_child_ms(self->child, 15000, &status))
		TH_LOG("the break did not finish after the pin went");
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("break: %s", strerror(WEXITSTATUS(status)));
	if (variant->kind == REFLINK) {
		/* B is untouched */
		EXPECT_EQ(-1, pattern_check(self->mapb, self->len, SEED, 0));
	} else {
		/* the first half has its data, the second half is a hole */
		EXPECT_EQ(-1, pattern_check(self->mapb, self->cut, SEED, 0));
		off = zero_check(self->mapb + self->cut, self->len - self->cut);
		EXPECT_EQ(-1, off) TH_LOG("non-zero byte at %ld after the punch", off);
	}
}

TEST_F_TIMEOUT(ps, sigkill_ends_wait, 120)
{
	int status;

	self->child = start_break(self, variant);
	ASSERT_LT(0, self->child);
	check_sleeps(_metadata, self->child);
	EXPECT_EQ(1, kill_child_ms(self->child, 5000, &status)) TH_LOG("SIGKILL did not end the wait");
	self->child = 0;
	/* data of the page and of B are what they were */
	drain_pipe(self->pfd[0]);
	EXPECT_EQ(-1, pattern_check(self->mapb, self->len, SEED, 0));
}

TEST_HARNESS_MAIN
