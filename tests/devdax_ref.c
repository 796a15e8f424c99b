// SPDX-License-Identifier: GPL-2.0
/*
 * devdax_ref: device-DAX pages follow the normal refcounting rules.  A fault
 * on /dev/daxX.Y maps one folio of the device alignment (order 0 at 4 KiB,
 * order 9 at 2 MiB, order 18 at 1 GiB) with a PTE, PMD or PUD that holds a
 * folio reference and a mapcount (entire mapcount for PMD/PUD); every other
 * mapping, GUP reference and pin adds its own, and unmapping (munmap,
 * MADV_DONTNEED, exit of a child that mapped it) drops them again, so the
 * folio goes back to its idle count.  mremap keeps the single mapping.
 *
 * Idle count: device-DAX pages stay at refcount 1 while idle (memremap_pages
 * initialises MEMORY_DEVICE_GENERIC pages to 1); a mapped folio has
 * DEVDAX_IDLE + number of mappings.
 *
 * NEW SEMANTICS (group "refcount"): fails on stock 6.12, where device-DAX is
 * mapped with devmap entries holding neither a reference nor a mapcount
 * (dump_page: refcount 1 + gup_test's, mapcount 0 whatever the mappings).
 *
 * Variants per device alignment.  The rig's namespace is devdax with 2 MiB
 * alignment; the 4k and 1g variants reconfigure it in place with ndctl
 * (ndctl create-namespace -f -e NS -m devdax -a ALIGN) and the program puts
 * the 2 MiB namespace back when it ends.  A 1 GiB alignment that ndctl cannot
 * create on this region SKIPs with ndctl's reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/types.h>
#include <mm/gup_test.h>

#include "kselftest_harness.h"
#include "daxtest.h"
#include "devdax.h"

#define DEVDAX_IDLE	1	/* refcount of an idle device-DAX folio */
#define GUP_PIN_BIAS	1024	/* GUP_PIN_COUNTING_BIAS: a pin of a small folio */
#define GUP_TEST_PATH	"/sys/kernel/debug/gup_test"

/* The program's main process, which puts the namespace back at exit. */
static pid_t main_pid;
static const char *region;

static void __attribute__((constructor)) devdax_ref_init(void)
{
	main_pid = getpid();
	region = getenv("PMEM_DEVDAX_REGION");
}

static void __attribute__((destructor)) devdax_ref_fini(void)
{
	struct devdax_ns d;

	if (getpid() != main_pid || !region)
		return;
	if (!devdax_lookup(region, &d) && !strcmp(d.mode, "devdax") &&
	    d.align == DEVDAX_ALIGN_DEFAULT)
		return;
	printf("# restoring the 2 MiB devdax namespace of %s\n", region);
	if (devdax_restore(region))
		printf("# could not restore the devdax namespace of %s\n", region);
}

FIXTURE(dd) {
	struct devdax_ns d;
	int fd;
	char *p;
	size_t len;
};

FIXTURE_VARIANT(dd) {
	unsigned long align;
	int order;
	size_t len;		/* length of the main mapping */
};

/* 2m first: it needs no reconfiguration */
FIXTURE_VARIANT_ADD(dd, a2m) { .align = 2UL << 20, .order = 9, .len = 4UL << 20 };
FIXTURE_VARIANT_ADD(dd, a4k) { .align = 4096, .order = 0, .len = 4UL << 20 };
FIXTURE_VARIANT_ADD(dd, a1g) { .align = 1UL << 30, .order = 18, .len = 1UL << 30 };

FIXTURE_SETUP(dd)
{
	char dev[96];
	int ret;

	self->fd = -1;
	self->p = MAP_FAILED;
	self->len = variant->len;
	RIG_REQUIRE(region, return, "no $PMEM_DEVDAX_REGION (guest/setup-pmem.sh sets it)");
	RIG_REQUIRE(!access(GUP_TEST_PATH, R_OK | W_OK), return,
		    "no " GUP_TEST_PATH " (CONFIG_GUP_TEST, debugfs)");
	RIG_REQUIRE(!dax_sh("command -v ndctl >/dev/null"), return, "no ndctl");

	/*
	 * The rig's third DIMM is 4 GiB on a 1 GiB boundary
	 * (scripts/run-guest.sh): a 1 GiB aligned namespace fits, so there
	 * ndctl failing is a failure too.
	 */
	ret = devdax_set_align(region, variant->align, &self->d);
	if (variant->align == (1UL << 30))
		RIG_REQUIRE(!ret, return,
			    "ndctl cannot make a 1 GiB aligned devdax namespace on %s (status %d, see above)",
			    region, ret);
	ASSERT_EQ(0, ret) TH_LOG("devdax namespace with alignment %lu on %s", variant->align,
				 region);
	RIG_REQUIRE(self->d.size >= self->len, return, "%s: %llu bytes, need %zu",
		    self->d.chardev, self->d.size, self->len);

	snprintf(dev, sizeof(dev), "/dev/%s", self->d.chardev);
	self->fd = open(dev, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", dev, strerror(errno));
	self->p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->p) TH_LOG("mmap %s: %s", dev, strerror(errno));
	ASSERT_EQ(0, (uintptr_t)self->p % variant->align);
	TH_LOG("%s (%s), alignment %lu, mapped at %p", dev, self->d.ns, self->d.align, self->p);
}

FIXTURE_TEARDOWN(dd)
{
	if (self->p != MAP_FAILED)
		munmap(self->p, self->len);
	if (self->fd >= 0)
		close(self->fd);
}

static void get_state(struct __test_metadata *_metadata, const FIXTURE_VARIANT(dd) *variant,
		      const char *what, char *addr, struct page_state *ps)
{

	get_page_state(_metadata, what, addr, ps);
	/* pagemap walks split (unmap) PUD leaves: only look below 1 GiB */
	if (variant->order < 18)
		ASSERT_EQ(pagemap_pfn(addr), (long long)ps->pfn);
}

/*
 * The folio of addr is mapped maps times by whole-folio entries (PTEs for
 * order 0) and holds extra references on top of those.
 */
static void expect_folio(struct __test_metadata *_metadata, const FIXTURE_VARIANT(dd) *variant,
			 const struct page_state *ps, long maps, long extra, long pins)
{
	EXPECT_EQ(DEVDAX_IDLE + maps + extra, ps->refcount);
	EXPECT_EQ(NULL, strstr(ps->flags, "anon"));
	if (variant->order == 0) {
		EXPECT_FALSE(ps->large);
		EXPECT_EQ(maps, ps->mapcount);
		return;
	}
	EXPECT_TRUE(ps->large);
	EXPECT_EQ(variant->order, ps->order);
	EXPECT_EQ(maps, ps->entire_mapcount);
	EXPECT_EQ(maps, ps->folio_mapcount);
	EXPECT_EQ(0, ps->nr_pages_mapped);
	EXPECT_EQ(0, ps->mapcount);	/* no PTE maps a page of it */
	EXPECT_EQ(pins, ps->pincount);
}

static void check(struct __test_metadata *_metadata, const FIXTURE_VARIANT(dd) *variant,
		  const char *what, char *addr, long maps, long extra)
{
	struct page_state ps;

	get_state(_metadata, variant, what, addr, &ps);
	expect_folio(_metadata, variant, &ps, maps, extra, 0);
}

TEST_F(dd, fault_maps_folio)
{
	size_t unit = variant->align;

	memset(self->p, 0x5a, PG);
	check(_metadata, variant, "first page after a write fault", self->p, 1, 0);
	if (unit > PG) {
		check(_metadata, variant, "page 7 of the folio", self->p + 7 * PG, 1, 0);
		check(_metadata, variant, "last page of the folio", self->p + unit - PG, 1, 0);
	}
	/* the next folio is untouched, then mapped on its own */
	if (self->len >= 2 * unit) {
		self->p[unit] = 1;
		check(_metadata, variant, "second folio", self->p + unit, 1, 0);
	}
}

/* a read fault maps the folio, the write fault upgrades the same entry */
TEST_F(dd, read_then_write_fault)
{
	volatile char *v = self->p;
	char *q;

	(void)v[3 * PG];
	check(_metadata, variant, "after a read fault", self->p + 3 * PG, 1, 0);
	v[3 * PG] = 0x33;
	check(_metadata, variant, "after the write fault", self->p + 3 * PG, 1, 0);
	q = mmap(NULL, self->len, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0x33, q[3 * PG]);
	check(_metadata, variant, "read through a second mapping", self->p + 3 * PG, 2, 0);
	ASSERT_EQ(0, munmap(q, self->len));
	check(_metadata, variant, "second mapping gone", self->p + 3 * PG, 1, 0);
}

TEST_F(dd, two_mappings)
{
	char *q = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);

	ASSERT_NE(MAP_FAILED, q);
	self->p[0] = 1;
	q[0] = 2;
	EXPECT_EQ(2, self->p[0]);
	check(_metadata, variant, "two mappings, first", self->p, 2, 0);
	check(_metadata, variant, "two mappings, second", q, 2, 0);
	ASSERT_EQ(0, munmap(q, self->len));
	check(_metadata, variant, "one mapping left", self->p, 1, 0);
}

/* munmap drops what the mapping held: map again, the same counts */
TEST_F(dd, munmap_returns_to_idle)
{
	int i;

	for (i = 0; i < 3; i++) {
		self->p[PG] = i;
		check(_metadata, variant, "mapped", self->p + PG, 1, 0);
		ASSERT_EQ(0, munmap(self->p, self->len));
		self->p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
		ASSERT_NE(MAP_FAILED, self->p);
		EXPECT_EQ(i, self->p[PG]);
	}
	check(_metadata, variant, "mapped after 3 munmap/mmap cycles", self->p + PG, 1, 0);
}

/* MADV_DONTNEED zaps the entry (PTE, PMD or PUD) with its reference */
TEST_F(dd, madv_dontneed_zaps)
{
	self->p[0] = 7;
	check(_metadata, variant, "mapped", self->p, 1, 0);
	ASSERT_EQ(0, madvise(self->p, variant->align, MADV_DONTNEED));
	EXPECT_EQ(7, self->p[0]);
	check(_metadata, variant, "zapped and faulted again", self->p, 1, 0);
}

/* a child faults its copy of the VMA: its own reference, gone at exit */
TEST_F(dd, fork_child_maps)
{
	int to_parent[2], to_child[2], status;
	char c = 0;
	pid_t pid;

	self->p[0] = 1;
	ASSERT_EQ(0, pipe(to_parent));
	ASSERT_EQ(0, pipe(to_child));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		self->p[0] = 2;		/* fault in the child */
		if (write(to_parent[1], "x", 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	EXPECT_EQ(2, self->p[0]);
	check(_metadata, variant, "parent and child map it", self->p, 2, 0);
	ASSERT_EQ(1, write(to_child[1], "x", 1));
	ASSERT_EQ(1, wait_child_ms(pid, 20000, &status));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	check(_metadata, variant, "child exited", self->p, 1, 0);
	close(to_parent[0]);
	close(to_parent[1]);
	close(to_child[0]);
	close(to_child[1]);
}

/* mremap moves the entries: still one mapping, nothing left at the old place */
TEST_F(dd, mremap_moves_mapping)
{
	size_t unit = variant->align, len = self->len;
	char *res, *to, *old = self->p;
	void *fault_addr;

	memset(self->p, 0x42, PG);
	check(_metadata, variant, "before mremap", self->p, 1, 0);
	res = mmap(NULL, len + unit, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	ASSERT_NE(MAP_FAILED, res);
	to = (char *)(((uintptr_t)res + unit - 1) & ~(uintptr_t)(unit - 1));
	to = mremap(self->p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	ASSERT_NE(MAP_FAILED, to) TH_LOG("mremap: %s", strerror(errno));
	self->p = to;
	if (to > res)
		munmap(res, to - res);
	if (res + len + unit > to + len)
		munmap(to + len, res + len + unit - (to + len));
	EXPECT_EQ(0x42, to[0]);
	check(_metadata, variant, "after mremap", to, 1, 0);
	EXPECT_EQ(SIGSEGV, probe_read(old, NULL, &fault_addr));
}

/* a GUP reference (vmsplice) outlives the mapping and is counted apart */
TEST_F(dd, vmsplice_reference)
{
	struct iovec iov = { .iov_base = self->p + 5 * PG, .iov_len = PG };
	char buf[PG];
	int pfd[2];

	memset(self->p + 5 * PG, 0x77, PG);
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(PG, vmsplice(pfd[1], &iov, 1, 0));
	check(_metadata, variant, "mapped and vmspliced", self->p + 5 * PG, 1, 1);
	ASSERT_EQ(0, munmap(self->p, self->len));
	self->p = mmap(NULL, self->len, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->p);
	self->p[5 * PG + 1] = 0x11;
	check(_metadata, variant, "unmapped, mapped again, still in the pipe", self->p + 5 * PG,
	      1, 1);
	ASSERT_EQ(PG, read(pfd[0], buf, PG));
	EXPECT_EQ(0x77, buf[0]);
	EXPECT_EQ(0x11, buf[1]);	/* the pipe holds the page, not a copy */
	close(pfd[0]);
	close(pfd[1]);
	check(_metadata, variant, "pipe drained", self->p + 5 * PG, 1, 0);
}

/* a FOLL_LONGTERM pin is allowed and counted while held */
TEST_F(dd, longterm_pin_counted)
{
	struct pin_longterm_test args = {
		.addr = (uintptr_t)self->p, .size = PG,
		.flags = PIN_LONGTERM_TEST_FLAG_USE_WRITE,
	};
	struct page_state ps;
	int gfd, ret;

	self->p[0] = 3;
	gfd = open(GUP_TEST_PATH, O_RDWR);
	ASSERT_LE(0, gfd);
	ret = ioctl(gfd, PIN_LONGTERM_TEST_START, &args);
	ASSERT_EQ(0, ret) TH_LOG("FOLL_LONGTERM pin: %s", strerror(errno));
	get_state(_metadata, variant, "long-term pinned", self->p, &ps);
	if (variant->order == 0)
		expect_folio(_metadata, variant, &ps, 1, GUP_PIN_BIAS, 0);
	else
		expect_folio(_metadata, variant, &ps, 1, 1, 1);
	EXPECT_EQ(0, ioctl(gfd, PIN_LONGTERM_TEST_STOP));
	close(gfd);
	check(_metadata, variant, "unpinned", self->p, 1, 0);
}

/*
 * O_DIRECT read of a file's blocks (written through /mnt/xfs, read from its
 * pmem block device, which is not DAX) into the device-DAX buffer: the bio
 * pins the buffer with GUP; afterwards only the mapping's reference is left.
 */
TEST_F(dd, odirect_into_buffer)
{
	const char *dir = dax_dir(DAX_FS_XFS), *bdev = getenv("PMEM_XFS_DEV");
	size_t n = PMDSZ;
	long long phys;
	int fd, bfd;

	RIG_REQUIRE(dir && bdev, return, "no $DAX_XFS or $PMEM_XFS_DEV");
	phys = devdax_file_on_bdev(_metadata, dir, bdev, n, 9, &fd, &bfd);
	memset(self->p, 0, n);
	check(_metadata, variant, "before O_DIRECT", self->p, 1, 0);
	ASSERT_EQ((ssize_t)n, pread(bfd, self->p, n, phys)) TH_LOG("pread: %s", strerror(errno));
	EXPECT_EQ(-1, pattern_check(self->p, n, 9, 0));
	check(_metadata, variant, "after O_DIRECT", self->p, 1, 0);
	check(_metadata, variant, "after O_DIRECT, last page read", self->p + n - PG, 1, 0);
	close(bfd);
	close(fd);
}

TEST_HARNESS_MAIN
