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

FIXTURE(data) {
	int fd;
	char *p;
	char *buf;
};

FIXTURE_VARIANT(data) {
	struct dax_mode m;
};

DAX_ADD_ALL_VARIANTS(data);

FIXTURE_SETUP(data)
{
	const char *dir = dax_dir(variant->m.fs);

	self->fd = -1;
	self->p = MAP_FAILED;
	self->buf = NULL;
	if (!dir)
		SKIP(return, "$DAX_%s not set: no %s DAX mount",
		     variant->m.fs == DAX_FS_XFS ? "XFS" : "EXT4", dax_fs_name(variant->m.fs));
	self->fd = dax_create(dir, FSIZE, DAX_ALLOC | DAX_FILL, 1);
	ASSERT_LE(0, self->fd) TH_LOG("create in %s: %s", dir, strerror(errno));
	ASSERT_EQ(1, fd_is_dax(self->fd)) TH_LOG("%s file is not DAX", dir);
	self->p = dax_map(&variant->m, self->fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, self->p) TH_LOG("mmap: %s", strerror(errno));
	self->buf = malloc(FSIZE);
	ASSERT_NE(NULL, self->buf);
}

FIXTURE_TEARDOWN(data)
{
	if (self->p != MAP_FAILED)
		munmap(self->p, FSIZE);
	if (self->fd >= 0)
		close(self->fd);
	free(self->buf);
}

/* The mapping shows the file content; a write through it is seen by read(2) iff shared. */
TEST_F(data, write_then_read)
{
	ASSERT_EQ(-1, pattern_check(self->p, FSIZE, 1, 0));
	pattern_fill(self->p, FSIZE, 2, 0);
	ASSERT_EQ(-1, pattern_check(self->p, FSIZE, 2, 0));

	ASSERT_EQ(FSIZE, pread(self->fd, self->buf, FSIZE, 0));
	if (variant->m.shared) {
		ASSERT_EQ(-1, pattern_check(self->buf, FSIZE, 2, 0))
			TH_LOG("read(2) does not see the shared mapping's data");
	} else {
		ASSERT_EQ(-1, pattern_check(self->buf, FSIZE, 1, 0))
			TH_LOG("a private mapping's write reached the file");
	}
}

/* A write(2) is seen through the mapping (private: as long as the page was not COWed). */
TEST_F(data, write_syscall_seen_by_mapping)
{
	/* fault everything in first, read-only */
	touch_range(self->p, FSIZE, false);
	pattern_fill(self->buf, FSIZE, 3, 0);
	ASSERT_EQ(FSIZE, pwrite(self->fd, self->buf, FSIZE, 0));
	ASSERT_EQ(-1, pattern_check(self->p, FSIZE, 3, 0));

	/* COW one page of a private mapping: it stops following the file */
	pattern_fill(self->p + PG, PG, 4, PG);
	pattern_fill(self->buf, FSIZE, 5, 0);
	ASSERT_EQ(FSIZE, pwrite(self->fd, self->buf, FSIZE, 0));
	if (variant->m.shared) {
		ASSERT_EQ(-1, pattern_check(self->p, FSIZE, 5, 0));
	} else {
		ASSERT_EQ(-1, pattern_check(self->p, PG, 5, 0));
		ASSERT_EQ(-1, pattern_check(self->p + PG, PG, 4, PG));
		ASSERT_EQ(-1, pattern_check(self->p + 2 * PG, FSIZE - 2 * PG, 5, 2 * PG));
	}
}

/* A second (shared) mapping of the same file sees what the first wrote iff shared. */
TEST_F(data, second_mapping)
{
	struct dax_mode m2 = variant->m;
	char *q;

	m2.shared = true;
	q = dax_map(&m2, self->fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_NE(self->p, q);

	pattern_fill(self->p, FSIZE, 6, 0);
	if (variant->m.shared) {
		EXPECT_EQ(-1, pattern_check(q, FSIZE, 6, 0));
	} else {
		EXPECT_EQ(-1, pattern_check(q, FSIZE, 1, 0));
	}

	/* and back: writes through q to the first half */
	pattern_fill(q, FSIZE / 2, 7, 0);
	if (variant->m.shared) {
		EXPECT_EQ(-1, pattern_check(self->p, FSIZE / 2, 7, 0));
		EXPECT_EQ(-1, pattern_check(self->p + FSIZE / 2, FSIZE / 2, 6, FSIZE / 2));
	} else {
		/* every page of p was COWed above: p keeps its private data */
		EXPECT_EQ(-1, pattern_check(self->p, FSIZE, 6, 0));
	}
	ASSERT_EQ(0, munmap(q, FSIZE));
}

/* A mapping at a non-zero file offset shows the right part of the file. */
TEST_F(data, offset_mapping)
{
	char *q = dax_map(&variant->m, self->fd, PMDSZ, PMDSZ);

	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, pattern_check(q, PMDSZ, 1, PMDSZ));
	pattern_fill(self->p + PMDSZ + 8 * PG, PG, 8, PMDSZ + 8 * PG);
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

	pattern_fill(self->p, FSIZE, 9, 0);
	ASSERT_EQ(0, msync(self->p, FSIZE, MS_SYNC)) TH_LOG("msync: %s", strerror(errno));
	ASSERT_EQ(0, msync(self->p + PMDSZ, PG, MS_ASYNC));
	ASSERT_EQ(0, msync(self->p, FSIZE, MS_INVALIDATE));
	/* msync of a range that is not page aligned is EINVAL */
	ASSERT_EQ(-1, msync(self->p + 1, PG, MS_SYNC));
	ASSERT_EQ(EINVAL, errno);

	fd2 = reopen_fd(self->fd, O_RDONLY);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, munmap(self->p, FSIZE));
	self->p = MAP_FAILED;
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0, fsync(fd2));
	ASSERT_EQ(FSIZE, pread(fd2, self->buf, FSIZE, 0));
	close(fd2);
	ASSERT_EQ(-1, pattern_check(self->buf, FSIZE, variant->m.shared ? 9 : 1, 0));
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
	ASSERT_EQ(3 * PG + 100, pread(fd2, self->buf, 4 * PG, 0));
	if (variant->m.shared) {
		EXPECT_EQ((char)0xa5, self->buf[3 * PG + 99]);
	} else {
		EXPECT_EQ(0, self->buf[3 * PG + 99]);
	}
	close(fd2);
}

TEST_HARNESS_MAIN
