// SPDX-License-Identifier: GPL-2.0
/*
 * dax_ref_fork: fork copies the page table entries of a DAX mapping when the
 * VMA has an anon_vma (mm/memory.c vma_needs_copy(): a MAP_PRIVATE mapping
 * in which one page was COWed).  The copied entries must take their own
 * reference and mapcount, and the child's exit must drop them:
 * parent only 1/1 -> after fork 2/2 -> after the child exits 1/1.
 *
 * MAP_SHARED file VMAs (no anon_vma, not PFNMAP/MIXEDMAP, no uffd-wp) are
 * never copied at fork on 6.12: the child faults its own entries; that case
 * is dax_ref_multi's second_process.  PMD entries of file VMAs are not copied
 * either (copy_huge_pmd skips non-anonymous VMAs): in the 2m variants the
 * child faults the PMD itself, and the counts must follow just the same.
 *
 * NEW SEMANTICS (group "refcount"): fails on stock 6.12, where copied special
 * PTEs take no reference and no mapcount.
 * Variants: {xfs, ext4} x {4k, 2m}, MAP_PRIVATE.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define PAGE_NO	3

DAX_FILE_FIXTURE(rfork);
DAX_ADD_VARIANT(rfork, xfs_4k_private, DAX_FS_XFS, false, false);
DAX_ADD_VARIANT(rfork, xfs_2m_private, DAX_FS_XFS, true, false);
DAX_ADD_VARIANT(rfork, ext4_4k_private, DAX_FS_EXT4, false, false);
DAX_ADD_VARIANT(rfork, ext4_2m_private, DAX_FS_EXT4, true, false);
DAX_FILE_FIXTURE_SETUP(rfork, FSIZE, DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_RIG | DAX_GUP, 1);

static void expect_mapped(struct __test_metadata *_metadata, bool pmd, char *addr,
			  long n, const char *what)
{
	struct page_state ps;

	get_page_state(_metadata, what, addr, &ps);
	EXPECT_EQ(NULL, strstr(ps.flags, "anon"));
	EXPECT_EQ(n, ps.refcount) TH_LOG("%s: refcount", what);
	if (pmd) {
		EXPECT_TRUE(ps.large);
		EXPECT_EQ(n, ps.entire_mapcount) TH_LOG("%s: entire_mapcount", what);
	} else {
		EXPECT_EQ(n, ps.mapcount) TH_LOG("%s: mapcount", what);
	}
}

TEST_F(rfork, fork_copies_entries)
{
	char *a = self->f.p + PAGE_NO * PG, c;
	int to_child[2], to_parent[2], status;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	/* file pages of the first 2 MiB mapped read-only (PTEs or a PMD) */
	touch_range(self->f.p, PMDSZ, false);
	/* a COW in the second 2 MiB gives the VMA its anon_vma */
	self->f.p[PMDSZ + 9 * PG] = 1;
	expect_mapped(_metadata, variant->m.pmd, a, 1, "before fork");

	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ret = 0;

		close(to_child[1]);
		close(to_parent[0]);

		/* 4k: the PTE was copied at fork */
		if (!variant->m.pmd && pagemap_pfn(a) <= 0)
			ret |= 1;
		touch_range(self->f.p, PMDSZ, false);
		if (pattern_check(self->f.p, PMDSZ, 1, 0) != -1)
			ret |= 2;
		if (write(to_parent[1], "x", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(100);
		_exit(ret);
	}
	close(to_child[0]);
	close(to_parent[1]);
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	expect_mapped(_metadata, variant->m.pmd, a, 2, "parent and child");
	ASSERT_EQ(1, write(to_child[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child bits %#x (1: PTE not copied)",
						 WEXITSTATUS(status));
	expect_mapped(_metadata, variant->m.pmd, a, 1, "after the child exited");
}

TEST_HARNESS_MAIN
