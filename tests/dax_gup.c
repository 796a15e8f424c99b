// SPDX-License-Identifier: GPL-2.0
/*
 * dax_gup: kernel users of get_user_pages()/pin_user_pages() on DAX-mapped
 * user buffers.
 * - O_DIRECT read from the pmem block device into a DAX-mapped buffer
 *   (FOLL_PIN|FOLL_WRITE of DAX pages as the I/O target): the buffer gets
 *   the device's bytes (the filesystem's superblock magic), a shared
 *   mapping's file sees them, a private one's does not;
 * - O_DIRECT write from and read into a DAX-mapped buffer on a loop device
 *   backed by a tmpfs file (bio pages pinned from the DAX mapping);
 * - O_DIRECT read of a file on the other DAX filesystem into the buffer;
 * - vmsplice of DAX pages into a pipe: the pipe holds references to the
 *   pages (a later store through a shared mapping is what the reader sees);
 * - process_vm_readv/process_vm_writev on another process's DAX mapping.
 * Buffers straddle the 2 MiB boundary so PMD-mapped pages are involved.
 * Regression floor: passes on stock 6.12.
 *
 * Variants: {xfs, ext4} x {4k, 2m} x {MAP_SHARED, MAP_PRIVATE}; 4 MiB file
 * written with pattern 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/loop.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define IOLEN	(256 * KiB)
#define IOOFF	(PMDSZ - IOLEN / 2)	/* straddles the PMD boundary */

DAX_FILE_FIXTURE(gup);
DAX_ADD_ALL_VARIANTS(gup);

FIXTURE_SETUP(gup)
{
	if (!dax_file_setup(_metadata, &self->f, &variant->m, FSIZE,
			    DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_BUF, 1))
		return;
	/* fault the mapping in first, so GUP(-fast) finds PTEs/PMDs */
	touch_range(self->f.p, FSIZE, false);
}

TEST_F(gup, odirect_read_pmem_into_dax_buffer)
{
	char dev[PATH_MAX], dir[PATH_MAX], *anon = self->f.buf;
	char *dst = self->f.p + IOOFF;
	int bfd;

	/* the block device mounted there */
	ASSERT_NE(NULL, realpath(dax_dir(variant->m.fs), dir));
	ASSERT_EQ(0, mount_of(dir, dev, sizeof(dev), NULL, 0));
	bfd = open(dev, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, bfd) TH_LOG("open %s: %s", dev, strerror(errno));
	/* reference copy into anonymous memory */
	ASSERT_EQ(IOLEN, pread(bfd, anon, IOLEN, 0));
	/* the same through the DAX-mapped buffer */
	ASSERT_EQ(IOLEN, pread(bfd, dst, IOLEN, 0)) TH_LOG("pread: %s", strerror(errno));
	close(bfd);
	EXPECT_EQ(0, memcmp(anon, dst, IOLEN));
	if (variant->m.fs == DAX_FS_XFS) {
		EXPECT_EQ(0, memcmp(dst, "XFSB", 4));
	} else {
		EXPECT_EQ(0xef53, *(uint16_t *)(dst + 1024 + 0x38));
	}

	/* shared: the DMA went into the file's pages */
	ASSERT_EQ(IOLEN, pread(self->f.fd, self->f.buf + IOLEN, IOLEN, IOOFF));
	if (variant->m.shared) {
		EXPECT_EQ(0, memcmp(self->f.buf + IOLEN, anon, IOLEN));
	} else {
		EXPECT_EQ(-1, pattern_check(self->f.buf + IOLEN, IOLEN, 1, IOOFF));
	}
}

static int loop_attach(int backing, char *dev, size_t len, int *nr)
{
	int ctl = open("/dev/loop-control", O_RDWR), lfd;

	if (ctl < 0)
		return -1;
	*nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (*nr < 0)
		return -1;
	snprintf(dev, len, "/dev/loop%d", *nr);
	lfd = open(dev, O_RDWR);
	if (lfd < 0) {
		/* no udev: make the node ourselves (block major 7) */
		mknod(dev, S_IFBLK | 0600, makedev(7, *nr));
		lfd = open(dev, O_RDWR);
		if (lfd < 0)
			return -1;
	}
	if (ioctl(lfd, LOOP_SET_FD, backing)) {
		close(lfd);
		return -1;
	}
	return lfd;
}

static void loop_detach(int lfd, int nr)
{
	int ctl;

	ioctl(lfd, LOOP_CLR_FD, 0);
	close(lfd);
	ctl = open("/dev/loop-control", O_RDWR);
	if (ctl >= 0) {
		ioctl(ctl, LOOP_CTL_REMOVE, nr);
		close(ctl);
	}
}

TEST_F(gup, odirect_loop_write_and_read)
{
	char dev[64], path[] = "/dev/shm/daxtest-loop-XXXXXX";
	int backing, lfd, dfd, nr = -1;
	char *src = self->f.p + IOOFF;

	if (access("/dev/loop-control", F_OK))
		SKIP(return, "no /dev/loop-control (CONFIG_BLK_DEV_LOOP)");
	backing = mkstemp(path);
	if (backing < 0) {
		strcpy(path, "/tmp/daxtest-loop-XXXXXX");
		backing = mkstemp(path);
	}
	ASSERT_LE(0, backing);
	unlink(path);
	ASSERT_EQ(0, ftruncate(backing, 4 * MiB));
	lfd = loop_attach(backing, dev, sizeof(dev), &nr);
	ASSERT_LE(0, lfd) TH_LOG("loop setup: %s", strerror(errno));
	dfd = open(dev, O_RDWR | O_DIRECT);
	ASSERT_LE(0, dfd);

	/* write: DAX pages are the source of the bio */
	if (variant->m.shared)
		pattern_fill(src, IOLEN, 2, IOOFF);
	EXPECT_EQ(IOLEN, pwrite(dfd, src, IOLEN, MiB)) TH_LOG("pwrite: %s", strerror(errno));
	EXPECT_EQ(0, fsync(dfd));
	ASSERT_EQ(IOLEN, pread(backing, self->f.buf, IOLEN, MiB));
	EXPECT_EQ(-1, pattern_check(self->f.buf, IOLEN, variant->m.shared ? 2 : 1, IOOFF));

	/* read: DAX pages are the target */
	pattern_fill(self->f.buf, IOLEN, 3, 0);
	ASSERT_EQ(IOLEN, pwrite(backing, self->f.buf, IOLEN, 2 * MiB));
	ASSERT_EQ(IOLEN, pread(dfd, src, IOLEN, 2 * MiB)) TH_LOG("pread: %s", strerror(errno));
	EXPECT_EQ(-1, pattern_check(src, IOLEN, 3, 0));
	if (variant->m.shared) {
		ASSERT_EQ(IOLEN, pread(self->f.fd, self->f.buf, IOLEN, IOOFF));
		EXPECT_EQ(-1, pattern_check(self->f.buf, IOLEN, 3, 0));
	} else {
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, IOOFF, IOLEN, 1);
	}
	close(dfd);
	loop_detach(lfd, nr);
	close(backing);
}

/* O_DIRECT on a file of the other DAX filesystem (a DAX copy, no GUP) */
TEST_F(gup, odirect_other_dax_file)
{
	enum dax_fs other = variant->m.fs == DAX_FS_XFS ? DAX_FS_EXT4 : DAX_FS_XFS;
	const char *dir = dax_dir(other);
	int ofd, dfd;

	if (!dir)
		SKIP(return, "no %s DAX mount", dax_fs_name(other));
	ofd = dax_create(dir, IOLEN, DAX_ALLOC | DAX_FILL, 4);
	ASSERT_LE(0, ofd);
	dfd = reopen_fd(ofd, O_RDWR | O_DIRECT);
	ASSERT_LE(0, dfd);
	ASSERT_EQ(IOLEN, pread(dfd, self->f.p + IOOFF, IOLEN, 0));
	EXPECT_EQ(-1, pattern_check(self->f.p + IOOFF, IOLEN, 4, 0));
	pattern_fill(self->f.p + IOOFF, IOLEN, 5, 0);
	ASSERT_EQ(IOLEN, pwrite(dfd, self->f.p + IOOFF, IOLEN, 0));
	ASSERT_EQ(IOLEN, pread(ofd, self->f.buf, IOLEN, 0));
	EXPECT_EQ(-1, pattern_check(self->f.buf, IOLEN, 5, 0));
	close(dfd);
	close(ofd);
}

#define VSLEN	(64 * KiB)

TEST_F(gup, vmsplice_into_pipe)
{
	char *src = self->f.p + PMDSZ - VSLEN / 2;
	size_t off = PMDSZ - VSLEN / 2, got = 0;
	struct iovec iov = { .iov_base = src, .iov_len = VSLEN };
	int pfd[2];
	ssize_t n;

	ASSERT_EQ(0, pipe(pfd));
	ASSERT_LE(VSLEN, fcntl(pfd[1], F_SETPIPE_SZ, VSLEN));
	if (variant->m.shared)
		pattern_fill(src, VSLEN, 2, off);
	n = vmsplice(pfd[1], &iov, 1, 0);
	ASSERT_EQ(VSLEN, n) TH_LOG("vmsplice: %s", strerror(errno));
	if (variant->m.shared) {
		/* the pipe holds the DAX pages themselves, not copies */
		pattern_fill(src, VSLEN, 3, off);
	}
	while (got < VSLEN) {
		n = read(pfd[0], self->f.buf + got, VSLEN - got);
		ASSERT_LT(0, n);
		got += n;
	}
	EXPECT_EQ(-1, pattern_check(self->f.buf, VSLEN, variant->m.shared ? 3 : 1, off));
	close(pfd[0]);
	close(pfd[1]);
}

TEST_F(gup, process_vm_readv_writev)
{
	int to_child[2], to_parent[2], status;
	char *r = self->f.p + PMDSZ - VSLEN / 2, *u = self->f.p + 3 * MiB, c;
	size_t roff = PMDSZ - VSLEN / 2;
	struct iovec local, remote;
	ssize_t n;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ret = 0;

		close(to_child[1]);
		close(to_parent[0]);

		/* child: writes seed 6 at r, leaves u untouched */
		pattern_fill(r, VSLEN, 6, roff);
		if (write(to_parent[1], "x", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(100);
		/* the parent wrote seed 7 into our mapping at r */
		if (pattern_check(r, VSLEN, 7, roff) != -1)
			ret |= 1;
		_exit(ret);
	}
	close(to_child[0]);
	close(to_parent[1]);
	ASSERT_EQ(1, read(to_parent[0], &c, 1));

	local.iov_base = self->f.buf;
	local.iov_len = VSLEN;
	remote.iov_base = r;
	remote.iov_len = VSLEN;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0 && errno == ENOSYS) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		SKIP(return, "process_vm_readv: ENOSYS (CONFIG_CROSS_MEMORY_ATTACH off)");
	}
	ASSERT_EQ(VSLEN, n) TH_LOG("process_vm_readv: %s", strerror(errno));
	EXPECT_EQ(-1, pattern_check(self->f.buf, VSLEN, 6, roff));

	/* a range the child never touched: the file's data */
	remote.iov_base = u;
	ASSERT_EQ(VSLEN, process_vm_readv(pid, &local, 1, &remote, 1, 0));
	EXPECT_EQ(-1, pattern_check(self->f.buf, VSLEN, 1, 3 * MiB));

	pattern_fill(self->f.buf, VSLEN, 7, roff);
	remote.iov_base = r;
	ASSERT_EQ(VSLEN, process_vm_writev(pid, &local, 1, &remote, 1, 0))
		TH_LOG("process_vm_writev: %s", strerror(errno));
	ASSERT_EQ(1, write(to_child[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	if (variant->m.shared) {
		EXPECT_EQ(-1, pattern_check(r, VSLEN, 7, roff));
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, roff, VSLEN, 7);
	} else {
		EXPECT_EQ(-1, pattern_check(r, VSLEN, 1, roff));
		expect_file_pattern(_metadata, self->f.fd, self->f.buf, 0, FSIZE, 1);
	}
}

TEST_HARNESS_MAIN
