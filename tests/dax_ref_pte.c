// SPDX-License-Identifier: GPL-2.0
/*
 * dax_ref_pte: a DAX page mapped by one PTE has refcount 1 and mapcount 1
 * (the mapping's reference and rmap), after a read fault, a write fault, and
 * a write fault that allocates a block; a private COW drops the mapping's
 * reference on the DAX page.
 *
 * NEW SEMANTICS (group "refcount"): fails on stock 6.12, where dump_page()
 * shows refcount:2 mapcount:0 under gup_test (1 idle reference + gup_test's),
 * i.e. refcount 1 and mapcount 0 here, because stock maps DAX pages with
 * special PTEs that hold neither a reference nor a mapcount.
 *
 * Counts come from dump_page() through gup_test's DUMP_USER_PAGES_TEST with
 * gup_test's own reference subtracted (see lib/daxtest.h page_state()).
 * Variants: {xfs, ext4} x {MAP_SHARED, MAP_PRIVATE}, 4 KiB mappings.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	PMDSZ

DAX_FILE_FIXTURE(ref);
DAX_ADD_VARIANT(ref, xfs_shared, DAX_FS_XFS, false, true);
DAX_ADD_VARIANT(ref, xfs_private, DAX_FS_XFS, false, false);
DAX_ADD_VARIANT(ref, ext4_shared, DAX_FS_EXT4, false, true);
DAX_ADD_VARIANT(ref, ext4_private, DAX_FS_EXT4, false, false);
DAX_FILE_FIXTURE_SETUP(ref, FSIZE, DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_RIG | DAX_GUP, 1);

/* Dump the page at addr and check it is a DAX page (pfn, not anon, order 0). */
static void get_state(struct __test_metadata *_metadata, const char *what,
		      char *addr, struct page_state *ps)
{

	get_page_state(_metadata, what, addr, ps);
	ASSERT_EQ(pagemap_pfn(addr), (long long)ps->pfn);
}

TEST_F(ref, read_fault)
{
	char *a = self->f.p + 3 * PG;
	struct page_state ps;

	EXPECT_EQ(-1, pattern_check(a, PG, 1, 3 * PG));
	get_state(_metadata, "after read fault", a, &ps);
	EXPECT_FALSE(ps.large);
	EXPECT_EQ(NULL, strstr(ps.flags, "anon"));
	EXPECT_EQ(1, ps.refcount);
	EXPECT_EQ(1, ps.mapcount);
}

TEST_F(ref, write_fault)
{
	char *a = self->f.p + 3 * PG, *q;
	struct dax_mode shared = variant->m;
	struct page_state ps;

	if (variant->m.shared) {
		pattern_fill(a, PG, 2, 3 * PG);
		get_state(_metadata, "after write fault", a, &ps);
		EXPECT_EQ(NULL, strstr(ps.flags, "anon"));
		EXPECT_EQ(1, ps.refcount);
		EXPECT_EQ(1, ps.mapcount);
		return;
	}
	/* private: read fault maps the DAX page, the write replaces it by an anon copy */
	EXPECT_EQ(-1, pattern_check(a, PG, 1, 3 * PG));
	pattern_fill(a, PG, 2, 3 * PG);
	get_state(_metadata, "private COW copy", a, &ps);
	/* a fresh anon page may hold an extra LRU-batch reference: no refcount check */
	EXPECT_NE(NULL, strstr(ps.flags, "anon"));
	EXPECT_EQ(1, ps.mapcount);
	/* the DAX page itself, seen through a new shared mapping: only that one maps it */
	shared.shared = true;
	q = dax_map(&shared, self->f.fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, pattern_check(q + 3 * PG, PG, 1, 3 * PG));
	get_state(_metadata, "DAX page after the private COW", q + 3 * PG, &ps);
	EXPECT_EQ(NULL, strstr(ps.flags, "anon"));
	EXPECT_EQ(1, ps.refcount);
	EXPECT_EQ(1, ps.mapcount);
	munmap(q, FSIZE);
}

/*
 * A fault that allocates the block.  Shared: the write fault.  Private: the
 * private mapping first maps the zero page for the hole; a write through a
 * shared mapping allocates the block and invalidates that; the private
 * mapping then maps the new DAX page: 2 mappings, 2 references.
 */
TEST_F(ref, allocating_fault)
{
	struct dax_mode shared = variant->m;
	struct page_state ps;
	char *p, *q;
	int fd;

	fd = dax_create(dax_dir(variant->m.fs), FSIZE, 0, 0);
	ASSERT_LE(0, fd);
	p = dax_map(&variant->m, fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, p);
	if (variant->m.shared) {
		pattern_fill(p + 5 * PG, PG, 3, 5 * PG);
		get_state(_metadata, "after allocating write fault", p + 5 * PG, &ps);
		EXPECT_EQ(1, ps.refcount);
		EXPECT_EQ(1, ps.mapcount);
	} else {
		EXPECT_EQ(-1, zero_check(p + 5 * PG, PG));
		shared.shared = true;
		q = dax_map(&shared, fd, 0, FSIZE);
		ASSERT_NE(MAP_FAILED, q);
		pattern_fill(q + 5 * PG, PG, 3, 5 * PG);
		EXPECT_EQ(-1, pattern_check(p + 5 * PG, PG, 3, 5 * PG));
		get_state(_metadata, "allocated page, private+shared", p + 5 * PG, &ps);
		EXPECT_EQ(pagemap_pfn(q + 5 * PG), (long long)ps.pfn);
		EXPECT_EQ(2, ps.refcount);
		EXPECT_EQ(2, ps.mapcount);
		munmap(q, FSIZE);
	}
	munmap(p, FSIZE);
	close(fd);
}

TEST_HARNESS_MAIN
