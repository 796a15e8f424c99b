// SPDX-License-Identifier: GPL-2.0
/*
 * dax_pin_truncate: a DAX page held by a GUP reference (vmsplice into a pipe
 * that nobody reads) keeps its block: truncate and hole punch of that range
 * block until the reference goes (pipe drained or closed), then complete;
 * while they wait, the pinned page still holds the file's data and a new
 * file allocated on the same filesystem reads zero.  "Blocks" is seen, not
 * timed: the task doing the truncate / punch must be asleep in a pin wait
 * (task_sleeps_in(dax_pin_waits), lib/daxtest.h), then finish once the
 * reference goes.
 *
 * Stock 6.12 already waits here (dax_layout_busy_page() sees the GUP
 * reference as refcount > 1 and the fs waits for the 2 -> 1 wake-up), so
 * this is expected to pass on stock: group "regress" (listed with a note).
 * With the series the wait is for refcount 0 after unmapping.  (Both xfs
 * and ext4 scan the whole file for busy pages in 6.12, so a pin anywhere in
 * the file would block; only pins inside the range are tested.)
 *
 * Variants: {xfs, ext4} x {4k, 2m}, MAP_SHARED.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define PINPG	5
#define DONE_MS		5000

FIXTURE(pin) {
	struct dax_file f;
	int pfd[2];
	pid_t child;
};

FIXTURE_VARIANT(pin) {
	struct dax_mode m;
};

DAX_ADD_SHARED_VARIANTS(pin);

FIXTURE_SETUP(pin)
{
	struct iovec iov;

	self->pfd[0] = self->pfd[1] = -1;
	self->child = 0;
	if (!dax_file_setup(_metadata, &self->f, &variant->m, FSIZE,
			    DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_RIG, 1))
		return;
	touch_range(self->f.p, FSIZE, true);
	ASSERT_EQ(0, pipe(self->pfd));
	iov.iov_base = self->f.p + PINPG * PG;
	iov.iov_len = PG;
	ASSERT_EQ(PG, vmsplice(self->pfd[1], &iov, 1, 0)) TH_LOG("vmsplice: %s", strerror(errno));
}

FIXTURE_TEARDOWN(pin)
{
	REAP_CHILD(self->child, DONE_MS, "truncate/punch child");
	pipe_close(self->pfd);
	dax_file_teardown(&self->f);
}

enum op { OP_TRUNCATE, OP_PUNCH };

/* a new file on the same filesystem reads zero */
static void check_new_file(struct __test_metadata *_metadata, enum dax_fs fs)
{
	char *buf = malloc(8 * MiB);
	int fd = dax_create(dax_dir(fs), 8 * MiB, DAX_ALLOC, 0);

	ASSERT_NE(NULL, buf);
	ASSERT_LE(0, fd);
	ASSERT_EQ(8 * MiB, pread(fd, buf, 8 * MiB, 0));
	EXPECT_EQ(-1, zero_check(buf, 8 * MiB));
	close(fd);
	free(buf);
}

static void run(struct __test_metadata *_metadata, FIXTURE_DATA(pin) *self,
		enum dax_fs fs, enum op op, bool drain)
{
	const char *what = op == OP_TRUNCATE ? "truncate" : "punch";
	char buf[PG], seen[256];
	int status = 0, done, w;
	long t0;

	/* the pipe must not live on in the child: closing it is the test */
	self->child = start_pin_op(self->f.fd, op == OP_TRUNCATE, self->pfd);
	ASSERT_LT(0, self->child);
	/* it must be asleep in the pin wait, not merely slow */
	w = task_sleeps_in(self->child, dax_pin_waits, PIN_WAIT_MS, seen, sizeof(seen));
	TH_LOG("%s while the page is pinned: %s", what, seen);
	if (w == -1) {
		done = wait_child_ms(self->child, DONE_MS, &status);
		self->child = 0;
		ASSERT_EQ(1, done);
		EXPECT_TRUE(0) TH_LOG("%s finished while the page was pinned (status %#x)",
				      what, status);
		return;
	}
	ASSERT_EQ(1, w) TH_LOG("%s is not asleep in a pin wait after %d ms", what, PIN_WAIT_MS);
	check_new_file(_metadata, fs);

	t0 = now_ms();
	if (drain) {
		/* the pinned page still has the file's data */
		ASSERT_EQ(PG, read(self->pfd[0], buf, PG));
		EXPECT_EQ(-1, pattern_check(buf, PG, 1, PINPG * PG));
	} else {
		pipe_close(self->pfd);
	}
	expect_pin_op_done(_metadata, &self->child, &self->f, op == OP_TRUNCATE, DONE_MS,
			   "after the pin went", t0);
}

TEST_F(pin, truncate_waits_for_pipe_drain)
{
	run(_metadata, self, variant->m.fs, OP_TRUNCATE, true);
}

TEST_F(pin, truncate_waits_for_pipe_close)
{
	run(_metadata, self, variant->m.fs, OP_TRUNCATE, false);
}

TEST_F(pin, punch_waits_for_pipe_drain)
{
	run(_metadata, self, variant->m.fs, OP_PUNCH, true);
}

TEST_F(pin, punch_waits_for_pipe_close)
{
	run(_metadata, self, variant->m.fs, OP_PUNCH, false);
}

TEST_HARNESS_MAIN
