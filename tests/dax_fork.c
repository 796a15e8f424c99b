// SPDX-License-Identifier: GPL-2.0
/*
 * dax_fork: fork with DAX mappings.
 * - MAP_PRIVATE: writes after fork (by parent or child) are private to the
 *   writer, COW never reaches the file, copies made before fork are
 *   inherited and then private to each side;
 * - MAP_SHARED: both sides and the file see each other's writes.
 * Faults before and after fork are both covered.  Regression floor.
 *
 * Variants: {xfs, ext4} x {4k, 2m} x {MAP_SHARED, MAP_PRIVATE}; 4 MiB file
 * written with pattern 1.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)

FIXTURE(fork) {
	struct dax_file f;
	int to_child[2], to_parent[2];
};

FIXTURE_VARIANT(fork) {
	struct dax_mode m;
};

DAX_ADD_ALL_VARIANTS(fork);

FIXTURE_SETUP(fork)
{
	if (!dax_file_setup(_metadata, &self->f, &variant->m, FSIZE,
			    DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_BUF, 1))
		return;
	ASSERT_EQ(0, pipe(self->to_child));
	ASSERT_EQ(0, pipe(self->to_parent));
}

FIXTURE_TEARDOWN(fork)
{
	dax_file_teardown(&self->f);
}

/*
 * Child side: write seed 3 over [0, 2 MiB), tell the parent, wait until the
 * parent wrote seed 4 over the same range, check what we see.  Exit status
 * bits: 1 own write not visible, 2 private copy changed by the parent,
 * 4 shared mapping does not show the parent's write, 8 inherited state wrong.
 */
static int child_body(char *p, bool shared, uint32_t inherited_seed, int in, int out)
{
	int ret = 0;

	if (pattern_check(p + PMDSZ, PMDSZ, inherited_seed, PMDSZ) != -1)
		ret |= 8;
	pattern_fill(p, PMDSZ, 3, 0);
	if (pattern_check(p, PMDSZ, 3, 0) != -1)
		ret |= 1;
	sync_send(out);
	sync_wait(in);
	if (shared) {
		if (pattern_check(p, PMDSZ, 4, 0) != -1)
			ret |= 4;
	} else if (pattern_check(p, PMDSZ, 3, 0) != -1) {
		ret |= 2;
	}
	return ret;
}

static void run_fork_test(struct __test_metadata *_metadata,
			  FIXTURE_DATA(fork) *self, bool shared, bool fault_before)
{
	char *p = self->f.p;
	uint32_t upper_seed = 1;
	int status;
	pid_t pid;

	if (fault_before) {
		touch_range(p, FSIZE, false);
		/* second half: shared -> file, private -> COW copy before fork */
		pattern_fill(p + PMDSZ, PMDSZ, 2, PMDSZ);
		upper_seed = 2;
	}
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(self->to_child[1]);
		close(self->to_parent[0]);
		_exit(child_body(p, shared, upper_seed, self->to_child[0], self->to_parent[1]));
	}
	close(self->to_child[0]);
	close(self->to_parent[1]);

	sync_wait(self->to_parent[0]);
	/* the child wrote seed 3 over [0, 2 MiB) */
	if (shared) {
		EXPECT_EQ(-1, pattern_check(p, PMDSZ, 3, 0));
	} else {
		EXPECT_EQ(-1, pattern_check(p, PMDSZ, 1, 0));
	}
	pattern_fill(p, PMDSZ, 4, 0);
	sync_send(self->to_child[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child failure bits %#x", WEXITSTATUS(status));

	EXPECT_EQ(-1, pattern_check(p, PMDSZ, 4, 0));
	EXPECT_EQ(-1, pattern_check(p + PMDSZ, PMDSZ, upper_seed, PMDSZ));
	ASSERT_EQ(FSIZE, pread(self->f.fd, self->f.buf, FSIZE, 0));
	if (shared) {
		EXPECT_EQ(-1, pattern_check(self->f.buf, PMDSZ, 4, 0));
		EXPECT_EQ(-1, pattern_check(self->f.buf + PMDSZ, PMDSZ, upper_seed, PMDSZ));
	} else {
		EXPECT_EQ(-1, pattern_check(self->f.buf, FSIZE, 1, 0))
			TH_LOG("a private COW reached the file");
	}
}

TEST_F(fork, write_after_fork_faulted_before)
{
	run_fork_test(_metadata, self, variant->m.shared, true);
}

TEST_F(fork, write_after_fork_not_faulted)
{
	run_fork_test(_metadata, self, variant->m.shared, false);
}

/* The child exits without touching anything: the parent's mapping is intact. */
TEST_F(fork, child_exit_leaves_parent_mapping)
{
	int status;
	pid_t pid;

	pattern_fill(self->f.p, PG, 5, 0);
	touch_range(self->f.p, FSIZE, false);
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(pattern_check(self->f.p, PG, 5, 0) == -1 ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(-1, pattern_check(self->f.p, PG, 5, 0));
	EXPECT_EQ(-1, pattern_check(self->f.p + PG, FSIZE - PG, 1, PG));
	pattern_fill(self->f.p + PG, PG, 6, PG);
	EXPECT_EQ(-1, pattern_check(self->f.p + PG, PG, 6, PG));
}

TEST_HARNESS_MAIN
