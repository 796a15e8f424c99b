// SPDX-License-Identifier: GPL-2.0
/*
 * dax_evict_pin: the last close of a DAX file whose page user space still
 * holds (vmsplice()d into a pipe, the file unmapped and unlinked) must not
 * sleep, let alone unkillably, and must not free the page's block either:
 * the series keeps such a file open until the page is idle (fs/dax.c,
 * dax_file_release()), so the inode is not evicted while the page is in
 * use, and its blocks come back once the pipe lets go of the page.
 *
 *  - close_unlinked: map, store, vmsplice into a pipe, munmap, unlink,
 *    close; close must return within seconds and the task never sit in
 *    state D; while the pipe holds the page, statfs shows the blocks still
 *    allocated and the page still has the data; SIGKILL ends the task; once
 *    the pipe is drained and closed, statfs is back where it was.
 *  - other_process_holds: the same, but the task exits normally while a
 *    second process holds the pipe.
 *  - reopen_while_held: the file keeps its name: reopened while the page is
 *    held (the held file does not hide it), truncated to zero (which waits,
 *    interruptibly, for the page: SIGKILL ends it), then the page released.
 *
 * Every risky step runs in a child under a watchdog: the parent can always
 * end a wait by draining the pipe, which it holds too.
 *
 * NEW SEMANTICS (group "refcount"): the series as it was before the fix put
 * close_unlinked's task into an unkillable sleep in inode eviction; stock
 * 6.12 frees the blocks while the pipe still holds the page (statfs shows
 * them free at once).
 * Variants: xfs, ext4.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(64 * PG)
#define PINOFF	(5 * PG)
#define SEED	0x5eed17

FIXTURE(ev) {
	char dir[PATH_MAX], path[PATH_MAX];
	int pfd[2];		/* the data pipe: the page is held in it */
	int sfd[2];		/* status pipe: the child reports its steps */
	pid_t child, holder;
	unsigned long long free_before;
};

FIXTURE_VARIANT(ev) {
	struct dax_mode m;
};

DAX_ADD_VARIANT(ev, xfs, DAX_FS_XFS, false, true);
DAX_ADD_VARIANT(ev, ext4, DAX_FS_EXT4, false, true);

/*
 * Wait up to ms for one status byte from the child; meanwhile the child must
 * never be seen in state D for more than d_ms in a row.  Returns the byte,
 * -1 on time-out, -2 if the child sat in D too long (*seen_d set either way).
 */
static int child_step(FIXTURE_DATA(ev) *self, int ms, int d_ms, int *seen_d)
{
	long end = now_ms() + ms, d_since = 0;
	char c;

	*seen_d = 0;
	for (;;) {
		struct timeval tv = { 0, 20000 };
		fd_set rfds;
		char st;

		FD_ZERO(&rfds);
		FD_SET(self->sfd[0], &rfds);
		if (select(self->sfd[0] + 1, &rfds, NULL, NULL, &tv) > 0)
			return read(self->sfd[0], &c, 1) == 1 ? c : -1;
		st = task_state(self->child);
		if (st == 'D') {
			*seen_d = 1;
			if (!d_since)
				d_since = now_ms();
			else if (now_ms() - d_since > d_ms)
				return -2;
		} else {
			d_since = 0;
		}
		if (now_ms() > end)
			return -1;
	}
}

/* drain and close the parent's ends of the data pipe: the page is let go */
static void release_page(FIXTURE_DATA(ev) *self)
{
	drain_pipe(self->pfd[0]);
	pipe_close(self->pfd);
}

/*
 * In the child: make the file (named), map it, store, vmsplice the page into
 * the data pipe, munmap; optionally unlink; report 'm', then close the fd and
 * report 'c'.  Exit status: 0, or the step that failed.
 */
static void child_pin_and_close(FIXTURE_DATA(ev) *self, const struct dax_mode *m,
				bool do_unlink, bool close_pipe)
{
	struct iovec iov;
	char *p;
	int fd;

	close(self->sfd[0]);
	fd = open(self->path, O_RDWR);
	if (fd < 0)
		_exit(10);
	p = dax_map(m, fd, 0, FSIZE);
	if (p == MAP_FAILED)
		_exit(11);
	pattern_fill(p + PINOFF, PG, SEED, PINOFF);
	iov.iov_base = p + PINOFF;
	iov.iov_len = PG;
	if (vmsplice(self->pfd[1], &iov, 1, 0) != PG)
		_exit(12);
	if (munmap(p, FSIZE))
		_exit(13);
	if (do_unlink && unlink(self->path))
		_exit(14);
	if (close_pipe) {
		/* only the holder keeps the page now */
		close(self->pfd[0]);
		close(self->pfd[1]);
	}
	if (write(self->sfd[1], "m", 1) != 1)
		_exit(15);
	close(fd);
	if (write(self->sfd[1], "c", 1) != 1)
		_exit(16);
}

FIXTURE_SETUP(ev)
{
	const char *dir = dax_dir(variant->m.fs);
	int fd;

	self->pfd[0] = self->pfd[1] = self->sfd[0] = self->sfd[1] = -1;
	self->child = self->holder = 0;
	self->path[0] = 0;
	RIG_REQUIRE(dir, return, "no %s DAX mount ($DAX_XFS/$DAX_EXT4)", dax_fs_name(variant->m.fs));
	ASSERT_NE(NULL, realpath(dir, self->dir));
	self->free_before = fs_free_bytes(self->dir);
	ASSERT_NE(0, self->free_before);
	fd = dax_create_path(self->dir, FSIZE, DAX_FILL, SEED, self->path, sizeof(self->path));
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(errno));
	ASSERT_EQ(1, fd_is_dax(fd));
	close(fd);
	ASSERT_EQ(0, pipe(self->pfd));
	ASSERT_EQ(0, pipe(self->sfd));
}

FIXTURE_TEARDOWN(ev)
{
	/* draining the pipe ends any wait for the page, so the kills work */
	release_page(self);
	REAP_CHILD(self->holder, 10000, "holder");
	REAP_CHILD(self->child, 10000, "child");
	pipe_close(self->sfd);
	if (self->path[0])
		unlink(self->path);
}

TEST_F_TIMEOUT(ev, close_unlinked, 90)
{
	unsigned long long held, after;
	int step, seen_d, status;
	char buf[PG];

	self->child = fork_child();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		child_pin_and_close(self, &variant->m, true, false);
		pause();
		_exit(0);
	}
	close(self->sfd[1]);
	self->sfd[1] = -1;
	step = child_step(self, 20000, 1000, &seen_d);
	ASSERT_EQ('m', step) TH_LOG("child failed before close (status pipe: %d)", step);
	step = child_step(self, 10000, 2000, &seen_d);
	EXPECT_EQ('c', step) TH_LOG("last close of a file with a held DAX page %s",
				    step == -2 ? "sleeps in state D" : "did not return in 10 s");
	EXPECT_EQ(0, seen_d) TH_LOG("the closing task was seen in state D");
	if (step != 'c') {
		/* let it go so the test can end */
		release_page(self);
		wait_child_ms(self->child, 20000, NULL);
		return;
	}

	/* the file's blocks are not free while the pipe holds its page */
	held = fs_free_bytes(self->dir);
	EXPECT_LT(held, self->free_before) TH_LOG("blocks of the unlinked file freed while its page is held");

	/* SIGKILL ends the task at once: it is not waiting for anything */
	ASSERT_EQ(1, kill_child_ms(self->child, 2000, &status));
	self->child = 0;
	EXPECT_TRUE(WIFSIGNALED(status));
	usleep(200000);
	EXPECT_EQ(held, fs_free_bytes(self->dir)) TH_LOG("blocks freed while the page is still held");

	/* the held page still has what the task stored */
	ASSERT_EQ(PG, read(self->pfd[0], buf, PG));
	EXPECT_EQ(-1, pattern_check(buf, PG, SEED, PINOFF));
	release_page(self);
	after = fs_free_wait(self->dir, self->free_before, 10000);
	EXPECT_EQ(self->free_before, after) TH_LOG("free space %llu, was %llu before the file",
						   after, self->free_before);
}

TEST_F_TIMEOUT(ev, other_process_holds, 90)
{
	unsigned long long after;
	int step, seen_d, status;

	/* the holder keeps the pipe (and so the page); the parent drops its ends */
	self->holder = fork_child();
	ASSERT_LE(0, self->holder);
	if (self->holder == 0) {
		close(self->sfd[0]);
		close(self->sfd[1]);
		for (;;)
			pause();
	}
	self->child = fork_child();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		child_pin_and_close(self, &variant->m, true, true);
		_exit(0);	/* a normal exit, with the page held elsewhere */
	}
	close(self->sfd[1]);
	self->sfd[1] = -1;
	/* the parent's own ends go: only the holder's copy keeps the page */
	close(self->pfd[0]);
	close(self->pfd[1]);
	self->pfd[0] = self->pfd[1] = -1;

	step = child_step(self, 20000, 1000, &seen_d);
	ASSERT_EQ('m', step) TH_LOG("child failed before close (status pipe: %d)", step);
	step = child_step(self, 10000, 2000, &seen_d);
	EXPECT_EQ('c', step) TH_LOG("last close %s", step == -2 ? "sleeps in state D" : "did not return");
	EXPECT_EQ(0, seen_d);
	if (step != 'c') {
		kill_child_ms(self->holder, 10000, NULL);
		self->holder = 0;
		wait_child_ms(self->child, 20000, NULL);
		return;
	}
	ASSERT_EQ(1, wait_child_ms(self->child, 10000, &status)) TH_LOG("exit did not complete");
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	usleep(200000);
	EXPECT_LT(fs_free_bytes(self->dir), self->free_before) TH_LOG("blocks freed while another process holds the page");

	/* the holder goes: its pipe goes with it, and so does the page */
	ASSERT_EQ(1, kill_child_ms(self->holder, 5000, NULL));
	self->holder = 0;
	after = fs_free_wait(self->dir, self->free_before, 10000);
	EXPECT_EQ(self->free_before, after) TH_LOG("free space %llu, was %llu before", after,
						   self->free_before);
}

TEST_F_TIMEOUT(ev, reopen_while_held, 90)
{
	int step, seen_d, status, fd;
	char buf[PG];
	void *p;

	self->child = fork_child();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		child_pin_and_close(self, &variant->m, false, false);
		_exit(0);
	}
	close(self->sfd[1]);
	self->sfd[1] = -1;
	step = child_step(self, 20000, 1000, &seen_d);
	ASSERT_EQ('m', step);
	step = child_step(self, 10000, 2000, &seen_d);
	ASSERT_EQ('c', step) TH_LOG("last close did not return");
	ASSERT_EQ(1, wait_child_ms(self->child, 10000, &status));
	self->child = 0;

	/* the file is still there and still DAX, with the stored data */
	fd = open(self->path, O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, fd_is_dax(fd));
	p = dax_map(&variant->m, fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, pattern_check((char *)p + PINOFF, PG, SEED, PINOFF));
	ASSERT_EQ(0, munmap(p, FSIZE));

	/* truncate waits for the page, interruptibly: SIGKILL ends it */
	self->child = fork_child();
	ASSERT_LE(0, self->child);
	if (self->child == 0)
		_exit(ftruncate(fd, 0) ? 1 : 0);
	{
		char seen[256];
		int w = task_sleeps_in(self->child, dax_pin_waits, PIN_WAIT_MS, seen, sizeof(seen));

		TH_LOG("truncate with the page held: %s", seen);
		EXPECT_EQ(1, w) TH_LOG("truncate is not asleep in a pin wait");
	}
	EXPECT_NE('D', task_state(self->child));
	ASSERT_EQ(1, kill_child_ms(self->child, 5000, &status)) TH_LOG("SIGKILL did not end the truncate");
	self->child = 0;

	/* the page goes; a truncate now completes */
	ASSERT_EQ(PG, read(self->pfd[0], buf, PG));
	EXPECT_EQ(-1, pattern_check(buf, PG, SEED, PINOFF));
	release_page(self);
	self->child = fork_child();
	ASSERT_LE(0, self->child);
	if (self->child == 0)
		_exit(ftruncate(fd, 0) ? 1 : 0);
	ASSERT_EQ(1, wait_child_ms(self->child, 10000, &status)) TH_LOG("truncate still blocked");
	self->child = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(fd);
}

TEST_HARNESS_MAIN
