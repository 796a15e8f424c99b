// SPDX-License-Identifier: GPL-2.0
/*
 * dax_umount_held: a DAX file whose page user space still holds (vmsplice()d
 * into a pipe; the file itself unmapped and closed) is kept open by the
 * kernel until the page is idle (fs/dax.c, dax_file_release()).  What a user
 * sees of it:
 *
 *  - umount_busy: umount fails with EBUSY, at once, and the filesystem stays
 *    mounted and intact; once the pipe is drained the first umount succeeds,
 *    and xfs_repair -n / e2fsck -fn find nothing.
 *  - lazy_umount: umount -l succeeds; mounting the device again meanwhile
 *    gives the same filesystem, with the file and its data; after the pipe
 *    is drained it unmounts cleanly, fsck clean.
 *  - remount_ro: with an unlinked file held, remount read-only fails with
 *    EBUSY (its blocks are still to be freed); once the pipe is drained the
 *    first remount read-only succeeds, and the blocks are free.
 *  - dax_flag_toggle (mounted -o dax=inode): FS_XFLAG_DAX cleared on a file
 *    whose page is held (the inode is to be evicted at its last close, to
 *    take the new mode): the close returns at once, never in state D; the
 *    file goes non-DAX once the page is released, with its data.
 *
 * Every umount and mount runs in a child under a watchdog; the filesystem is
 * mounted again -o dax=always before the test ends, whatever happened.
 *
 * NEW SEMANTICS (group "refcount"): stock 6.12 unmounts at once while the
 * pipe holds the page (and warns at eviction); the series before the fix
 * waited for the page in eviction, unkillably (dax_flag_toggle's close hung).
 * Variants: xfs, ext4.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(32 * PG)
#define PINOFF	(3 * PG)
#define SEED	0xdeb05

FIXTURE(uh) {
	char dir[PATH_MAX], dev[PATH_MAX], fstype[32], path[PATH_MAX];
	int pfd[2];
	pid_t child;
};

FIXTURE_VARIANT(uh) {
	struct dax_mode m;
};

DAX_ADD_VARIANT(uh, xfs, DAX_FS_XFS, false, true);
DAX_ADD_VARIANT(uh, ext4, DAX_FS_EXT4, false, true);

/*
 * Run mount(2)/umount2(2) in a child, bounded by ms: its errno (0 on
 * success), or -1 if it did not finish (it is killed; the state is logged).
 */
static int bounded_mount(const char *dev, const char *dir, const char *type,
			 unsigned long flags, const char *opts, int umount_flags, int ms)
{
	pid_t pid = fork_child();

	if (pid == 0) {
		int ret = dev ? mount(dev, dir, type, flags, opts) : umount2(dir, umount_flags);

		_exit(ret ? errno : 0);
	}
	return child_status_ms(pid, ms);
}

static int do_umount(FIXTURE_DATA(uh) *self, int flags)
{
	return bounded_mount(NULL, self->dir, NULL, 0, NULL, flags, 20000);
}

static int do_mount(FIXTURE_DATA(uh) *self, unsigned long flags, const char *opts)
{
	return bounded_mount(self->dev, self->dir, self->fstype, flags, opts, 0, 20000);
}

/* fsck of the (unmounted) device: 0 clean */
static int fsck_clean(FIXTURE_DATA(uh) *self)
{
	return fs_check(self->fstype, self->dev, 0);
}

/*
 * Make self->path (named, FSIZE, pattern), map it, vmsplice the page at
 * PINOFF into the pipe, munmap, optionally unlink, close.  In the caller.
 */
static int pin_and_close(FIXTURE_DATA(uh) *self, const struct dax_mode *m, bool do_unlink)
{
	struct iovec iov;
	char *p;
	int fd;

	fd = open(self->path, O_RDWR);
	if (fd < 0)
		return -1;
	p = dax_map(m, fd, 0, FSIZE);
	if (p == MAP_FAILED)
		return -1;
	touch_range(p, FSIZE, false);
	iov.iov_base = p + PINOFF;
	iov.iov_len = PG;
	if (vmsplice(self->pfd[1], &iov, 1, 0) != PG)
		return -1;
	munmap(p, FSIZE);
	if (do_unlink && unlink(self->path))
		return -1;
	return close(fd);
}

FIXTURE_SETUP(uh)
{
	const char *dir = dax_dir(variant->m.fs);
	int fd;

	self->pfd[0] = self->pfd[1] = -1;
	self->child = 0;
	self->dir[0] = self->path[0] = 0;
	RIG_REQUIRE(dir, return, "no %s DAX mount", dax_fs_name(variant->m.fs));
	ASSERT_NE(NULL, realpath(dir, self->dir));
	ASSERT_EQ(0, mount_of(self->dir, self->dev, sizeof(self->dev), self->fstype,
			      sizeof(self->fstype))) TH_LOG("%s is not a mount point", self->dir);
	fd = dax_create_path(self->dir, FSIZE, DAX_FILL, SEED, self->path, sizeof(self->path));
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, pipe(self->pfd));
}

FIXTURE_TEARDOWN(uh)
{
	drain_pipe(self->pfd[0]);
	pipe_close(self->pfd);
	if (self->child > 0)
		kill_child_ms(self->child, 10000, NULL);
	if (!self->dir[0])
		return;
	/* back to the rig's mount: dax=always, read-write */
	if (!mount_of(self->dir, NULL, 0, NULL, 0)) {
		struct statvfs st;

		if (!statvfs(self->dir, &st) && (st.f_flag & ST_RDONLY))
			do_mount(self, MS_REMOUNT, "");
	}
	if (mount_of(self->dir, NULL, 0, NULL, 0) && do_mount(self, 0, "dax=always"))
		TH_LOG("could not mount %s again", self->dir);
	if (self->path[0])
		unlink(self->path);
}

/* the file has its data (pattern) */
static bool file_intact(const char *path)
{
	static char buf[FSIZE];
	int fd = open(path, O_RDONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = pread(fd, buf, FSIZE, 0) == FSIZE && pattern_check(buf, FSIZE, SEED, 0) == -1;
	close(fd);
	return ok;
}

/*
 * Let the held page go; then the umount succeeds, the filesystem is clean,
 * mounts again and has the file's data.
 */
static void release_and_remount(struct __test_metadata *_metadata, FIXTURE_DATA(uh) *self)
{
	drain_pipe(self->pfd[0]);
	ASSERT_EQ(0, do_umount(self, 0)) TH_LOG("umount after the page was released");
	EXPECT_EQ(0, fsck_clean(self));
	ASSERT_EQ(0, do_mount(self, 0, "dax=always"));
	EXPECT_TRUE(file_intact(self->path));
}

TEST_F_TIMEOUT(uh, umount_busy, 120)
{
	char buf[PG];

	ASSERT_EQ(0, pin_and_close(self, &variant->m, false));
	/* the held file keeps the mount busy, and umount says so at once */
	EXPECT_EQ(EBUSY, do_umount(self, 0)) TH_LOG("umount while the page is held");
	ASSERT_EQ(0, mount_of(self->dir, NULL, 0, NULL, 0)) TH_LOG("not mounted any more");
	EXPECT_TRUE(file_intact(self->path));
	ASSERT_EQ(PG, read(self->pfd[0], buf, PG));
	EXPECT_EQ(-1, pattern_check(buf, PG, SEED, PINOFF));
	/* the page is idle now: the first umount succeeds */
	release_and_remount(_metadata, self);
}

TEST_F_TIMEOUT(uh, lazy_umount, 120)
{
	ASSERT_EQ(0, pin_and_close(self, &variant->m, false));
	ASSERT_EQ(0, do_umount(self, MNT_DETACH));
	/* the filesystem lives on: mounting the device finds it */
	ASSERT_EQ(0, do_mount(self, 0, "dax=always")) TH_LOG("mount while a lazy unmount is pending");
	EXPECT_TRUE(file_intact(self->path));
	/* both mounts are gone after the umount: the filesystem is shut down, clean */
	release_and_remount(_metadata, self);
}

TEST_F_TIMEOUT(uh, remount_ro, 120)
{
	unsigned long long before, after;

	before = fs_free_bytes(self->dir);
	ASSERT_NE(0, before);
	ASSERT_EQ(0, pin_and_close(self, &variant->m, true));
	self->path[0] = 0;
	/* the unlinked inode still has blocks to free: not read-only yet */
	EXPECT_EQ(EBUSY, do_mount(self, MS_REMOUNT | MS_RDONLY, "")) TH_LOG("remount ro while held");
	drain_pipe(self->pfd[0]);
	ASSERT_EQ(0, do_mount(self, MS_REMOUNT | MS_RDONLY, "")) TH_LOG("remount ro after release");
	ASSERT_EQ(0, do_mount(self, MS_REMOUNT, ""));
	/* the unlinked file's blocks are free (xfs frees them in the background) */
	after = fs_free_wait(self->dir, before + FSIZE, 10000);
	EXPECT_LE(before + FSIZE, after) TH_LOG("%llu bytes free, %llu before the file was unlinked",
						after, before);
}

TEST_F_TIMEOUT(uh, dax_flag_toggle, 150)
{
	char sub[PATH_MAX + 8], seen[16];
	struct fsxattr fa;
	int fd, status, c;

	unlink(self->path);
	self->path[0] = 0;
	ASSERT_EQ(0, do_umount(self, 0));
	ASSERT_EQ(0, do_mount(self, 0, "dax=inode"));
	/* a directory with FS_XFLAG_DAX: files made in it are DAX */
	snprintf(sub, sizeof(sub), "%s/daxdir", self->dir);
	ASSERT_EQ(0, mkdir(sub, 0755));
	fd = open(sub, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, FS_IOC_FSGETXATTR, &fa));
	fa.fsx_xflags |= FS_XFLAG_DAX;
	ASSERT_EQ(0, ioctl(fd, FS_IOC_FSSETXATTR, &fa));
	close(fd);
	fd = dax_create_path(sub, FSIZE, DAX_FILL, SEED, self->path, sizeof(self->path));
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, fd_is_dax(fd));
	close(fd);

	/* in a child: pin, clear FS_XFLAG_DAX, close; 'c' once closed */
	{
		int sfd[2];

		ASSERT_EQ(0, pipe(sfd));
		self->child = fork_child();
		ASSERT_LE(0, self->child);
		if (self->child == 0) {
			struct iovec iov;
			char *p;

			close(sfd[0]);
			fd = open(self->path, O_RDWR);
			p = fd < 0 ? MAP_FAILED : dax_map(&variant->m, fd, 0, FSIZE);
			if (p == MAP_FAILED)
				_exit(1);
			touch_range(p, FSIZE, false);
			iov.iov_base = p + PINOFF;
			iov.iov_len = PG;
			if (vmsplice(self->pfd[1], &iov, 1, 0) != PG)
				_exit(2);
			munmap(p, FSIZE);
			if (ioctl(fd, FS_IOC_FSGETXATTR, &fa))
				_exit(3);
			fa.fsx_xflags &= ~FS_XFLAG_DAX;
			if (ioctl(fd, FS_IOC_FSSETXATTR, &fa))
				_exit(4);
			close(fd);
			if (write(sfd[1], "c", 1) != 1)
				_exit(5);
			pause();
			_exit(0);
		}
		close(sfd[1]);
		/* the close must return; a task stuck in eviction sits in D */
		c = 0;
		for (int i = 0; i < 200 && c != 'c'; i++) {
			struct timeval tv = { 0, 50000 };
			fd_set rfds;

			FD_ZERO(&rfds);
			FD_SET(sfd[0], &rfds);
			if (select(sfd[0] + 1, &rfds, NULL, NULL, &tv) > 0 && read(sfd[0], seen, 1) == 1)
				c = seen[0];
		}
		close(sfd[0]);
	}
	EXPECT_EQ('c', c) TH_LOG("close after clearing FS_XFLAG_DAX with a page held did not return");
	if (c != 'c') {
		drain_pipe(self->pfd[0]);	/* lets a waiting eviction finish */
		wait_child_ms(self->child, 20000, NULL);
	}
	ASSERT_EQ(1, kill_child_ms(self->child, 5000, &status)) TH_LOG("SIGKILL did not end the task");
	self->child = 0;
	/* the page goes: the inode is evicted and comes back without DAX */
	drain_pipe(self->pfd[0]);
	{
		long end = now_ms() + 10000;
		int dax;

		do {
			fd = open(self->path, O_RDONLY);
			ASSERT_LE(0, fd);
			dax = fd_is_dax(fd);
			close(fd);
		} while (dax == 1 && now_ms() < end && !usleep(100000));
		EXPECT_EQ(0, dax) TH_LOG("the file is still DAX after its page was released");
	}
	EXPECT_TRUE(file_intact(self->path));
	unlink(self->path);
	self->path[0] = 0;
	rmdir(sub);
	ASSERT_EQ(0, do_umount(self, 0));
	EXPECT_EQ(0, fsck_clean(self));
	ASSERT_EQ(0, do_mount(self, 0, "dax=always"));
}

TEST_HARNESS_MAIN
