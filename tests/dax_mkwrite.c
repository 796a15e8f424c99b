// SPDX-License-Identifier: GPL-2.0
/*
 * dax_mkwrite: write faults on shared DAX mappings keep reaching the
 * filesystem (->pfn_mkwrite / huge_fault) after writeback cleaned them
 * (DESIGN pitfall 9): fsync write-protects the dirty PTEs/PMDs, so the next
 * store faults again (one fault per page, or per PMD), a store without an
 * fsync in between does not; with MAP_SYNC the same holds and the data is
 * in the file after every store.  Regression floor.
 * Variants: {xfs, ext4} x {4k, 2m}, MAP_SHARED.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x080000
#endif

#define FSIZE	(4 * MiB)

FIXTURE(mkw) {
	int fd;
	char *buf;
};

FIXTURE_VARIANT(mkw) {
	struct dax_mode m;
};

DAX_ADD_SHARED_VARIANTS(mkw);

FIXTURE_SETUP(mkw)
{
	const char *dir = dax_dir(variant->m.fs);

	self->fd = -1;
	self->buf = NULL;
	if (!dir)
		SKIP(return, "no %s DAX mount ($DAX_XFS/$DAX_EXT4)", dax_fs_name(variant->m.fs));
	self->fd = dax_create(dir, FSIZE, DAX_ALLOC | DAX_FILL, 1);
	ASSERT_LE(0, self->fd) TH_LOG("create: %s", strerror(errno));
	ASSERT_EQ(1, fd_is_dax(self->fd));
	self->buf = malloc(FSIZE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(mkw)
{
	if (self->fd >= 0)
		close(self->fd);
	free(self->buf);
}

/* store one word per page; returns the faults it took */
static long store_pages(char *p, size_t len, uint32_t seed)
{
	long f0 = fault_count();
	size_t off;

	for (off = 0; off < len; off += PG)
		pattern_fill(p + off, 4, seed, off);
	return fault_count() - f0;
}

static void run(struct __test_metadata *_metadata, FIXTURE_DATA(mkw) *self,
		const struct dax_mode *m, char *p)
{
	long per_range = m->pmd ? FSIZE / PMDSZ : FSIZE / PG, f;
	int round;

	f = store_pages(p, FSIZE, 2);
	TH_LOG("first stores: %ld faults", f);
	EXPECT_LE(per_range, f);
	/* still writable: no faults */
	EXPECT_EQ(0, store_pages(p, FSIZE, 3));
	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, fsync(self->fd));
		f = store_pages(p, FSIZE, 4 + round);
		TH_LOG("stores after fsync %d: %ld faults", round, f);
		EXPECT_LE(per_range, f) TH_LOG("writeback did not write-protect, or faults lost");
		EXPECT_GE(per_range * 2, f);
		ASSERT_EQ(4, pread(self->fd, self->buf, 4, FSIZE - PG));
		EXPECT_EQ(-1, pattern_check(self->buf, 4, 4 + round, FSIZE - PG));
	}
	/* msync does the same as fsync */
	ASSERT_EQ(0, msync(p, FSIZE, MS_SYNC));
	EXPECT_LE(per_range, store_pages(p, FSIZE, 8));
}

TEST_F(mkw, refault_after_fsync)
{
	char *p = dax_map(&variant->m, self->fd, 0, FSIZE);

	ASSERT_NE(MAP_FAILED, p);
	run(_metadata, self, &variant->m, p);
	munmap(p, FSIZE);
}

TEST_F(mkw, refault_after_fsync_map_sync)
{
	char *p = map_aligned(FSIZE, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC,
			      self->fd, 0, 0);

	ASSERT_NE(MAP_FAILED, p) TH_LOG("MAP_SYNC: %s", strerror(errno));
	if (!variant->m.pmd)
		ASSERT_EQ(0, madvise(p, FSIZE, MADV_NOHUGEPAGE));
	run(_metadata, self, &variant->m, p);
	munmap(p, FSIZE);
}

TEST_HARNESS_MAIN
