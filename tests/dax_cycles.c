// SPDX-License-Identifier: GPL-2.0
/*
 * dax_cycles: mapping life cycles of DAX pages with more than one user.
 *
 * - cycles_while_held: a second process holds a mapping of the first 2 MiB
 *   of a file (PTEs or one PMD) while this process maps, faults (read, and
 *   write for MAP_SHARED) and unmaps the same range CYCLES times.  During a
 *   cycle the page counts 2/2; at the end the holder's page is back to
 *   refcount 1 / mapcount 1 (PTE) or an order-9 folio with refcount 1 and
 *   entire mapcount 1 (PMD), and the data are intact.
 * - fork_before_fault / fork_after_fault: fork with the range not yet
 *   faulted / already faulted; parent and child both fault it: 2/2 while
 *   both map it, 1/1 after the child exits.  A write by the child is seen
 *   by the parent and the file for MAP_SHARED, by neither for MAP_PRIVATE.
 * - partial_munmap: munmap the middle 4 KiB of a faulted 2 MiB range (a PMD
 *   in the 2m variants, which must be split): smaps Rss of the two remaining
 *   VMAs matches the pages pagemap reports present, the hole is gone, the
 *   rest faults back in with correct data, Rss is 2044 KiB and a remaining
 *   page has one mapping's worth of counts.
 *
 * NEW SEMANTICS (group "refcount"): on stock 6.12 DAX pages read mapcount 0
 * and smaps Rss 0, so the count checks fail there.
 * Variants: {xfs, ext4} x {4k, 2m} x {shared, private}.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define CYCLES	200
#define PAGE_NO	3
#define MARK_PG	7

FIXTURE(cyc) {
	struct dax_file f;	/* mapped by the tests */
	pid_t child;
};

FIXTURE_VARIANT(cyc) {
	struct dax_mode m;
};

DAX_ADD_ALL_VARIANTS(cyc);

FIXTURE_SETUP(cyc)
{
	self->child = 0;
	dax_file_setup(_metadata, &self->f, &variant->m, FSIZE,
		       DAX_ALLOC | DAX_FILL | DAX_RIG | DAX_GUP, 1);
}

FIXTURE_TEARDOWN(cyc)
{
	REAP_CHILD(self->child, 5000, "child");
	dax_file_teardown(&self->f);
}

/*
 * The page at addr is mapped n times: PTE: refcount n, mapcount n; PMD: an
 * order-9 folio with refcount n and entire mapcount n.  Logs as a TAP
 * comment (usable from a child, which has no harness of its own).
 */
static bool counts_are(const char *what, const char *addr, bool pmd, long n)
{
	struct page_state ps;
	int ret = page_state(addr, &ps);
	bool ok;

	if (ret) {
		printf("# %s: page_state: %s\n", what, strerror(-ret));
		return false;
	}
	if (pmd)
		ok = ps.large && ps.order == 9 && ps.refcount == n && ps.entire_mapcount == n;
	else
		ok = ps.refcount == n && ps.mapcount == n;
	ok = ok && ps.pfn == (unsigned long)pagemap_pfn(addr) && !strstr(ps.flags, "anon");
	printf("# %s: %s (want %s %ld/%ld)%s\n", what, page_state_str(&ps),
	       pmd ? "order 9, refcount/entire" : "refcount/mapcount", n, n,
	       ok ? "" : " MISMATCH");
	fflush(stdout);
	return ok;
}

TEST_F(cyc, cycles_while_held)
{
	const bool pmd = variant->m.pmd, shared = variant->m.shared;
	int to_child[2], to_parent[2], status, i, bad = 0;
	char *q;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	self->child = fork_child();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		char *h = dax_map(&variant->m, self->f.fd, 0, PMDSZ);
		int ret = 0;

		if (h == MAP_FAILED)
			_exit(102);
		touch_range(h, PMDSZ, false);
		if (!counts_are("holder before the cycles", h + PAGE_NO * PG, pmd, 1))
			ret |= 1;
		sync_send(to_parent[1]);
		sync_wait(to_child[0]);
		if (!counts_are("holder after the cycles", h + PAGE_NO * PG, pmd, 1))
			ret |= 2;
		if (pattern_check(h, PMDSZ, 1, 0) != -1)
			ret |= 4;
		munmap(h, PMDSZ);
		_exit(ret);
	}
	sync_wait(to_parent[0]);

	for (i = 0; i < CYCLES; i++) {
		q = dax_map(&variant->m, self->f.fd, 0, PMDSZ);
		ASSERT_NE(MAP_FAILED, q) TH_LOG("cycle %d: mmap: %s", i, strerror(errno));
		if (i & 1)
			touch_range(q, PMDSZ, false);
		else if (shared)
			q[PAGE_NO * PG + i] = q[PAGE_NO * PG + i];	/* write fault, same data */
		else
			touch_range(q, PMDSZ, false);
		if (i == 0 || i == CYCLES - 1)
			EXPECT_TRUE(counts_are(i ? "last cycle" : "first cycle",
					       q + PAGE_NO * PG, pmd, 2));
		if (pattern_check(q + PAGE_NO * PG, PG, 1, PAGE_NO * PG) != -1)
			bad++;
		ASSERT_EQ(0, munmap(q, PMDSZ));
	}
	EXPECT_EQ(0, bad) TH_LOG("%d cycles read wrong data", bad);

	sync_send(to_child[1]);
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("holder bits %#x (1: counts before, 2: counts after, 4: data)",
		       WEXITSTATUS(status));
}

static void fork_test(struct __test_metadata *_metadata, FIXTURE_DATA(cyc) *self,
		      const struct dax_mode *m, bool fault_first)
{
	int to_child[2], to_parent[2], status;
	char *a, buf[16];
	pid_t pid;

	self->f.p = dax_map(m, self->f.fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, self->f.p);
	a = self->f.p + PAGE_NO * PG;
	if (fault_first) {
		touch_range(self->f.p, PMDSZ, false);
		EXPECT_TRUE(counts_are("before fork", a, m->pmd, 1));
	}
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ret = 0;

		touch_range(self->f.p, PMDSZ, false);
		if (pattern_check(self->f.p, PMDSZ, 1, 0) != -1)
			ret |= 1;
		sync_send(to_parent[1]);
		sync_wait(to_child[0]);
		memcpy(self->f.p + MARK_PG * PG, "child-was-here", 15);
		_exit(ret);
	}
	self->child = pid;
	sync_wait(to_parent[0]);
	if (!fault_first)
		touch_range(self->f.p, PMDSZ, false);
	EXPECT_TRUE(counts_are("parent and child", a, m->pmd, 2));
	sync_send(to_child[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child bits %#x (1: data)", WEXITSTATUS(status));
	EXPECT_TRUE(counts_are("after the child exited", a, m->pmd, 1));

	ASSERT_EQ(15, pread(self->f.fd, buf, 15, MARK_PG * PG));
	if (m->shared) {
		EXPECT_EQ(0, memcmp(self->f.p + MARK_PG * PG, "child-was-here", 15));
		EXPECT_EQ(0, memcmp(buf, "child-was-here", 15));
	} else {
		EXPECT_EQ(-1, pattern_check(self->f.p + MARK_PG * PG, PG, 1, MARK_PG * PG));
		EXPECT_EQ(-1, pattern_check(buf, 15, 1, MARK_PG * PG));
	}
}

TEST_F(cyc, fork_before_fault)
{
	fork_test(_metadata, self, &variant->m, false);
}

TEST_F(cyc, fork_after_fault)
{
	fork_test(_metadata, self, &variant->m, true);
}

static long present_pages(const char *p, size_t len)
{
	long n = 0;
	size_t off;

	for (off = 0; off < len; off += PG)
		if (pagemap_pfn(p + off) > 0)
			n++;
	return n;
}

TEST_F(cyc, partial_munmap)
{
	const size_t hole = PMDSZ / 2;	/* page 256 */
	char *p, *tail;
	struct page_state ps;
	long rss, pres;

	self->f.p = dax_map(&variant->m, self->f.fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, self->f.p);
	p = self->f.p;
	tail = p + hole + PG;
	touch_range(p, PMDSZ, false);
	EXPECT_EQ(2048, smaps_kb(p, "Rss"));
	if (variant->m.pmd)
		EXPECT_TRUE(counts_are("PMD before the munmap", p + PAGE_NO * PG, true, 1));

	ASSERT_EQ(0, munmap(p + hole, PG));
	EXPECT_EQ(0, pagemap_pfn(p + hole));
	/* what is still mapped (a DAX PMD split just zaps it) is what smaps counts */
	pres = present_pages(p, hole) + present_pages(tail, FSIZE - hole - PG);
	rss = smaps_kb(p, "Rss") + smaps_kb(tail, "Rss");
	TH_LOG("after munmap of the middle page: %ld pages present, Rss %ld kB", pres, rss);
	EXPECT_EQ(pres * 4, rss);
	EXPECT_EQ(0, smaps_kb(p, "FilePmdMapped"));
	EXPECT_EQ(0, smaps_kb(tail, "FilePmdMapped"));

	touch_range(p, hole, false);
	touch_range(tail, PMDSZ - hole - PG, false);
	EXPECT_EQ(-1, pattern_check(p, hole, 1, 0));
	EXPECT_EQ(-1, pattern_check(tail, PMDSZ - hole - PG, 1, hole + PG));
	rss = smaps_kb(p, "Rss") + smaps_kb(tail, "Rss");
	EXPECT_EQ(2044, rss);
	EXPECT_EQ(1024, smaps_kb(p, "Rss"));

	get_page_state(_metadata, "remaining page", p + PAGE_NO * PG, &ps);
	EXPECT_EQ(pagemap_pfn(p + PAGE_NO * PG), (long long)ps.pfn);
	EXPECT_EQ(1, ps.mapcount);
	EXPECT_EQ(0, ps.pincount);
	if (ps.large) {
		/* still the PMD folio, now PTE-mapped: one reference per PTE */
		EXPECT_EQ(9, ps.order);
		EXPECT_EQ(0, ps.entire_mapcount);
		EXPECT_EQ(511, ps.nr_pages_mapped);
		EXPECT_EQ(511, ps.folio_mapcount);
		EXPECT_EQ(511, ps.refcount);
	} else {
		EXPECT_EQ(1, ps.refcount);
	}
}

TEST_HARNESS_MAIN
