// SPDX-License-Identifier: GPL-2.0
/*
 * dax_data: data written through a DAX mapping is what read(2) and other
 * mappings see; msync.  Regression floor: passes on stock 6.12.
 *
 * Variants: {xfs, ext4} x {4k (MADV_NOHUGEPAGE), 2m (aligned)} x
 * {MAP_SHARED, MAP_PRIVATE}.  The file is 4 MiB, fallocated and written
 * with pattern 1 through write(2) before it is mapped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)

DAX_FILE_FIXTURE(data);
DAX_ADD_ALL_VARIANTS(data);
DAX_FILE_FIXTURE_SETUP(data, FSIZE, DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_BUF, 1);

/* The mapping shows the file content; a write through it is seen by read(2) iff shared. */
TEST_F(data, write_then_read)
{
	ASSERT_EQ(-1, pattern_check(self->f.p, FSIZE, 1, 0));
	pattern_fill(self->f.p, FSIZE, 2, 0);
	ASSERT_EQ(-1, pattern_check(self->f.p, FSIZE, 2, 0));

	ASSERT_EQ(FSIZE, pread(self->f.fd, self->f.buf, FSIZE, 0));
	if (variant->m.shared) {
		ASSERT_EQ(-1, pattern_check(self->f.buf, FSIZE, 2, 0))
			TH_LOG("read(2) does not see the shared mapping's data");
	} else {
		ASSERT_EQ(-1, pattern_check(self->f.buf, FSIZE, 1, 0))
			TH_LOG("a private mapping's write reached the file");
	}
}

/* A write(2) is seen through the mapping (private: as long as the page was not COWed). */
TEST_F(data, write_syscall_seen_by_mapping)
{
	/* fault everything in first, read-only */
	touch_range(self->f.p, FSIZE, false);
	pattern_fill(self->f.buf, FSIZE, 3, 0);
	ASSERT_EQ(FSIZE, pwrite(self->f.fd, self->f.buf, FSIZE, 0));
	ASSERT_EQ(-1, pattern_check(self->f.p, FSIZE, 3, 0));

	/* COW one page of a private mapping: it stops following the file */
	pattern_fill(self->f.p + PG, PG, 4, PG);
	pattern_fill(self->f.buf, FSIZE, 5, 0);
	ASSERT_EQ(FSIZE, pwrite(self->f.fd, self->f.buf, FSIZE, 0));
	if (variant->m.shared) {
		ASSERT_EQ(-1, pattern_check(self->f.p, FSIZE, 5, 0));
	} else {
		ASSERT_EQ(-1, pattern_check(self->f.p, PG, 5, 0));
		ASSERT_EQ(-1, pattern_check(self->f.p + PG, PG, 4, PG));
		ASSERT_EQ(-1, pattern_check(self->f.p + 2 * PG, FSIZE - 2 * PG, 5, 2 * PG));
	}
}

/* A second (shared) mapping of the same file sees what the first wrote iff shared. */
TEST_F(data, second_mapping)
{
	struct dax_mode m2 = variant->m;
	char *q;

	m2.shared = true;
	q = dax_map(&m2, self->f.fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_NE(self->f.p, q);

	pattern_fill(self->f.p, FSIZE, 6, 0);
	if (variant->m.shared) {
		EXPECT_EQ(-1, pattern_check(q, FSIZE, 6, 0));
	} else {
		EXPECT_EQ(-1, pattern_check(q, FSIZE, 1, 0));
	}

	/* and back: writes through q to the first half */
	pattern_fill(q, FSIZE / 2, 7, 0);
	if (variant->m.shared) {
		EXPECT_EQ(-1, pattern_check(self->f.p, FSIZE / 2, 7, 0));
		EXPECT_EQ(-1, pattern_check(self->f.p + FSIZE / 2, FSIZE / 2, 6, FSIZE / 2));
	} else {
		/* every page of p was COWed above: p keeps its private data */
		EXPECT_EQ(-1, pattern_check(self->f.p, FSIZE, 6, 0));
	}
	ASSERT_EQ(0, munmap(q, FSIZE));
}

/* A mapping at a non-zero file offset shows the right part of the file. */
TEST_F(data, offset_mapping)
{
	char *q = dax_map(&variant->m, self->f.fd, PMDSZ, PMDSZ);

	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, pattern_check(q, PMDSZ, 1, PMDSZ));
	pattern_fill(self->f.p + PMDSZ + 8 * PG, PG, 8, PMDSZ + 8 * PG);
	if (variant->m.shared) {
		EXPECT_EQ(-1, pattern_check(q + 8 * PG, PG, 8, PMDSZ + 8 * PG));
	} else {
		EXPECT_EQ(-1, pattern_check(q + 8 * PG, PG, 1, PMDSZ + 8 * PG));
	}
	ASSERT_EQ(0, munmap(q, PMDSZ));
}

/* msync succeeds; after unmap and close, a new open file sees the data iff shared. */
TEST_F(data, msync_persists)
{
	int fd2;

	pattern_fill(self->f.p, FSIZE, 9, 0);
	ASSERT_EQ(0, msync(self->f.p, FSIZE, MS_SYNC)) TH_LOG("msync: %s", strerror(errno));
	ASSERT_EQ(0, msync(self->f.p + PMDSZ, PG, MS_ASYNC));
	ASSERT_EQ(0, msync(self->f.p, FSIZE, MS_INVALIDATE));
	/* msync of a range that is not page aligned is EINVAL */
	ASSERT_EQ(-1, msync(self->f.p + 1, PG, MS_SYNC));
	ASSERT_EQ(EINVAL, errno);

	fd2 = reopen_fd(self->f.fd, O_RDONLY);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, munmap(self->f.p, FSIZE));
	self->f.p = MAP_FAILED;
	ASSERT_EQ(0, close(self->f.fd));
	self->f.fd = -1;
	ASSERT_EQ(0, fsync(fd2));
	ASSERT_EQ(FSIZE, pread(fd2, self->f.buf, FSIZE, 0));
	close(fd2);
	ASSERT_EQ(-1, pattern_check(self->f.buf, FSIZE, variant->m.shared ? 9 : 1, 0));
}

/* Bytes beyond EOF inside the last page read as zero; the file is not extended. */
TEST_F(data, tail_page_beyond_eof)
{
	struct stat st;
	char *q;
	int fd2 = dax_create(dax_dir(variant->m.fs), 3 * PG + 100, 0, 0);

	ASSERT_LE(0, fd2);
	q = dax_map(&variant->m, fd2, 0, 4 * PG);
	ASSERT_NE(MAP_FAILED, q);
	memset(q, 0xa5, 3 * PG + 100);
	EXPECT_EQ(-1, zero_check(q + 3 * PG + 100, PG - 100));
	q[3 * PG + 200] = 0x11;		/* allowed, never reaches the file */
	ASSERT_EQ(0, munmap(q, 4 * PG));
	ASSERT_EQ(0, fstat(fd2, &st));
	EXPECT_EQ(3 * PG + 100, st.st_size);
	ASSERT_EQ(3 * PG + 100, pread(fd2, self->f.buf, 4 * PG, 0));
	if (variant->m.shared) {
		EXPECT_EQ((char)0xa5, self->f.buf[3 * PG + 99]);
	} else {
		EXPECT_EQ(0, self->f.buf[3 * PG + 99]);
	}
	close(fd2);
}

TEST_HARNESS_MAIN
