// SPDX-License-Identifier: GPL-2.0
/*
 * dax_ref_multi: every mapping of a DAX page holds one reference and one
 * mapcount, and munmap gives them back:
 * - two mappings in one process: refcount 2, mapcount 2 (PMD: entire 2);
 * - after munmap of one: 1 and 1; a fresh mapping after unmapping all: 1/1
 *   (not 2: the old mapping's reference is gone);
 * - a second process mapping the page: 2 and 2; after it exits: 1 and 1;
 * - repeated map/fault/unmap cycles while another process holds the page
 *   leave exactly the holders' counts.
 *
 * NEW SEMANTICS (group "refcount"): fails on stock 6.12 (mapcount 0, refcount
 * 1 whatever the number of mappings).
 *
 * Variants: {xfs, ext4} x {4k, 2m} x {MAP_SHARED, MAP_PRIVATE}; private
 * mappings are only read (the pages stay the file's DAX pages).
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define PAGE_NO	3

DAX_FILE_FIXTURE(multi);
DAX_ADD_ALL_VARIANTS(multi);
DAX_FILE_FIXTURE_SETUP(multi, FSIZE, DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_RIG | DAX_GUP, 1);

/* fault the first 2 MiB (one PMD in the 2m variants) */
static void fault_in(char *p, bool shared)
{
	touch_range(p, PMDSZ, shared);
}

/* expect n mappings of page PAGE_NO as seen through addr */
static void expect_mapped(struct __test_metadata *_metadata, const struct dax_mode *m,
			  char *addr, long n, const char *what)
{
	struct page_state ps;

	get_page_state(_metadata, what, addr, &ps);
	EXPECT_EQ(pagemap_pfn(addr), (long long)ps.pfn);
	EXPECT_EQ(n, ps.refcount) TH_LOG("%s: refcount", what);
	if (m->pmd) {
		EXPECT_TRUE(ps.large);
		EXPECT_EQ(9, ps.order);
		EXPECT_EQ(n, ps.entire_mapcount) TH_LOG("%s: entire_mapcount", what);
		EXPECT_EQ(n, ps.folio_mapcount);
	} else {
		EXPECT_FALSE(ps.large);
		EXPECT_EQ(n, ps.mapcount) TH_LOG("%s: mapcount", what);
	}
}

TEST_F(multi, two_mappings_then_munmap)
{
	char *q;

	fault_in(self->f.p, variant->m.shared);
	q = dax_map(&variant->m, self->f.fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, q);
	fault_in(q, variant->m.shared);
	ASSERT_EQ(pagemap_pfn(self->f.p + PAGE_NO * PG), pagemap_pfn(q + PAGE_NO * PG));
	expect_mapped(_metadata, &variant->m, self->f.p + PAGE_NO * PG, 2, "two mappings");
	ASSERT_EQ(0, munmap(q, FSIZE));
	expect_mapped(_metadata, &variant->m, self->f.p + PAGE_NO * PG, 1, "after munmap of one");
}

TEST_F(multi, fresh_mapping_after_munmap)
{
	char *q;

	fault_in(self->f.p, variant->m.shared);
	expect_mapped(_metadata, &variant->m, self->f.p + PAGE_NO * PG, 1, "one mapping");
	ASSERT_EQ(0, munmap(self->f.p, FSIZE));
	self->f.p = MAP_FAILED;
	q = dax_map(&variant->m, self->f.fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, q);
	self->f.p = q;
	fault_in(q, variant->m.shared);
	expect_mapped(_metadata, &variant->m, q + PAGE_NO * PG, 1, "new mapping after munmap");
}

TEST_F(multi, second_process)
{
	int to_child[2], to_parent[2], status, i;
	char c;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	fault_in(self->f.p, variant->m.shared);
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		/* fork did not copy the (file, no anon_vma) page tables: fault ourselves */
		fault_in(self->f.p, false);
		if (write(to_parent[1], "x", 1) != 1)
			_exit(1);
		if (read(to_child[0], &c, 1) != 1)
			_exit(2);
		_exit(pattern_check(self->f.p, PMDSZ, 1, 0) == -1 ? 0 : 3);
	}
	close(to_child[0]);
	close(to_parent[1]);
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	expect_mapped(_metadata, &variant->m, self->f.p + PAGE_NO * PG, 2, "two processes");

	/* map/fault/unmap cycles here while the child keeps its mapping */
	for (i = 0; i < 16; i++) {
		char *q = dax_map(&variant->m, self->f.fd, 0, FSIZE);

		ASSERT_NE(MAP_FAILED, q);
		fault_in(q, variant->m.shared);
		ASSERT_EQ(0, munmap(q, FSIZE));
	}
	expect_mapped(_metadata, &variant->m, self->f.p + PAGE_NO * PG, 2, "after 16 cycles");

	ASSERT_EQ(1, write(to_child[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	expect_mapped(_metadata, &variant->m, self->f.p + PAGE_NO * PG, 1,
		      "after the child exited");
}

TEST_HARNESS_MAIN
