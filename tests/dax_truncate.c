// SPDX-License-Identifier: GPL-2.0
/*
 * dax_truncate: truncate and fallocate(PUNCH_HOLE) of a mapped DAX file.
 * - after truncate, access past EOF raises SIGBUS at that address (also for
 *   pages a private mapping had COWed: truncate unmaps even COWed pages);
 *   the partial tail page reads zero past EOF; the data before stays;
 * - truncating up again gives zeroes, no SIGBUS;
 * - a punched hole reads zero through the mapping and read(2), blocks are
 *   freed, the data around it stays, a private mapping keeps its COWed
 *   copy (hole punch does not unmap COWed pages), and writing into the hole
 *   through a shared mapping allocates again.
 * Regression floor: passes on stock 6.12.
 *
 * Variants: {xfs, ext4} x {4k, 2m} x {MAP_SHARED, MAP_PRIVATE}; 4 MiB file,
 * fallocated and written with pattern 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)

DAX_FILE_FIXTURE(trunc);
DAX_ADD_ALL_VARIANTS(trunc);
DAX_FILE_FIXTURE_SETUP(trunc, FSIZE, DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_BUF, 1);

#define NEWSIZE	(MiB + 100)

TEST_F(trunc, shrink_sigbus_past_eof)
{
	char *p = self->f.p, v = 0;
	void *fa = NULL;
	size_t off;

	touch_range(p, FSIZE, false);
	if (!variant->m.shared) {
		/* COW one page before and one beyond the new EOF */
		pattern_fill(p, PG, 2, 0);
		pattern_fill(p + 3 * MiB + PG, PG, 2, 3 * MiB + PG);
	}
	ASSERT_EQ(0, ftruncate(self->f.fd, NEWSIZE));

	/* before EOF: data unchanged */
	EXPECT_EQ(-1, pattern_check(p, PG, variant->m.shared ? 1 : 2, 0));
	EXPECT_EQ(-1, pattern_check(p + PG, MiB - PG, 1, PG));
	EXPECT_EQ(-1, pattern_check(p + MiB, 100, 1, MiB));
	/* the rest of the EOF page reads zero (shared: the fs zeroed the tail) */
	if (variant->m.shared)
		EXPECT_EQ(-1, zero_check(p + NEWSIZE, PG - 100));
	EXPECT_EQ(0, probe_read(p + MiB + PG - 1, &v, &fa));

	/* past EOF: SIGBUS with the faulting address, for reads and writes */
	for (off = MiB + PG; off < FSIZE; off += 509 * PG) {
		fa = NULL;
		EXPECT_EQ(SIGBUS, probe_read(p + off, &v, &fa)) TH_LOG("read at %#zx", off);
		EXPECT_EQ((void *)(p + off), fa);
		fa = NULL;
		EXPECT_EQ(SIGBUS, probe_write(p + off + 8, 1, &fa)) TH_LOG("write at %#zx", off);
		EXPECT_EQ((void *)(p + off + 8), fa);
	}
	/* a page COWed by the private mapping beyond EOF is gone too */
	fa = NULL;
	EXPECT_EQ(SIGBUS, probe_read(p + 3 * MiB + PG, &v, &fa));
	EXPECT_EQ((void *)(p + 3 * MiB + PG), fa);
	EXPECT_EQ(SIGBUS, probe_read(p + FSIZE - 1, &v, &fa));

	ASSERT_EQ(NEWSIZE, pread(self->f.fd, self->f.buf, FSIZE, 0));
	EXPECT_EQ(-1, pattern_check(self->f.buf, MiB, 1, 0));
}

TEST_F(trunc, shrink_then_extend_reads_zero)
{
	char *p = self->f.p, v = 1;

	touch_range(p, FSIZE, variant->m.shared);
	ASSERT_EQ(0, ftruncate(self->f.fd, MiB));
	ASSERT_EQ(0, ftruncate(self->f.fd, FSIZE));
	EXPECT_EQ(0, probe_read(p + 2 * MiB, &v, NULL));
	EXPECT_EQ(0, v);
	EXPECT_EQ(-1, zero_check(p + MiB, FSIZE - MiB));
	EXPECT_EQ(-1, pattern_check(p, MiB, 1, 0));
	ASSERT_EQ(FSIZE, pread(self->f.fd, self->f.buf, FSIZE, 0));
	EXPECT_EQ(-1, zero_check(self->f.buf + MiB, FSIZE - MiB));
	/* the mapping works again past the old EOF */
	pattern_fill(p + 3 * MiB, PG, 3, 3 * MiB);
	EXPECT_EQ(-1, pattern_check(p + 3 * MiB, PG, 3, 3 * MiB));
	ASSERT_EQ(PG, pread(self->f.fd, self->f.buf, PG, 3 * MiB));
	if (variant->m.shared) {
		EXPECT_EQ(-1, pattern_check(self->f.buf, PG, 3, 3 * MiB));
	} else {
		EXPECT_EQ(-1, zero_check(self->f.buf, PG));
	}
}

/* hole 1: 8 pages in the middle of the first 2 MiB; hole 2: the whole second 2 MiB */
#define H1	(MiB / 2)
#define H1LEN	(8 * PG)
#define H2	PMDSZ
#define H2LEN	PMDSZ

TEST_F(trunc, punch_hole_reads_zero)
{
	char *p = self->f.p;
	struct stat st0, st1;
	uint32_t seed = variant->m.shared ? 2 : 1;

	if (variant->m.shared) {
		pattern_fill(p, FSIZE, 2, 0);
	} else {
		touch_range(p, FSIZE, false);
		/* private COW copies inside both holes */
		pattern_fill(p + H1 + 2 * PG, PG, 3, H1 + 2 * PG);
		pattern_fill(p + H2 + 7 * PG, PG, 3, H2 + 7 * PG);
	}
	ASSERT_EQ(0, fstat(self->f.fd, &st0));
	ASSERT_EQ(0, fallocate(self->f.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, H1, H1LEN));
	ASSERT_EQ(0, fallocate(self->f.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, H2, H2LEN));
	ASSERT_EQ(0, fstat(self->f.fd, &st1));
	EXPECT_EQ(FSIZE, st1.st_size);
	EXPECT_LE((H1LEN + H2LEN) / 512, st0.st_blocks - st1.st_blocks)
		TH_LOG("st_blocks %ld -> %ld", (long)st0.st_blocks, (long)st1.st_blocks);

	/* around the holes */
	EXPECT_EQ(-1, pattern_check(p, H1, seed, 0));
	EXPECT_EQ(-1, pattern_check(p + H1 + H1LEN, H2 - H1 - H1LEN, seed, H1 + H1LEN));
	/* the holes */
	if (variant->m.shared) {
		EXPECT_EQ(-1, zero_check(p + H1, H1LEN));
		EXPECT_EQ(-1, zero_check(p + H2, H2LEN));
	} else {
		EXPECT_EQ(-1, zero_check(p + H1, 2 * PG));
		EXPECT_EQ(-1, pattern_check(p + H1 + 2 * PG, PG, 3, H1 + 2 * PG))
			TH_LOG("hole punch dropped a private COW copy");
		EXPECT_EQ(-1, zero_check(p + H1 + 3 * PG, H1LEN - 3 * PG));
		EXPECT_EQ(-1, zero_check(p + H2, 7 * PG));
		EXPECT_EQ(-1, pattern_check(p + H2 + 7 * PG, PG, 3, H2 + 7 * PG));
		EXPECT_EQ(-1, zero_check(p + H2 + 8 * PG, H2LEN - 8 * PG));
	}
	ASSERT_EQ(FSIZE, pread(self->f.fd, self->f.buf, FSIZE, 0));
	EXPECT_EQ(-1, zero_check(self->f.buf + H1, H1LEN));
	EXPECT_EQ(-1, zero_check(self->f.buf + H2, H2LEN));
	EXPECT_EQ(-1, pattern_check(self->f.buf, H1, seed, 0));

	/* write into the holes again */
	pattern_fill(p + H1 + PG, PG, 4, H1 + PG);
	pattern_fill(p + H2 + PMDSZ / 2, PG, 4, H2 + PMDSZ / 2);
	ASSERT_EQ(PG, pread(self->f.fd, self->f.buf, PG, H1 + PG));
	if (variant->m.shared) {
		EXPECT_EQ(-1, pattern_check(self->f.buf, PG, 4, H1 + PG));
		ASSERT_EQ(PG, pread(self->f.fd, self->f.buf, PG, H2 + PMDSZ / 2));
		EXPECT_EQ(-1, pattern_check(self->f.buf, PG, 4, H2 + PMDSZ / 2));
	} else {
		EXPECT_EQ(-1, zero_check(self->f.buf, PG));
	}
}

/* A mapping longer than the file: SIGBUS beyond the last page, not before. */
TEST_F(trunc, mapping_longer_than_file)
{
	char *p = self->f.p, v;
	void *fa = NULL;

	ASSERT_EQ(0, ftruncate(self->f.fd, 3 * MiB + PG / 2));
	EXPECT_EQ(0, probe_read(p + 3 * MiB + PG - 1, &v, NULL));
	EXPECT_EQ(SIGBUS, probe_read(p + 3 * MiB + PG, &v, &fa));
	EXPECT_EQ((void *)(p + 3 * MiB + PG), fa);
}

TEST_HARNESS_MAIN
