// SPDX-License-Identifier: GPL-2.0
/*
 * dax_unbind: the driver of a pmem namespace is unbound (what ndctl
 * disable-namespace --force does: the nd_pmem unbind file) under a mounted
 * DAX filesystem whose file is mapped, or whose page sits in a pipe.
 *
 * The device's struct pages go with the driver (memunmap_pages()).  With
 * DAX pages refcounted, page tables and DAX entries point at those struct
 * pages, so the filesystem's mappings must be taken back before they go
 * (fs_bdev_mark_dead() -> dax_revoke_sb()), and pages still in use
 * otherwise must keep the memmap alive until they are released:
 *
 *  - mapped: a child maps a file with PMDs, with PTEs and MAP_PRIVATE
 *    (read) and touches it, then the namespace is unbound: the unbind
 *    finishes, every access to the mappings gets SIGBUS, munmap() and
 *    exit work (no use-after-free of the memmap: the rig fails the run on
 *    any splat).  On xfs (rmapbt) the pre-remove notification kills the
 *    child with SIGBUS first, as on 6.12; its exit unmaps everything.
 *  - pipe_held: one page of a PTE and one of a PMD mapping vmsplice()d into
 *    a pipe, the file unmapped and closed: the unbind waits (it must not
 *    free pages the pipe still reads) and ends once the pipe is read; the
 *    pipe gives the file's data.  The wait is uninterruptible today: the
 *    task's state is logged, not asserted (the killable wait belongs to the
 *    modular/teardown work).
 *
 * Afterwards, each time: the driver is bound again, the filesystem mounts
 * (replaying its log), unmounts, and xfs_repair -n / e2fsck -fn find
 * nothing; a file written and synced before the unbind has its data.  The
 * teardown puts the device and the mount back whatever failed.
 *
 * Every unbind, bind and umount runs in a child under a watchdog.
 *
 * NEW SEMANTICS (group "safety"): the series before patch 57 let the unbind
 * finish at once, leaving page tables and a pipe pointing into a freed
 * memmap (an oops at munmap or when the pipe is read).  Stock 6.12 maps the
 * raw pfns without struct page references: its unbind does not wait for the
 * pipe either (it fails pipe_held), and the mappings keep working on the
 * unbound device (mapped fails at the SIGBUS check).
 * Variants: xfs, ext4.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define SEED	0x0b1d
#define KEEP	"dax_unbind.keep"
#define NDDRV	"/sys/bus/nd/drivers/nd_pmem"
#define UNBIND_MS	60000	/* an unbind with nothing held (TCG is slow) */

FIXTURE(ub) {
	char dir[PATH_MAX], dev[64], fstype[16], nddev[64];
	int pfd[2];
	pid_t child;
	bool touched;
};

FIXTURE_VARIANT(ub) {
	enum dax_fs fs;
	const char *env;	/* the device, from guest/setup-pmem.sh */
};

FIXTURE_VARIANT_ADD(ub, xfs) { .fs = DAX_FS_XFS, .env = "PMEM_XFS_DEV" };
FIXTURE_VARIANT_ADD(ub, ext4) { .fs = DAX_FS_EXT4, .env = "PMEM_EXT4_DEV" };

/* /sys/block/<dev> exists: the driver is bound */
static bool dev_present(FIXTURE_DATA(ub) *self)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "/sys/block/%s", self->dev + strlen("/dev/"));
	return !access(p, F_OK);
}

static bool mounted(FIXTURE_DATA(ub) *self)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof(cmd), "mountpoint -q %s", self->dir);
	return system(cmd) == 0;
}

/* write name into a sysfs file, in a child: its pid (the caller waits) */
static pid_t sysfs_write_child(const char *file, const char *name)
{
	pid_t pid = fork_child();

	if (pid == 0) {
		int fd = open(file, O_WRONLY);

		if (fd < 0)
			_exit(100 + (errno & 0x3f));
		if (write(fd, name, strlen(name)) != (ssize_t)strlen(name))
			_exit(100 + (errno & 0x3f));
		_exit(0);
	}
	return pid;
}

static int do_bind(FIXTURE_DATA(ub) *self)
{
	pid_t pid = sysfs_write_child(NDDRV "/bind", self->nddev);
	int status;

	if (pid < 0 || wait_child_ms(pid, UNBIND_MS, &status) != 1)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) && dev_present(self) ? 0 : -1;
}

static int do_mount(FIXTURE_DATA(ub) *self)
{
	char cmd[2 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), "mount -t %s -o dax=always %s %s", self->fstype,
		 self->dev, self->dir);
	return run_cmd_ms(cmd, 60000);
}

static int do_umount(FIXTURE_DATA(ub) *self)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "umount %s", self->dir);
	return run_cmd_ms(cmd, 60000);
}

static int fsck_clean(FIXTURE_DATA(ub) *self)
{
	return fs_check(self->fstype, self->dev, 120000);
}

/* the named file written before the unbind has its data */
static bool keep_intact(FIXTURE_DATA(ub) *self)
{
	static char buf[4 * PG];
	char path[PATH_MAX + 32];
	int fd;
	bool ok;

	snprintf(path, sizeof(path), "%s/" KEEP, self->dir);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	ok = pread(fd, buf, sizeof(buf), 0) == sizeof(buf) &&
	     pattern_check(buf, sizeof(buf), SEED + 1, 0) == -1;
	close(fd);
	return ok;
}

/* the name of a pfn device with a namespace and no driver: 0, or -1 */
static int unbound_pfn(char *name, size_t len)
{
	char path[PATH_MAX], ns[64] = "";
	glob_t g;
	size_t i;
	int ret = -1;

	if (glob("/sys/bus/nd/devices/pfn*", 0, NULL, &g))
		return -1;
	for (i = 0; i < g.gl_pathc && ret; i++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/driver", g.gl_pathv[i]);
		if (!access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), "%s/namespace", g.gl_pathv[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(ns, sizeof(ns), f) && ns[0] != '\n') {
			snprintf(name, len, "%s", strrchr(g.gl_pathv[i], '/') + 1);
			ret = 0;
		}
		fclose(f);
	}
	globfree(&g);
	return ret;
}

/* back to what the rig had: the driver bound, the fs mounted dax=always */
static void restore(struct __test_metadata *_metadata, FIXTURE_DATA(ub) *self)
{
	if (!dev_present(self)) {
		if (mounted(self))
			do_umount(self);
		if (do_bind(self))
			TH_LOG("could not bind %s again", self->nddev);
	}
	if (!mounted(self) && do_mount(self))
		TH_LOG("could not mount %s again", self->dir);
}

FIXTURE_SETUP(ub)
{
	char link[PATH_MAX], target[PATH_MAX], path[PATH_MAX + 32];
	const char *dir = dax_dir(variant->fs), *dev = getenv(variant->env), *base;
	static char buf[4 * PG];
	ssize_t n;
	int fd;

	self->pfd[0] = self->pfd[1] = -1;
	self->child = 0;
	self->touched = false;
	self->dir[0] = 0;
	RIG_REQUIRE(dir && dev, return, "no %s DAX mount or $%s",
		    dax_fs_name(variant->fs), variant->env);
	ASSERT_NE(NULL, realpath(dir, self->dir));
	snprintf(self->dev, sizeof(self->dev), "%.63s", dev);
	snprintf(self->fstype, sizeof(self->fstype), "%s", dax_fs_name(variant->fs));
	/* /sys/block/pmemN/device is the pfn device nd_pmem is bound to */
	snprintf(link, sizeof(link), "/sys/block/%s/device", dev + strlen("/dev/"));
	n = readlink(link, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = 0;
		base = strrchr(target, '/');
		snprintf(self->nddev, sizeof(self->nddev), "%.63s", base ? base + 1 : target);
	} else {
		/* left unbound by a case that died: the pfn device without a driver */
		ASSERT_EQ(0, unbound_pfn(self->nddev, sizeof(self->nddev)))
			TH_LOG("%s: %s, and no unbound pfn device", link, strerror(errno));
	}
	/* an earlier case that died half-way may have left it unbound */
	restore(_metadata, self);
	snprintf(path, sizeof(path), NDDRV "/%s", self->nddev);
	RIG_REQUIRE(!access(path, F_OK), return, "%s is not bound to nd_pmem", self->nddev);
	ASSERT_TRUE(mounted(self));

	/* data that must survive: written, synced, not touched again */
	snprintf(path, sizeof(path), "%s/" KEEP, self->dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	pattern_fill(buf, sizeof(buf), SEED + 1, 0);
	ASSERT_EQ(sizeof(buf), pwrite(fd, buf, sizeof(buf), 0));
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	sync();
	ASSERT_EQ(0, pipe(self->pfd));
}

FIXTURE_TEARDOWN(ub)
{
	char path[PATH_MAX + 32];

	drain_pipe(self->pfd[0]);
	if (self->pfd[0] >= 0)
		close(self->pfd[0]);
	if (self->pfd[1] >= 0)
		close(self->pfd[1]);
	if (self->child > 0 && !kill_child_ms(self->child, 30000, NULL))
		TH_LOG("the unbind (pid %d) does not end, state %c", self->child,
		       task_state(self->child));
	if (!self->dir[0])
		return;
	restore(_metadata, self);
	snprintf(path, sizeof(path), "%s/" KEEP, self->dir);
	unlink(path);
}

/*
 * After an unbind: unmount the dead filesystem, bind the driver again,
 * mount (log replay), unmount, fsck, mount; the kept file has its data.
 */
static void rebind_and_check(struct __test_metadata *_metadata, FIXTURE_DATA(ub) *self)
{
	EXPECT_EQ(0, do_umount(self)) TH_LOG("umount of the filesystem on the dead device");
	ASSERT_EQ(0, do_bind(self)) TH_LOG("bind %s", self->nddev);
	ASSERT_EQ(0, do_mount(self));
	ASSERT_EQ(0, do_umount(self));
	EXPECT_EQ(0, fsck_clean(self)) TH_LOG("%s not clean after the unbind", self->fstype);
	ASSERT_EQ(0, do_mount(self));
	EXPECT_TRUE(keep_intact(self));
}

/* start the unbind in a child: self->child */
static void start_unbind(struct __test_metadata *_metadata, FIXTURE_DATA(ub) *self)
{
	self->touched = true;
	self->child = sysfs_write_child(NDDRV "/unbind", self->nddev);
	ASSERT_LT(0, self->child);
}

/* wait at most ms for the unbind: 1 done (and it worked), 0 not yet */
static int unbind_done(struct __test_metadata *_metadata, FIXTURE_DATA(ub) *self, int ms)
{
	int status;

	if (wait_child_ms(self->child, ms, &status) != 1)
		return 0;
	self->child = 0;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("unbind failed: status 0x%x", status);
	EXPECT_FALSE(dev_present(self)) TH_LOG("%s still there after the unbind", self->dev);
	return 1;
}

/* what the mapping child of "mapped" found after the unbind: exit code bits */
#define MAPPED_PMD	0x01	/* the PMD mapping still read */
#define MAPPED_PTE	0x02	/* the PTE mapping still read */
#define MAPPED_PRIV	0x04	/* the private mapping still read the device */
#define MAPPED_MUNMAP	0x08	/* a munmap() failed */
#define MAPPED_SETUP	0x40	/* could not map or touch the file */

/*
 * The child of "mapped": map fd three ways, touch every page, say so on
 * ready, wait for go, then probe one page of each mapping and unmap them.
 * xfs's pre-remove notification may kill it with SIGBUS before go.
 */
static int mapped_child(enum dax_fs fs, int fd, int ready, int go)
{
	struct dax_mode big = { .fs = fs, .pmd = true, .shared = true };
	struct dax_mode small = { .fs = fs, .pmd = false, .shared = true };
	struct dax_mode priv = { .fs = fs, .pmd = false, .shared = false };
	char *p, *q, *r, val = 0;
	void *where;
	int ret = 0;

	p = dax_map(&big, fd, 0, FSIZE);
	q = dax_map(&small, fd, 0, FSIZE);
	r = dax_map(&priv, fd, 0, FSIZE);
	if (p == MAP_FAILED || q == MAP_FAILED || r == MAP_FAILED)
		return MAPPED_SETUP;
	touch_range(p, FSIZE, true);
	touch_range(q, FSIZE, false);
	touch_range(r, FSIZE, false);
	if (pattern_check(q, FSIZE, SEED, 0) != -1 || pagemap_pfn(p + PMDSZ) <= 0)
		return MAPPED_SETUP;
	if (write(ready, "r", 1) != 1 || read(go, &val, 1) != 1)
		return MAPPED_SETUP;
	/* the device is gone: so are the mappings of its pages */
	if (probe_read(p + PMDSZ + 3 * PG, &val, &where) != SIGBUS)
		ret |= MAPPED_PMD;
	if (probe_read(q + 5 * PG, &val, &where) != SIGBUS)
		ret |= MAPPED_PTE;
	if (probe_read(r + 7 * PG, &val, &where) != SIGBUS)
		ret |= MAPPED_PRIV;
	if (munmap(p, FSIZE) || munmap(q, FSIZE) || munmap(r, FSIZE))
		ret |= MAPPED_MUNMAP;
	return ret;
}

TEST_F_TIMEOUT(ub, mapped, 300)
{
	int fd, ready[2], go[2], status;
	pid_t pid;
	char c;

	fd = dax_create(self->dir, FSIZE, DAX_ALLOC | DAX_FILL, SEED);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, fd_is_dax(fd));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		_exit(mapped_child(variant->fs, fd, ready[1], go[0]));
	}
	close(ready[1]);
	close(go[0]);
	ASSERT_EQ(1, read(ready[0], &c, 1)) TH_LOG("the mapping child did not get ready");

	start_unbind(_metadata, self);
	ASSERT_EQ(1, unbind_done(_metadata, self, UNBIND_MS))
		TH_LOG("unbind with only mappings did not finish in %d ms (state %c)",
		       UNBIND_MS, task_state(self->child));
	/* an EPIPE if xfs killed the child already: then it is reaped below */
	signal(SIGPIPE, SIG_IGN);
	if (write(go[1], "g", 1) != 1)
		TH_LOG("the mapping child is gone already: %s", strerror(errno));
	ASSERT_EQ(1, wait_child_ms(pid, 60000, &status))
		TH_LOG("the mapping child did not end (state %c)", task_state(pid));
	if (WIFSIGNALED(status)) {
		/* xfs (rmapbt): the pre-remove notification kills the mappers */
		EXPECT_EQ(DAX_FS_XFS, variant->fs)
			TH_LOG("the mapping child was killed by signal %d", WTERMSIG(status));
		EXPECT_EQ(SIGBUS, WTERMSIG(status));
	} else {
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status) & MAPPED_SETUP);
		EXPECT_EQ(0, WEXITSTATUS(status) & MAPPED_PMD)
			TH_LOG("PMD mapping still readable after the unbind");
		EXPECT_EQ(0, WEXITSTATUS(status) & MAPPED_PTE)
			TH_LOG("PTE mapping still readable after the unbind");
		EXPECT_EQ(0, WEXITSTATUS(status) & MAPPED_PRIV)
			TH_LOG("private mapping still reads the device after the unbind");
		EXPECT_EQ(0, WEXITSTATUS(status) & MAPPED_MUNMAP);
	}
	close(ready[0]);
	close(go[1]);
	EXPECT_EQ(0, close(fd));

	rebind_and_check(_metadata, self);
}

TEST_F_TIMEOUT(ub, pipe_held, 300)
{
	struct dax_mode big = { .fs = variant->fs, .pmd = true, .shared = true };
	struct dax_mode small = { .fs = variant->fs, .pmd = false, .shared = true };
	struct iovec iov;
	char *p, *q, buf[PG];
	char st;
	int fd;

	fd = dax_create(self->dir, FSIZE, DAX_ALLOC | DAX_FILL, SEED);
	ASSERT_LE(0, fd);
	p = dax_map(&big, fd, 0, FSIZE);
	q = dax_map(&small, fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_NE(MAP_FAILED, q);
	touch_range(p, FSIZE, false);
	touch_range(q, FSIZE, false);
	iov.iov_base = q + 3 * PG;
	iov.iov_len = PG;
	ASSERT_EQ(PG, vmsplice(self->pfd[1], &iov, 1, 0));
	iov.iov_base = p + PMDSZ + 5 * PG;
	ASSERT_EQ(PG, vmsplice(self->pfd[1], &iov, 1, 0));
	ASSERT_EQ(0, munmap(p, FSIZE));
	ASSERT_EQ(0, munmap(q, FSIZE));
	ASSERT_EQ(0, close(fd));

	start_unbind(_metadata, self);
	/*
	 * Short of the hung-task detector's 20 s (guest/job-check.sh): the
	 * wait is uninterruptible.
	 */
	EXPECT_EQ(0, unbind_done(_metadata, self, 3000))
		TH_LOG("the unbind did not wait for the pages in the pipe");
	st = self->child ? task_state(self->child) : 0;
	if (st)
		TH_LOG("unbind waiting for the pipe, state %c", st);

	/* the pipe still reads the file's pages */
	ASSERT_EQ(PG, read(self->pfd[0], buf, PG));
	EXPECT_EQ(-1, pattern_check(buf, PG, SEED, 3 * PG));
	ASSERT_EQ(PG, read(self->pfd[0], buf, PG));
	EXPECT_EQ(-1, pattern_check(buf, PG, SEED, PMDSZ + 5 * PG));
	close(self->pfd[0]);
	close(self->pfd[1]);
	self->pfd[0] = self->pfd[1] = -1;

	if (self->child)
		ASSERT_EQ(1, unbind_done(_metadata, self, UNBIND_MS))
			TH_LOG("unbind still waiting %d ms after the pipe was emptied (state %c)",
			       UNBIND_MS, task_state(self->child));

	rebind_and_check(_metadata, self);
}

TEST_HARNESS_MAIN
