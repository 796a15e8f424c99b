// SPDX-License-Identifier: GPL-2.0
/*
 * p2pdma_mmap: PCI P2PDMA memory mapped into user space through
 * /sys/bus/pci/devices/D/p2pmem/allocate (p2pmem_alloc_mmap()).
 *
 * The rig gives the guest an emulated NVMe controller with a 16 MiB
 * controller memory buffer (QEMU's cmb_size_mb); the nvme driver hands the
 * CMB to the P2PDMA allocator, so its pages are MEMORY_DEVICE_PCI_P2PDMA
 * ZONE_DEVICE pages in a gen_pool.  An mmap of "allocate" takes a range out
 * of the pool and maps each page with vm_insert_page(); every page goes
 * back to the pool on its own when its last reference goes (the p2pdma
 * pgmap's ->page_free), which "available" shows.
 *
 * What is checked: data goes through the mapping; a mapped page has one
 * reference and one mapcount per page table mapping (fork adds one, unmap
 * drops it); munmap, partial munmap, mremap and exit return exactly the
 * unmapped pages to the pool, every time (map/unmap cycles); GUP refuses
 * the pages without FOLL_PCI_P2PDMA (vmsplice, O_DIRECT from /dev/pmem0:
 * EREMOTEIO) and leaks nothing doing so; private mappings, offsets and
 * requests larger than the pool fail without touching it.
 *
 * REGRESSION test (group "regress"): passes on stock 6.12, where idle pool
 * pages sit at refcount 1, and on the series, where they are idle at 0 and
 * p2pmem_alloc_mmap() gives each page the allocation's reference (patch
 * "PCI/P2PDMA: keep pool pages idle at refcount zero"); the idle count
 * itself cannot be seen from user space.  The series warns when a page
 * leaves or enters the pool with a non-zero count: the rig's splat scan
 * fails the run on such a warning.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#ifndef FOLL_PCI_P2PDMA
#define FOLL_PCI_P2PDMA	(1 << 10)	/* include/linux/mm_types.h */
#endif

#define MAP_LEN		(64UL << 10)	/* 16 pages */
#define NR_CYCLES	200

/* "available" of the p2pmem directory, in bytes; -1 if unreadable */
static long long p2p_available(const char *dir)
{
	char path[512];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/available", dir);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

FIXTURE(p2p) {
	char dir[448];		/* /sys/bus/pci/devices/D/p2pmem */
	int fd;			/* its "allocate" */
	long long avail;	/* pool bytes available at setup */
};

FIXTURE_SETUP(p2p)
{
	char path[512];
	glob_t g;

	self->fd = -1;
	if (glob("/sys/bus/pci/devices/*/p2pmem/allocate", 0, NULL, &g) || !g.gl_pathc)
		SKIP(return, "no PCI device with p2pmem (CONFIG_PCI_P2PDMA, an NVMe CMB)");
	snprintf(self->dir, sizeof(self->dir), "%.*s", (int)(strlen(g.gl_pathv[0]) - 9),
		 g.gl_pathv[0]);
	globfree(&g);
	snprintf(path, sizeof(path), "%s/allocate", self->dir);
	self->fd = open(path, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", path, strerror(errno));
	self->avail = p2p_available(self->dir);
	ASSERT_LE((long long)MAP_LEN * 4, self->avail) TH_LOG("%s: available %lld", self->dir,
								  self->avail);
	TH_LOG("%s: %lld bytes available", self->dir, self->avail);
}

FIXTURE_TEARDOWN(p2p)
{
	if (self->fd >= 0)
		close(self->fd);
}

static void *p2p_map(int fd, size_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

/* refcount and mapcount of the P2PDMA page mapped at addr (gup_test dump) */
#define ASSERT_PAGE(addr, ref, map) do {						\
	struct page_state ps;								\
	int __r = page_state_flags((addr), FOLL_PCI_P2PDMA, &ps);			\
	ASSERT_EQ(0, __r) TH_LOG("page_state %p: %s", (addr), strerror(-__r));		\
	TH_LOG("%p: %s", (addr), page_state_str(&ps));					\
	ASSERT_EQ(ref, ps.refcount);							\
	ASSERT_EQ(map, ps.mapcount);							\
	ASSERT_FALSE(ps.large);								\
} while (0)

/* Data through the mapping; one reference and one mapcount per page; munmap frees */
TEST_F(p2p, map_rw)
{
	char *p = p2p_map(self->fd, MAP_LEN);

	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	/* the whole range is taken from the pool at mmap time */
	ASSERT_EQ(self->avail - (long long)MAP_LEN, p2p_available(self->dir));
	pattern_fill(p, MAP_LEN, 0x9292, 0);
	ASSERT_EQ(-1, pattern_check(p, MAP_LEN, 0x9292, 0));
	ASSERT_PAGE(p, 1, 1);
	ASSERT_PAGE(p + MAP_LEN - PG, 1, 1);
	ASSERT_EQ(0, munmap(p, MAP_LEN));
	ASSERT_EQ(self->avail, p2p_available(self->dir));
}

/* Unmapping part of the range frees exactly those pages, one by one */
TEST_F(p2p, partial_munmap)
{
	char *p = p2p_map(self->fd, MAP_LEN);

	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	memset(p, 0x5a, MAP_LEN);
	ASSERT_EQ(0, munmap(p + 4 * PG, 4 * PG));
	ASSERT_EQ(self->avail - (long long)(MAP_LEN - 4 * PG), p2p_available(self->dir));
	ASSERT_PAGE(p + 3 * PG, 1, 1);
	ASSERT_PAGE(p + 8 * PG, 1, 1);
	ASSERT_EQ(0x5a, p[8 * PG]);
	ASSERT_EQ(0, munmap(p, MAP_LEN));
	ASSERT_EQ(self->avail, p2p_available(self->dir));
}

/*
 * fork copies the page table entries of the VM_MIXEDMAP mapping: each page
 * gets a second reference and mapcount; the parent's munmap leaves the
 * pages to the child, whose exit frees them.
 */
TEST_F(p2p, fork)
{
	int to_child[2], status;
	char *p = p2p_map(self->fd, MAP_LEN);
	char c = 0;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	memset(p, 0x11, MAP_LEN);
	ASSERT_EQ(0, pipe(to_child));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* the parent's writes are seen: the same pages */
		if (read(to_child[0], &c, 1) != 1)
			_exit(10);
		_exit(p[0] == 0x22 && p[MAP_LEN - 1] == 0x22 ? 0 : 11);
	}
	ASSERT_PAGE(p, 2, 2);
	memset(p, 0x22, MAP_LEN);
	ASSERT_EQ(0, munmap(p, MAP_LEN));
	/* the child's mapping still holds every page */
	ASSERT_EQ(self->avail - (long long)MAP_LEN, p2p_available(self->dir));
	ASSERT_EQ(1, write(to_child[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(self->avail, p2p_available(self->dir));
	close(to_child[0]);
	close(to_child[1]);
}

/* mremap moves the mapping: same pages, same counts, one free at the end */
TEST_F(p2p, mremap)
{
	char *p = p2p_map(self->fd, MAP_LEN), *q, *hint;

	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	pattern_fill(p, MAP_LEN, 0x7e57, 0);
	/* a free spot elsewhere to move to */
	hint = mmap(NULL, MAP_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hint);
	q = mremap(p, MAP_LEN, MAP_LEN, MREMAP_MAYMOVE | MREMAP_FIXED, hint);
	ASSERT_EQ(hint, q) TH_LOG("mremap: %s", strerror(errno));
	ASSERT_EQ(-1, pattern_check(q, MAP_LEN, 0x7e57, 0));
	ASSERT_PAGE(q + PG, 1, 1);
	ASSERT_EQ(self->avail - (long long)MAP_LEN, p2p_available(self->dir));
	ASSERT_EQ(0, munmap(q, MAP_LEN));
	ASSERT_EQ(self->avail, p2p_available(self->dir));
}

/*
 * GUP without FOLL_PCI_P2PDMA refuses the pages: vmsplice and O_DIRECT
 * into them fail with EREMOTEIO, and no reference is left behind.
 */
TEST_F(p2p, gup_refused)
{
	char *p = p2p_map(self->fd, MAP_LEN);
	struct page_state ps;
	struct iovec iov;
	int pfd[2], fd;
	ssize_t n;

	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	memset(p, 0x33, MAP_LEN);
	/* plain FOLL_GET: gup_test gets nothing */
	ASSERT_NE(0, page_state_flags(p, 0, &ps));

	ASSERT_EQ(0, pipe(pfd));
	iov.iov_base = p;
	iov.iov_len = PG;
	n = vmsplice(pfd[1], &iov, 1, 0);
	ASSERT_EQ(-1, n) TH_LOG("vmsplice of a P2PDMA page returned %zd", n);
	ASSERT_EQ(EREMOTEIO, errno) TH_LOG("vmsplice: %s", strerror(errno));
	close(pfd[0]);
	close(pfd[1]);

	fd = open("/dev/pmem0", O_RDONLY | O_DIRECT);
	if (fd >= 0) {
		n = pread(fd, p, 4 * PG, 0);
		ASSERT_EQ(-1, n) TH_LOG("O_DIRECT read into a P2PDMA buffer returned %zd", n);
		ASSERT_EQ(EREMOTEIO, errno) TH_LOG("O_DIRECT read: %s", strerror(errno));
		close(fd);
	} else {
		TH_LOG("no /dev/pmem0 (%s): O_DIRECT part not run", strerror(errno));
	}
	ASSERT_EQ(0x33, p[0]);
	ASSERT_PAGE(p, 1, 1);
	ASSERT_EQ(0, munmap(p, MAP_LEN));
	ASSERT_EQ(self->avail, p2p_available(self->dir));
}

/* Requests the allocator refuses leave the pool as it was */
TEST_F(p2p, refused_maps)
{
	size_t big = ((size_t)self->avail + (1UL << 20)) & ~((1UL << 20) - 1);
	void *p;

	p = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, MAP_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, PG);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_EQ(MAP_FAILED, p) TH_LOG("mmap of %zu bytes with %lld available", big,
					self->avail);
	ASSERT_EQ(ENOMEM, errno);
	ASSERT_EQ(self->avail, p2p_available(self->dir));
}

/* Map, write, unmap many times: the pool always comes back whole */
TEST_F(p2p, cycles)
{
	int i;

	for (i = 0; i < NR_CYCLES; i++) {
		char *p = p2p_map(self->fd, MAP_LEN);

		ASSERT_NE(MAP_FAILED, p) TH_LOG("cycle %d: mmap: %s", i, strerror(errno));
		p[(i * PG) % MAP_LEN] = (char)i;
		ASSERT_EQ((char)i, p[(i * PG) % MAP_LEN]);
		ASSERT_EQ(0, munmap(p, MAP_LEN));
		ASSERT_EQ(self->avail, p2p_available(self->dir)) TH_LOG("cycle %d", i);
	}
}

TEST_HARNESS_MAIN
