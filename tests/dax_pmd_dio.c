// SPDX-License-Identifier: GPL-2.0
/*
 * dax_pmd_dio: PMD faults mixed with O_DIRECT into and out of the mapped
 * range.  A 2 MiB PMD-mapped (MAP_SHARED, aligned extent) range of DAX file
 * B is the user buffer of O_DIRECT I/O:
 *   - pwrite(O_DIRECT) from the buffer into DAX file A,
 *   - pread(O_DIRECT) from DAX file A into the buffer,
 *   - pread(O_DIRECT) from the pmem block device under the filesystem
 *     ($PMEM_XFS_DEV for xfs, $PMEM_EXT4_DEV for ext4; READ ONLY, it holds the
 *     mounted fs) into the buffer, at the physical offset FIEMAP gives for
 *     A's data: a real block-layer DIO that pins the buffer's DAX pages,
 * while a second thread keeps faulting the same range of B through another
 * mapping, unmapping it, and zapping the buffer itself (MADV_DONTNEED) so
 * that the DIO's GUP and the copies race with PMD faults and zaps.
 * Every step's data are checked (the buffer, B read with pread, A, and the
 * device), and again at the end once everything is quiet.
 *
 * This program is the regression part (group "regress", passes on stock).
 * dax_pmd_dio_ref is the same program built with WITH_REFS: once quiet, the
 * buffer's page is an order-9 folio with refcount 1 and entire mapcount 1
 * (new semantics, group "refcount": fails on stock 6.12).
 * Variants: xfs, ext4.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define ROUNDS	16
#define RUN_MS	7000	/* stop the rounds early if the guest is slow */

FIXTURE(pdio) {
	int fda, fdb, fdbd, fdad, devfd;
	char *buf;
	void *anon;
	pthread_t thr;
	bool thr_started;
	volatile bool stop;
	long thr_loops;
};

FIXTURE_VARIANT(pdio) {
	enum dax_fs fs;
	const char *devenv;	/* environment variable naming the device */
};

FIXTURE_VARIANT_ADD(pdio, xfs) { .fs = DAX_FS_XFS, .devenv = "PMEM_XFS_DEV" };
FIXTURE_VARIANT_ADD(pdio, ext4) { .fs = DAX_FS_EXT4, .devenv = "PMEM_EXT4_DEV" };

static void *racer(void *arg)
{
	FIXTURE_DATA(pdio) *self = arg;
	volatile char sink = 0;
	char *q;

	while (!self->stop) {
		q = map_aligned(PMDSZ, PROT_READ, MAP_SHARED, self->fdb, 0, 0);
		if (q != MAP_FAILED) {
			sink += q[7 * PG] + q[PMDSZ - 1];
			munmap(q, PMDSZ);
		}
		if (self->thr_loops % 3 == 0)
			madvise(self->buf, PMDSZ, MADV_DONTNEED);
		self->thr_loops++;
		sched_yield();
	}
	(void)sink;
	return NULL;
}

FIXTURE_SETUP(pdio)
{
	const char *dev, *dir = dax_dir(variant->fs);
	struct stat st, dst;

	self->fda = self->fdb = self->fdbd = self->fdad = self->devfd = -1;
	self->buf = MAP_FAILED;
	self->anon = NULL;
	self->thr_started = false;
	self->stop = false;
	self->thr_loops = 0;
	if (!dir)
		SKIP(return, "no %s DAX mount ($DAX_XFS/$DAX_EXT4)", dax_fs_name(variant->fs));
	self->fda = dax_create(dir, FSIZE, DAX_ALLOC | DAX_FILL, 3);
	ASSERT_LE(0, self->fda) TH_LOG("create A: %s", strerror(errno));
	self->fdb = dax_create(dir, FSIZE, DAX_ALLOC | DAX_FILL, 2);
	ASSERT_LE(0, self->fdb) TH_LOG("create B: %s", strerror(errno));
	ASSERT_EQ(1, fd_is_dax(self->fda));
	ASSERT_EQ(1, fd_is_dax(self->fdb));
	ASSERT_TRUE(pmd_aligned_extents(self->fdb, FSIZE));
	self->fdad = reopen_fd(self->fda, O_RDWR | O_DIRECT);
	ASSERT_LE(0, self->fdad) TH_LOG("O_DIRECT open of A: %s", strerror(errno));

	/* the device must be the one under this filesystem; opened read-only */
	ASSERT_EQ(0, fstat(self->fda, &st));
	dev = getenv(variant->devenv);
	ASSERT_NE(NULL, dev) TH_LOG("$%s not set (guest/setup-pmem.sh sets it)", variant->devenv);
	self->devfd = open(dev, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, self->devfd) TH_LOG("%s: %s", dev, strerror(errno));
	ASSERT_EQ(0, fstat(self->devfd, &dst));
	ASSERT_EQ(st.st_dev, dst.st_rdev) TH_LOG("%s is not the device of %s", dev, dir);

	ASSERT_EQ(0, posix_memalign(&self->anon, PMDSZ, PMDSZ));
	self->buf = map_aligned(PMDSZ, PROT_READ | PROT_WRITE, MAP_SHARED, self->fdb, 0, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	touch_range(self->buf, PMDSZ, false);
}

FIXTURE_TEARDOWN(pdio)
{
	if (self->thr_started) {
		self->stop = true;
		pthread_join(self->thr, NULL);
	}
	if (self->buf != MAP_FAILED)
		munmap(self->buf, PMDSZ);
	free(self->anon);
	if (self->devfd >= 0)
		close(self->devfd);
	if (self->fdad >= 0)
		close(self->fdad);
	if (self->fda >= 0)
		close(self->fda);
	if (self->fdb >= 0)
		close(self->fdb);
}

/* physical byte offset on the device of file offset off (one extent covers len) */
static long long phys_of(int fd, off_t off, size_t len)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[8];
	} f;
	unsigned int i;

	memset(&f, 0, sizeof(f));
	f.fm.fm_start = off;
	f.fm.fm_length = len;
	f.fm.fm_flags = FIEMAP_FLAG_SYNC;
	f.fm.fm_extent_count = 8;
	if (ioctl(fd, FS_IOC_FIEMAP, &f.fm))
		return -1;
	for (i = 0; i < f.fm.fm_mapped_extents; i++) {
		struct fiemap_extent *e = &f.ext[i];

		if (e->fe_logical <= (uint64_t)off && e->fe_logical + e->fe_length >= off + len &&
		    !(e->fe_flags & (FIEMAP_EXTENT_UNWRITTEN | FIEMAP_EXTENT_UNKNOWN |
				     FIEMAP_EXTENT_ENCODED)))
			return e->fe_physical + (off - e->fe_logical);
	}
	return -1;
}

/* one pass of the three DIOs with seed s (A's half h gets written) */
static void round_trip(struct __test_metadata *_metadata, FIXTURE_DATA(pdio) *self,
		       int r)
{
	const uint32_t s = 100 + r;
	const off_t ha = (r & 1) * PMDSZ;	/* the half of A written this round */
	const off_t hb = PMDSZ - ha;		/* the other half, read back */
	long long phys;
	char *scratch = self->anon;

	/* 1: fill the buffer (page faults, racing the zaps), DIO it out to A */
	pattern_fill(self->buf, PMDSZ, s, 0);
	ASSERT_EQ(PMDSZ, pwrite(self->fdad, self->buf, PMDSZ, ha))
		TH_LOG("round %d: O_DIRECT write from the DAX buffer: %s", r, strerror(errno));
	ASSERT_EQ(PMDSZ, pread(self->fda, scratch, PMDSZ, ha));
	ASSERT_EQ(-1, pattern_check(scratch, PMDSZ, s, 0)) TH_LOG("round %d: A after write", r);

	/* 2: the device under A's half sees the same bytes (DIO into the buffer) */
	phys = phys_of(self->fda, ha, PMDSZ);
	ASSERT_LE(0, phys) TH_LOG("round %d: no FIEMAP extent for A", r);
	memset(scratch, 0, PMDSZ);
	ASSERT_EQ(PMDSZ, pread(self->devfd, self->buf, PMDSZ, phys))
		TH_LOG("round %d: O_DIRECT read of %s into the DAX buffer: %s", r,
		       "the device", strerror(errno));
	ASSERT_EQ(-1, pattern_check(self->buf, PMDSZ, s, 0)) TH_LOG("round %d: buffer after device DIO", r);
	ASSERT_EQ(PMDSZ, pread(self->fdb, scratch, PMDSZ, 0));
	ASSERT_EQ(-1, pattern_check(scratch, PMDSZ, s, 0)) TH_LOG("round %d: B after device DIO", r);

	/* 3: DIO the other half of A in; it has the previous round's data */
	ASSERT_EQ(PMDSZ, pread(self->fdad, self->buf, PMDSZ, hb))
		TH_LOG("round %d: O_DIRECT read of A into the DAX buffer: %s", r, strerror(errno));
	ASSERT_EQ(PMDSZ, pread(self->fdb, scratch, PMDSZ, 0));
	if (r == 0) {
		ASSERT_EQ(-1, pattern_check(self->buf, PMDSZ, 3, hb)) TH_LOG("round 0: buffer");
		ASSERT_EQ(-1, pattern_check(scratch, PMDSZ, 3, hb)) TH_LOG("round 0: B");
	} else {
		ASSERT_EQ(-1, pattern_check(self->buf, PMDSZ, s - 1, 0)) TH_LOG("round %d: buffer", r);
		ASSERT_EQ(-1, pattern_check(scratch, PMDSZ, s - 1, 0)) TH_LOG("round %d: B", r);
	}

	/* 4: a misaligned sub-range: 1 MiB from buffer + 4 KiB to the device-read half */
	ASSERT_EQ(MiB, pread(self->devfd, self->buf + PG, MiB, phys))
		TH_LOG("round %d: sub-range device DIO: %s", r, strerror(errno));
	ASSERT_EQ(-1, pattern_check(self->buf + PG, MiB, s, 0)) TH_LOG("round %d: sub-range", r);
}

TEST_F(pdio, dio_races_pmd_faults)
{
	int r, done = 0;
	long t0 = now_ms();
	char *tmp = malloc(PMDSZ);

	ASSERT_NE(NULL, tmp);
	ASSERT_EQ(0, pthread_create(&self->thr, NULL, racer, self));
	self->thr_started = true;
	for (r = 0; r < ROUNDS && now_ms() - t0 < RUN_MS; r++) {
		round_trip(_metadata, self, r);
		done++;
	}
	self->stop = true;
	ASSERT_EQ(0, pthread_join(self->thr, NULL));
	self->thr_started = false;
	TH_LOG("%d rounds, %ld racer loops in %ld ms", done, self->thr_loops, now_ms() - t0);
	EXPECT_LT(0, self->thr_loops);

	/* quiet: everything agrees */
	r = done - 1;
	ASSERT_EQ(PMDSZ, pread(self->fda, tmp, PMDSZ, (r & 1) * PMDSZ));
	EXPECT_EQ(-1, pattern_check(tmp, PMDSZ, 100 + r, 0));
	ASSERT_EQ(PMDSZ, pread(self->fdb, tmp, PMDSZ, 0));
	EXPECT_EQ(0, memcmp(tmp, self->buf, PMDSZ));
	/* [PG, PG + 1 MiB): step 4's device data; after it: step 3's */
	EXPECT_EQ(-1, pattern_check(tmp + PG, MiB, 100 + r, 0));
	EXPECT_EQ(-1, pattern_check(tmp + PG + MiB, MiB - PG, r ? 100 + r - 1 : 3,
				    (r ? 0 : PMDSZ) + PG + MiB));
	ASSERT_EQ(PMDSZ, pread(self->fdb, tmp, PMDSZ, PMDSZ));
	EXPECT_EQ(-1, pattern_check(tmp, PMDSZ, 2, PMDSZ)) TH_LOG("B's second half changed");
	free(tmp);

#ifdef WITH_REFS
	{
		struct page_state ps;

		/* the buffer, mapped again by one read fault per page */
		touch_range(self->buf, PMDSZ, false);
		get_page_state(_metadata, "buffer page 7 once quiet", self->buf + 7 * PG, &ps);
		EXPECT_EQ(pagemap_pfn(self->buf + 7 * PG), (long long)ps.pfn);
		EXPECT_TRUE(ps.large);
		EXPECT_EQ(9, ps.order);
		EXPECT_EQ(1, ps.refcount);
		EXPECT_EQ(1, ps.entire_mapcount);
		EXPECT_EQ(1, ps.folio_mapcount);
		EXPECT_EQ(0, ps.pincount);
		ASSERT_EQ(0, munmap(self->buf, PMDSZ));
		self->buf = MAP_FAILED;
	}
#endif
}

TEST_HARNESS_MAIN
