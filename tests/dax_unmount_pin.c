// SPDX-License-Identifier: GPL-2.0
/*
 * dax_unmount_pin: unmounting a DAX filesystem while one of its pages is
 * still referenced by GUP (vmsplice into a pipe nobody reads; the file itself
 * is closed and unmapped) waits until the reference goes: inode eviction
 * waits for the inode's DAX pages to be idle (DESIGN end state 4), so no page
 * is still in use after its filesystem is gone.  While it waits the pinned
 * page still holds the file's data; after the pipe is drained the unmount
 * completes.  The file keeps its name until the end, so that its inode is
 * evicted by the unmount (not at the last close).  The test mounts the filesystem again (same device, -o
 * dax=always) before it ends, whatever happened.
 *
 * NEW SEMANTICS (group "refcount"): fails on stock 6.12, which does not wait
 * at eviction: the unmount completes at once while the pipe still references
 * the page.
 * Variants: xfs, ext4.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define PINOFF	(PMDSZ + 5 * PG)

FIXTURE(um) {
	char dir[PATH_MAX], dev[PATH_MAX], fstype[32], path[PATH_MAX];
	int pfd[2];
	pid_t child;
};

FIXTURE_VARIANT(um) {
	struct dax_mode m;
};

DAX_ADD_VARIANT(um, xfs, DAX_FS_XFS, true, true);
DAX_ADD_VARIANT(um, ext4, DAX_FS_EXT4, true, true);

/* source and type of the filesystem mounted at dir; -1 if dir is no mount point */
static int mount_info(const char *dir, char *dev, size_t devlen, char *type, size_t typelen)
{
	char line[2048], mnt[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		char t[32], src[PATH_MAX];

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || strcmp(mnt, dir))
			continue;
		if (sscanf(sep + 3, "%31s %4095s", t, src) != 2)
			continue;
		snprintf(dev, devlen, "%s", src);
		snprintf(type, typelen, "%s", t);
		ret = 0;
	}
	fclose(f);
	return ret;
}

static int ensure_mounted(FIXTURE_DATA(um) *self)
{
	char dev[PATH_MAX], type[32];

	if (mount_info(self->dir, dev, sizeof(dev), type, sizeof(type)) == 0)
		return 0;
	return mount(self->dev, self->dir, self->fstype, 0, "dax=always");
}

FIXTURE_SETUP(um)
{
	const char *dir = dax_dir(variant->m.fs);
	struct iovec iov;
	char *p;
	int fd;

	self->pfd[0] = self->pfd[1] = -1;
	self->child = 0;
	self->dir[0] = 0;
	self->path[0] = 0;
	if (!dir)
		SKIP(return, "no %s DAX mount ($DAX_XFS/$DAX_EXT4)", dax_fs_name(variant->m.fs));
	ASSERT_NE(NULL, realpath(dir, self->dir));
	ASSERT_EQ(0, mount_info(self->dir, self->dev, sizeof(self->dev), self->fstype,
				sizeof(self->fstype))) TH_LOG("%s is not a mount point", self->dir);
	/* a named file: an unlinked one would be evicted (and waited for) at close */
	fd = dax_create_path(self->dir, FSIZE, DAX_ALLOC | DAX_FILL, 1, self->path,
			     sizeof(self->path));
	ASSERT_LE(0, fd) TH_LOG("create: %s", strerror(errno));
	p = dax_map(&variant->m, fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, p);
	touch_range(p, FSIZE, false);
	ASSERT_EQ(0, pipe(self->pfd));
	iov.iov_base = p + PINOFF;
	iov.iov_len = PG;
	ASSERT_EQ(PG, vmsplice(self->pfd[1], &iov, 1, 0)) TH_LOG("vmsplice: %s", strerror(errno));
	/* nothing but the pipe refers to the file's pages now */
	ASSERT_EQ(0, munmap(p, FSIZE));
	ASSERT_EQ(0, close(fd));
}

FIXTURE_TEARDOWN(um)
{
	if (self->pfd[0] >= 0)
		close(self->pfd[0]);
	if (self->pfd[1] >= 0)
		close(self->pfd[1]);
	if (self->child > 0)
		waitpid(self->child, NULL, 0);	/* the pin is gone: it finishes */
	if (self->dir[0] && ensure_mounted(self))
		TH_LOG("could not mount %s again: %s", self->dir, strerror(errno));
	if (self->path[0])
		unlink(self->path);
}

TEST_F_TIMEOUT(um, unmount_waits_for_pin, 60)
{
	char buf[PG];
	int status = 0, done;

	self->child = fork_child();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		close(self->pfd[0]);
		close(self->pfd[1]);
		_exit(umount(self->dir) ? errno : 0);
	}
	done = wait_child_ms(self->child, 300, &status);
	EXPECT_EQ(0, done) TH_LOG("unmount finished (status %#x) while a page was pinned", status);

	/* the pinned page still has the file's data */
	ASSERT_EQ(PG, read(self->pfd[0], buf, PG));
	EXPECT_EQ(-1, pattern_check(buf, PG, 1, PINOFF));

	if (!done) {
		done = wait_child_ms(self->child, 10000, &status);
		ASSERT_EQ(1, done) TH_LOG("unmount still blocked 10 s after the pin went");
	}
	self->child = 0;
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("umount: %s", strerror(WEXITSTATUS(status)));
	ASSERT_EQ(0, ensure_mounted(self)) TH_LOG("mount again: %s", strerror(errno));
}

TEST_HARNESS_MAIN
