// SPDX-License-Identifier: GPL-2.0
/*
 * dax_ns_reconfig: an fsdax namespace reconfigured after its filesystem was
 * unmounted while its pages had recently been pinned.
 *
 * On /mnt/ext4 ($PMEM_EXT4_DEV, namespace $PMEM_EXT4_NS of region
 * $PMEM_EXT4_REGION, as guest/setup-pmem.sh names them): a file is mapped
 * (PMD and 4 KiB mappings), one page is vmspliced into a pipe, a hole punch
 * of that range blocks on it, the pipe is drained, the punch completes, the
 * pages are faulted again and everything is unmapped and closed.  Right
 * after, the filesystem is unmounted, the namespace disabled and destroyed
 * (ndctl), recreated as fsdax with 2 MiB alignment (as guest/setup-pmem.sh
 * does), made ext4 again and mounted -o dax=always; a new file there is
 * DAX, PMD- and PTE-mappable and reads/writes correct data.  The rig fails
 * the run on any kernel splat (e.g. pages of the old pgmap still in use).
 *
 * It leaves $PMEM_EXT4_DEV an fsdax namespace with ext4 mounted at /mnt/ext4,
 * also when it fails half-way (teardown restores what is missing), as the
 * runner (guest/job-check.sh) unmounts and remounts both after each program.
 *
 * Group "regress": nothing here depends on the new refcounts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define MNT	"/mnt/ext4"
#define FSIZE	(4 * MiB)
#define MKFS	"mkfs.ext4 -q -F -b 4096 -E stride=512,stripe_width=512 %s >/dev/null"
#define MOUNT	"mount -t ext4 -o dax=always %s " MNT

/* the ext4 fsdax device, its namespace and region (from the environment) */
static const char *DEV, *NS, *REGION;

static bool mounted_dax(void)
{
	return dax_sh("findmnt -n -o SOURCE,FSTYPE,OPTIONS " MNT
		  " | grep -q '^%s *ext4 .*dax=always'", DEV) == 0;
}

FIXTURE(ns) {
	bool touched;	/* the namespace or the mount were changed */
};

FIXTURE_SETUP(ns)
{
	self->touched = false;
	DEV = getenv("PMEM_EXT4_DEV");
	NS = getenv("PMEM_EXT4_NS");
	REGION = getenv("PMEM_EXT4_REGION");
	if (!DEV || !NS || !REGION)
		SKIP(return, "no $PMEM_EXT4_DEV/NS/REGION (guest/setup-pmem.sh sets them)");
	if (!dax_dir(DAX_FS_EXT4) || strcmp(dax_dir(DAX_FS_EXT4), MNT))
		SKIP(return, "$DAX_EXT4 is not " MNT);
	if (dax_sh("command -v ndctl >/dev/null && command -v mkfs.ext4 >/dev/null"))
		SKIP(return, "no ndctl or mkfs.ext4");
	if (!mounted_dax())
		SKIP(return, MNT " is not %s ext4 dax=always", DEV);
	if (dax_sh("ndctl list -n %s | grep -q '\"blockdev\":\"%s\"'", NS, DEV + strlen("/dev/")))
		SKIP(return, "%s is not the namespace of %s", NS, DEV);
}

FIXTURE_TEARDOWN(ns)
{
	if (!self->touched || mounted_dax())
		return;
	/* put back what the runner expects: fsdax DEV, ext4 at /mnt/ext4 */
	dax_sh("umount " MNT " 2>/dev/null");
	if (access(DEV, F_OK)) {
		dax_sh("ndctl destroy-namespace -f %s >/dev/null 2>&1", NS);
		dax_sh("echo 2097152 > /sys/bus/nd/devices/%s/align 2>/dev/null", REGION);
		dax_sh("ndctl create-namespace -r %s -m fsdax -a 2M >/dev/null", REGION);
	}
	dax_sh(MKFS, DEV);
	dax_sh(MOUNT, DEV);
}

/* A new DAX file on MNT of pattern(seed), mapped twice: *p by PMDs, *q by PTEs. */
static int map_twice(struct __test_metadata *_metadata, uint32_t seed, char **p, char **q)
{
	struct dax_mode big = { .fs = DAX_FS_EXT4, .pmd = true, .shared = true };
	struct dax_mode small = { .fs = DAX_FS_EXT4, .pmd = false, .shared = true };
	int fd;

	fd = dax_create(MNT, FSIZE, DAX_ALLOC | DAX_FILL, seed);
	ASSERT_LE(0, fd) TH_LOG("create on " MNT ": %s", strerror(errno));
	ASSERT_EQ(1, fd_is_dax(fd));
	*p = dax_map(&big, fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, *p);
	*q = dax_map(&small, fd, 0, FSIZE);
	ASSERT_NE(MAP_FAILED, *q);
	return fd;
}

/* the pinned-then-released workload */
static void workload(struct __test_metadata *_metadata)
{
	char *p, *q, pg[PG];
	struct iovec iov;
	int fd, pfd[2], status;
	pid_t pid;

	fd = map_twice(_metadata, 1, &p, &q);
	touch_range(p, FSIZE, true);
	touch_range(q, FSIZE, false);
	ASSERT_EQ(-1, pattern_check(q, FSIZE, 1, 0));

	ASSERT_EQ(0, pipe(pfd));
	iov.iov_base = q + 5 * PG;
	iov.iov_len = PG;
	ASSERT_EQ(PG, vmsplice(pfd[1], &iov, 1, 0)) TH_LOG("vmsplice: %s", strerror(errno));
	iov.iov_base = p + PMDSZ + 9 * PG;
	ASSERT_EQ(PG, vmsplice(pfd[1], &iov, 1, 0)) TH_LOG("vmsplice: %s", strerror(errno));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(pfd[0]);
		close(pfd[1]);
		_exit(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PMDSZ) ? errno : 0);
	}
	EXPECT_EQ(0, wait_child_ms(pid, 300, &status)) TH_LOG("punch did not wait for the pin");
	ASSERT_EQ(PG, read(pfd[0], pg, PG));
	EXPECT_EQ(-1, pattern_check(pg, PG, 1, 5 * PG));
	ASSERT_EQ(PG, read(pfd[0], pg, PG));
	EXPECT_EQ(-1, pattern_check(pg, PG, 1, PMDSZ + 9 * PG));
	ASSERT_EQ(1, wait_child_ms(pid, 5000, &status)) TH_LOG("punch still blocked");
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(pfd[0]);
	close(pfd[1]);
	/* refault the punched range (new blocks) and the rest, then let go */
	touch_range(p, FSIZE, true);
	EXPECT_EQ(-1, pattern_check(q + PMDSZ, PMDSZ, 1, PMDSZ));
	ASSERT_EQ(0, munmap(p, FSIZE));
	ASSERT_EQ(0, munmap(q, FSIZE));
	ASSERT_EQ(0, close(fd));
}

/* a fresh DAX file on the recreated filesystem works, PMD and PTE */
static void check_dax(struct __test_metadata *_metadata)
{
	char *p, *q, *buf = malloc(FSIZE);
	int fd;

	ASSERT_NE(NULL, buf);
	fd = map_twice(_metadata, 7, &p, &q);
	EXPECT_EQ(-1, pattern_check(p, FSIZE, 7, 0));
	EXPECT_EQ(-1, pattern_check(q, FSIZE, 7, 0));
	EXPECT_LT(0, pagemap_pfn(p + PG));
	EXPECT_EQ(pagemap_pfn(p + PG), pagemap_pfn(q + PG));
	pattern_fill(p + PMDSZ, PMDSZ, 8, PMDSZ);
	EXPECT_EQ(-1, pattern_check(q + PMDSZ, PMDSZ, 8, PMDSZ));
	ASSERT_EQ(FSIZE, pread(fd, buf, FSIZE, 0));
	EXPECT_EQ(-1, pattern_check(buf, PMDSZ, 7, 0));
	EXPECT_EQ(-1, pattern_check(buf + PMDSZ, PMDSZ, 8, PMDSZ));
	munmap(p, FSIZE);
	munmap(q, FSIZE);
	close(fd);
	free(buf);
}

TEST_F(ns, reconfigure_after_pin)
{
	workload(_metadata);

	self->touched = true;
	ASSERT_EQ(0, dax_sh("umount " MNT));
	ASSERT_EQ(0, dax_sh("ndctl disable-namespace %s >/dev/null", NS));
	ASSERT_NE(0, access(DEV, F_OK)) TH_LOG("%s still there after disable", DEV);
	ASSERT_EQ(0, dax_sh("ndctl destroy-namespace -f %s >/dev/null", NS));
	dax_sh("echo 2097152 > /sys/bus/nd/devices/%s/align", REGION);
	ASSERT_EQ(0, dax_sh("ndctl create-namespace -r %s -m fsdax -a 2M >/dev/null", REGION));
	dax_sh("ndctl list -r %s -N", REGION);
	ASSERT_EQ(0, access(DEV, F_OK)) TH_LOG("the new namespace is not %s", DEV);
	ASSERT_EQ(0, dax_sh("ndctl list -r %s -N | grep -q '\"mode\":\"fsdax\"'", REGION));
	ASSERT_EQ(0, dax_sh(MKFS, DEV));
	ASSERT_EQ(0, dax_sh(MOUNT, DEV));
	ASSERT_TRUE(mounted_dax());

	check_dax(_metadata);
}

TEST_HARNESS_MAIN
