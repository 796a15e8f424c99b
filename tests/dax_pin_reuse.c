// SPDX-License-Identifier: GPL-2.0
/*
 * dax_pin_reuse: no reuse of a block while its DAX page is pinned.
 *
 * The property issue 3 asks for is "data written through the pin after the
 * truncate started never appears in another file".  User space has no
 * primitive that holds a *writable* long-lived pin on an FS DAX page:
 * FOLL_LONGTERM (io_uring fixed buffers, RDMA, vfio) is refused for FS DAX
 * with the series; vmsplice holds a reference but the pipe only ever reads
 * the page; gup_test's PIN_BASIC/GUP tests (FOLL_WRITE possible) unpin before
 * the ioctl returns; an O_DIRECT read *into* the DAX page from a slow source
 * would need a source we can stall indefinitely, which the guest lacks.  So
 * this test proves the property that the write-through-the-pin one rests
 * on: while the vmsplice reference is held and truncate (or hole punch) of
 * the pinned range is blocked, the pinned block is never handed to another
 * file.  If it never is, nothing written into the page can show up in
 * another file.
 *
 * How: file A is written (pattern + a marker in the pinned page), mapped
 * with 4 KiB PTEs, and one page is vmspliced into a pipe nobody reads.  The
 * block's physical offset (FIEMAP of A) and the page's pfn (pagemap) are
 * taken before the truncate / punch starts in a child, which must block.
 * Then WRITERS processes race to fill the filesystem until it is nearly
 * full (free space below HEADROOM; ENOSPC also ends a writer): each creates
 * files, fallocates CHUNK bytes, writes the start of the file with pwrite
 * and through a write-faulted MAP_SHARED mapping, and checks
 *   - FIEMAP of every extent of its file: none covers the pinned block,
 *   - pagemap of every page it mapped: none is the pinned pfn,
 *   - its data read back, and an unwritten (fallocated) part reads zero.
 * "Blocked" is seen, not timed: the truncate / punch task must be asleep in
 * a pin wait (task_sleeps_in(dax_pin_waits), lib/daxtest.h) before the
 * writers start and again after they are done.
 * The truncate must still be blocked after all that; the pipe is then
 * drained (the page still holds A's data and marker) and the truncate /
 * punch must complete.  Headroom is kept so the blocked truncate / punch
 * itself does not hit ENOSPC.
 *
 * Group "regress": stock 6.12 also waits here (see dax_pin_truncate).
 * Variants: xfs, ext4; tests: truncate, punch.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE		(4 * MiB)
#define PINPG		5
#define WRITERS		3
#define CHUNK		(64 * MiB)
#define WRITTEN		(256 * KiB)	/* written at the start of each file */
#define HEADROOM	(96 * MiB)	/* stop filling below this much free space */
#define FILL_MS		8000
#define DONE_MS		5000
#define MARKER		"PINNED-PAGE-MARKER"

FIXTURE(reuse) {
	struct dax_file f;
	int pfd[2];
	pid_t child;
	pid_t writer[WRITERS];
	char sub[PATH_MAX];
	long long pin_phys;
	long long pin_pfn;
};

FIXTURE_VARIANT(reuse) {
	struct dax_mode m;
};

DAX_ADD_FS_VARIANTS(reuse);

FIXTURE_SETUP(reuse)
{
	struct iovec iov;
	const char *dir;
	int i;

	self->pfd[0] = self->pfd[1] = -1;
	self->child = 0;
	self->sub[0] = 0;
	for (i = 0; i < WRITERS; i++)
		self->writer[i] = 0;
	/* 4 KiB, shared */
	dir = dax_file_setup(_metadata, &self->f, &variant->m, FSIZE,
			     DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_RIG, 1);
	if (!dir)
		return;
	snprintf(self->sub, sizeof(self->sub), "%s/pin_reuse.%d", dir, getpid());
	ASSERT_EQ(0, mkdir(self->sub, 0700)) TH_LOG("mkdir %s: %s", self->sub, strerror(errno));
	touch_range(self->f.p, FSIZE, false);
	memcpy(self->f.p + PINPG * PG + 100, MARKER, sizeof(MARKER));
	ASSERT_EQ(0, pipe(self->pfd));
	iov.iov_base = self->f.p + PINPG * PG;
	iov.iov_len = PG;
	ASSERT_EQ(PG, vmsplice(self->pfd[1], &iov, 1, 0)) TH_LOG("vmsplice: %s", strerror(errno));
}

static void clean_sub(const char *sub)
{
	char path[PATH_MAX + 300];
	struct dirent *de;
	DIR *d = opendir(sub);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", sub, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(sub);
}

FIXTURE_TEARDOWN(reuse)
{
	int i;

	for (i = 0; i < WRITERS; i++)
		if (self->writer[i] > 0 && kill_child_ms(self->writer[i], DONE_MS, NULL) != 1)
			TH_LOG("writer %d (%d) did not die", i, self->writer[i]);
	pipe_close(self->pfd);
	if (self->child > 0) {
		/* the pin is gone now: let the truncate finish */
		if (wait_child_ms(self->child, DONE_MS, NULL) != 1 &&
		    kill_child_ms(self->child, DONE_MS, NULL) != 1)
			TH_LOG("truncate/punch child %d did not die", self->child);
	}
	dax_file_teardown(&self->f);
	if (self->sub[0])
		clean_sub(self->sub);
}

/*
 * Walk the FIEMAP extents of [0, len): returns how many cover the byte at
 * phys (0 = good), -1 on error; *nblocks gets the mapped bytes / 4 KiB.
 */
static int extents_cover(int fd, size_t len, long long phys, long *nblocks, long long *one)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[64];
	} f;
	uint64_t start = 0;
	unsigned int i;
	int hits = 0;
	bool last = false;

	*nblocks = 0;
	*one = -1;
	while (!last && start < len) {
		memset(&f, 0, sizeof(f));
		f.fm.fm_start = start;
		f.fm.fm_length = len - start;
		f.fm.fm_flags = FIEMAP_FLAG_SYNC;
		f.fm.fm_extent_count = 64;
		if (ioctl(fd, FS_IOC_FIEMAP, &f.fm))
			return -1;
		if (!f.fm.fm_mapped_extents)
			break;
		for (i = 0; i < f.fm.fm_mapped_extents; i++) {
			struct fiemap_extent *e = &f.ext[i];

			if (*one < 0)
				*one = e->fe_physical;
			*nblocks += e->fe_length / PG;
			if (phys >= (long long)e->fe_physical &&
			    phys < (long long)(e->fe_physical + e->fe_length))
				hits++;
			start = e->fe_logical + e->fe_length;
			if (e->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
		}
	}
	return hits;
}

/* writer exit bits */
#define W_PHYS	0x01	/* a new file's extent covers the pinned block */
#define W_PFN	0x02	/* a new file's page is the pinned pfn */
#define W_ERR	0x04	/* an unexpected error */
#define W_DATA	0x08	/* data read back wrong */
#define W_NONE	0x10	/* no file made at all */

static int writer(const char *sub, int id, long long pin_phys, long long pin_pfn, long end)
{
	char path[PATH_MAX + 64], *buf = malloc(WRITTEN * 2), *m;
	int ret = 0, files = 0, fd, n, hits;
	long blocks, total = 0;
	long long one;
	struct statvfs sv;
	size_t off;

	if (!buf)
		return W_ERR;
	for (n = 0; now_ms() < end; n++) {
		if (statvfs(sub, &sv))
			return ret | W_ERR;
		if ((unsigned long long)sv.f_bavail * sv.f_frsize < HEADROOM)
			break;
		snprintf(path, sizeof(path), "%s/w%d-%d", sub, id, n);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			return ret | W_ERR;
		if (fallocate(fd, 0, 0, CHUNK)) {
			if (errno != ENOSPC)
				ret |= W_ERR;
			close(fd);
			unlink(path);
			break;
		}
		/* written blocks: pwrite the first half, write faults the second */
		pattern_fill(buf, WRITTEN / 2, 1000 + id * 1000 + n, 0);
		if (pwrite(fd, buf, WRITTEN / 2, 0) != WRITTEN / 2)
			ret |= W_ERR;
		m = map_aligned(WRITTEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, 0);
		if (m == MAP_FAILED) {
			ret |= W_ERR;
		} else {
			madvise(m, WRITTEN, MADV_NOHUGEPAGE);
			pattern_fill(m + WRITTEN / 2, WRITTEN / 2, 1000 + id * 1000 + n, WRITTEN / 2);
			for (off = 0; off < WRITTEN; off += PG)
				if (pagemap_pfn(m + off) == pin_pfn)
					ret |= W_PFN;
			munmap(m, WRITTEN);
		}
		/* the data, and a fallocated (unwritten) part reads zero */
		if (pread(fd, buf, WRITTEN * 2, 0) != WRITTEN * 2 ||
		    pattern_check(buf, WRITTEN, 1000 + id * 1000 + n, 0) != -1 ||
		    zero_check(buf + WRITTEN, WRITTEN) != -1 ||
		    memmem(buf, WRITTEN * 2, MARKER, sizeof(MARKER) - 1))
			ret |= W_DATA;
		hits = extents_cover(fd, CHUNK, pin_phys, &blocks, &one);

		if (hits < 0)
			ret |= W_ERR;
		else if (hits)
			ret |= W_PHYS;
		if (hits || ret)
			printf("# writer %d: %s: %d extent(s) over the pinned block, bits %#x\n",
			       id, path, hits, ret);
		total += blocks;
		files++;
		close(fd);
	}
	printf("# writer %d: %d files, %ld MiB allocated\n", id, files, total * PG / MiB);
	fflush(stdout);
	free(buf);
	return files ? ret : ret | W_NONE;
}

enum op { OP_TRUNCATE, OP_PUNCH };

static void run(struct __test_metadata *_metadata, FIXTURE_DATA(reuse) *self, enum op op)
{
	const char *what = op == OP_TRUNCATE ? "truncate" : "punch";
	struct statvfs sv;
	char pg[PG], seen[256];
	int status = 0, done, i, w, bits = 0;
	long end, t0;

	self->pin_phys = fiemap_phys(self->f.fd, PINPG * PG);
	self->pin_pfn = pagemap_pfn(self->f.p + PINPG * PG);
	ASSERT_LE(0, self->pin_phys) TH_LOG("FIEMAP of the pinned page");
	ASSERT_LT(0, self->pin_pfn) TH_LOG("pagemap of the pinned page");
	TH_LOG("pinned page: file offset %lu, device offset %#llx, pfn %#llx",
	       PINPG * PG, self->pin_phys, self->pin_pfn);

	self->child = start_pin_op(self->f.fd, op == OP_TRUNCATE, self->pfd);
	ASSERT_LE(0, self->child);
	w = task_sleeps_in(self->child, dax_pin_waits, PIN_WAIT_MS, seen, sizeof(seen));
	TH_LOG("%s while the page is pinned: %s", what, seen);
	ASSERT_EQ(1, w) TH_LOG("%s is not asleep in a pin wait (%s)", what,
			       w < 0 ? "it finished" : "timed out");

	/* racing writers fill the filesystem */
	end = now_ms() + FILL_MS;
	for (i = 0; i < WRITERS; i++) {
		self->writer[i] = fork_child();
		ASSERT_LE(0, self->writer[i]);
		if (self->writer[i] == 0) {
			close(self->pfd[0]);
			close(self->pfd[1]);
			_exit(writer(self->sub, i, self->pin_phys, self->pin_pfn, end));
		}
	}
	for (i = 0; i < WRITERS; i++) {
		done = wait_child_ms(self->writer[i], FILL_MS + 10000, &status);
		ASSERT_EQ(1, done) TH_LOG("writer %d did not finish", i);
		self->writer[i] = 0;
		ASSERT_TRUE(WIFEXITED(status));
		bits |= WEXITSTATUS(status);
	}
	EXPECT_EQ(0, bits & W_PHYS) TH_LOG("a new file was given the pinned block");
	EXPECT_EQ(0, bits & W_PFN) TH_LOG("a new file mapped the pinned pfn");
	EXPECT_EQ(0, bits & W_DATA) TH_LOG("a new file read back wrong data");
	EXPECT_EQ(0, bits & (W_ERR | W_NONE)) TH_LOG("writer errors: %#x", bits);
	ASSERT_EQ(0, statvfs(self->sub, &sv));
	TH_LOG("free after filling: %llu MiB of %llu MiB",
	       (unsigned long long)sv.f_bavail * sv.f_frsize / MiB,
	       (unsigned long long)sv.f_blocks * sv.f_frsize / MiB);
	/* nearly full: less than a quarter free */
	EXPECT_GT(sv.f_blocks / 4, sv.f_bavail);

	w = task_sleeps_in(self->child, dax_pin_waits, PIN_WAIT_MS, seen, sizeof(seen));
	TH_LOG("%s after the writers: %s", what, seen);
	ASSERT_EQ(1, w) TH_LOG("%s is no longer asleep in a pin wait (%s)", what,
			       w < 0 ? "it finished while the page was pinned" : "timed out");

	/* the pin still has A's data; then the truncate / punch completes */
	t0 = now_ms();
	ASSERT_EQ(PG, read(self->pfd[0], pg, PG));
	EXPECT_EQ(0, memcmp(pg + 100, MARKER, sizeof(MARKER)));
	EXPECT_EQ(-1, pattern_check(pg, 100, 1, PINPG * PG));
	expect_pin_op_done(_metadata, &self->child, &self->f, op == OP_TRUNCATE, DONE_MS,
			   "after the pipe was drained", t0);
}

TEST_F(reuse, truncate_no_reuse_while_pinned)
{
	run(_metadata, self, OP_TRUNCATE);
}

TEST_F(reuse, punch_no_reuse_while_pinned)
{
	run(_metadata, self, OP_PUNCH);
}

TEST_HARNESS_MAIN
