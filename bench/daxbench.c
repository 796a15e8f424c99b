// SPDX-License-Identifier: GPL-2.0
/*
 * daxbench: micro-benchmarks of the DAX page paths the series touches.
 *
 *   daxbench [-s MiB] [-y MiB] [-Y MiB] [-r reps] [-n per-call] fs DIR NAME
 *   daxbench [-s MiB] [-r reps] [-n per-call] devdax DEV NAME
 *
 * For a directory on a filesystem mounted -o dax=always (fs) or a device-DAX
 * char device (devdax), at 4 KiB (PTE, MADV_NOHUGEPAGE) and 2 MiB (PMD)
 * granularity on fs; on devdax at the device's alignment (2m: PMD, 1g: PUD;
 * the mapping is then -s rounded up to it):
 *   fault-read-cold           read every page of a new MAP_SHARED mapping of a
 *                             file just written with pwrite(): the faults make
 *                             the file's DAX entries
 *   fault-read, fault-write   the same again, on a file that has its entries
 *   fault-write-cold          store to every page of a new mapping of a file
 *                             without entries (the file of "truncate")
 *   munmap                    unmap the fully write-faulted mapping (zap)
 *   gup-fast, pin-fast        get/pin_user_pages_fast over the faulted mapping
 *   gup-slow, pin-slow        get/pin_user_pages (GUP_BASIC/PIN_BASIC)
 *   put-gup-fast, unpin-fast  releasing what gup-fast/pin-fast took
 *   truncate                  ftruncate(0) of a mapped, write-faulted file (fs)
 *   fork                      fork() with a read-faulted MAP_PRIVATE mapping
 *                             (one COWed page, so the page tables are copied) (fs)
 *   mapsync-write             write faults through MAP_SYNC on a fallocated,
 *                             never written file (unwritten extents: every
 *                             fault commits metadata) of -y MiB (4k, default
 *                             4) or -Y MiB (2m, default 64) (fs)
 * Each measurement is one line on stdout, tab separated:
 *   NAME  WORKLOAD-GRAN  UNIT  OPS  USEC  FAULTS
 * UNIT is what OPS counts (the report shows OPS/s); USEC is the guest's
 * CLOCK_MONOTONIC time (GUP rows: the kernel's own ktime deltas from
 * gup_test); FAULTS is the page faults the process took meanwhile (-1: n/a).
 * No verdict on the numbers: exit status 0 unless a setup step failed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <mm/gup_test.h>

#include "daxtest.h"

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#define FOLL_WRITE_FLAG	0x01	/* FOLL_WRITE in include/linux/mm_types.h */
#define GUP_TEST_FILE	"/sys/kernel/debug/gup_test"
#define NFORKS		4

static size_t size = 256 * MiB, sync_size[2] = { 4 * MiB, 64 * MiB };
static unsigned int per_call = 512;
static const char *name;
static int failed;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void emit(const char *wl, const char *gran, const char *unit, double ops,
		 double usec, long faults)
{
	printf("%s\t%s-%s\t%s\t%.0f\t%.3f\t%ld\n", name, wl, gran, unit, ops, usec, faults);
	fflush(stdout);
}

static void fail(const char *what)
{
	fprintf(stderr, "daxbench %s: %s: %s\n", name, what, strerror(errno));
	failed = 1;
}

/* Alignment of the mappings: 2 MiB, or the device-DAX's own. */
static size_t map_align = PMDSZ;

/* A mapping of fd at a map_align aligned address. */
static char *map(int fd, size_t len, int flags, bool pmd)
{
	size_t resv = len + map_align;
	char *r, *p;

	r = mmap(NULL, resv, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED) {
		fail("mmap reserve");
		return NULL;
	}
	p = (char *)(((uintptr_t)r + map_align - 1) & ~(map_align - 1));
	if (p > r)
		munmap(r, p - r);
	if (r + resv > p + len)
		munmap(p + len, r + resv - (p + len));
	p = mmap(p, len, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		fail("mmap");
		return NULL;
	}
	if (!pmd && madvise(p, len, MADV_NOHUGEPAGE)) {
		fail("madvise");
		munmap(p, len);
		return NULL;
	}
	return p;
}

/*
 * Read or store (no read first: one write fault per page, not a read fault
 * and a write-protect fault) one byte per 4 KiB page of p.
 */
static void touch(char *p, size_t len, bool write)
{
	volatile char *c = p;
	size_t i;

	for (i = 0; i < len; i += PG) {
		if (write)
			c[i] = 1;
		else
			(void)c[i];
	}
}

/* Time touching every page of p. */
static void timed_touch(const char *wl, const char *gran, size_t gsz, char *p,
			size_t len, bool write)
{
	long f0 = fault_count();
	double t0 = now_us(), t1;

	touch(p, len, write);
	t1 = now_us();
	emit(wl, gran, "faults", len / gsz, t1 - t0, fault_count() - f0);
}

static void faults_and_munmap(int fd, const char *gran, size_t gsz, bool pmd)
{
	double t0, t1;
	char *p;

	/* the file's DAX entries are made here, by the first faults */
	p = map(fd, size, MAP_SHARED, pmd);
	if (!p)
		return;
	timed_touch("fault-read-cold", gran, gsz, p, size, false);
	munmap(p, size);

	p = map(fd, size, MAP_SHARED, pmd);
	if (!p)
		return;
	timed_touch("fault-read", gran, gsz, p, size, false);
	munmap(p, size);

	p = map(fd, size, MAP_SHARED, pmd);
	if (!p)
		return;
	timed_touch("fault-write", gran, gsz, p, size, true);
	t0 = now_us();
	munmap(p, size);
	t1 = now_us();
	emit("munmap", gran, "MiB", size / MiB, t1 - t0, -1);
	fsync(fd);	/* no background DAX writeback during later runs */
}

/*
 * Touch all of a device-DAX range once, untimed: the first guest access to
 * each page of the emulated NVDIMM costs QEMU a host page fault, which the
 * fs runs pay while writing their files.
 */
static void warm(int fd)
{
	char *p = map(fd, size, MAP_SHARED, true);

	if (p) {
		touch(p, size, true);
		munmap(p, size);
	}
}

static void gup_one(int gfd, char *p, const char *wl, const char *putwl,
		    const char *gran, unsigned long cmd)
{
	struct gup_test g = { 0 };

	g.addr = (unsigned long)p;
	g.size = size;
	g.nr_pages_per_call = per_call;
	g.gup_flags = FOLL_WRITE_FLAG;
	if (ioctl(gfd, cmd, &g)) {
		fail(wl);
		return;
	}
	if (g.size != size) {
		fprintf(stderr, "daxbench %s: %s-%s: only %llu of %zu bytes\n",
			name, wl, gran, (unsigned long long)g.size, size);
		failed = 1;
	}
	emit(wl, gran, "pages", g.size / PG, g.get_delta_usec, -1);
	if (putwl)
		emit(putwl, gran, "pages", g.size / PG, g.put_delta_usec, -1);
}

static void gup(int fd, const char *gran, bool pmd)
{
	int gfd = open(GUP_TEST_FILE, O_RDWR);
	char *p;

	if (gfd < 0) {
		fail(GUP_TEST_FILE);
		return;
	}
	p = map(fd, size, MAP_SHARED, pmd);
	if (p) {
		touch(p, size, true);
		gup_one(gfd, p, "gup-fast", "put-gup-fast", gran, GUP_FAST_BENCHMARK);
		gup_one(gfd, p, "pin-fast", "unpin-fast", gran, PIN_FAST_BENCHMARK);
		gup_one(gfd, p, "gup-slow", NULL, gran, GUP_BASIC_TEST);
		gup_one(gfd, p, "pin-slow", NULL, gran, PIN_BASIC_TEST);
		munmap(p, size);
	}
	close(gfd);
	fsync(fd);
}

static void truncate_mapped(const char *dir, const char *gran, bool pmd)
{
	int fd = dax_create(dir, size, DAX_ALLOC | DAX_FILL, 1);
	double t0, t1;
	char *p;

	if (fd < 0) {
		fail("create file for truncate");
		return;
	}
	p = map(fd, size, MAP_SHARED, pmd);
	if (p) {
		timed_touch("fault-write-cold", gran, pmd ? PMDSZ : PG, p, size, true);
		fsync(fd);
		t0 = now_us();
		if (ftruncate(fd, 0))
			fail("ftruncate");
		t1 = now_us();
		emit("truncate", gran, "MiB", size / MiB, t1 - t0, -1);
		munmap(p, size);
	}
	close(fd);
}

static void fork_private(int fd, const char *gran, bool pmd)
{
	double total = 0, t0;
	int i, status;
	pid_t pid;
	char *p;

	p = map(fd, size, MAP_PRIVATE, pmd);
	if (!p)
		return;
	touch(p, size, false);
	p[0] = 1;	/* COW one page: the VMA gets an anon_vma, fork copies it */
	for (i = 0; i < NFORKS; i++) {
		t0 = now_us();
		pid = fork();
		if (pid == 0)
			_exit(0);
		total += now_us() - t0;
		if (pid < 0) {
			fail("fork");
			break;
		}
		waitpid(pid, &status, 0);
	}
	emit("fork", gran, "forks", i, total, -1);
	munmap(p, size);
}

static void mapsync_write(const char *dir, const char *gran, size_t gsz, bool pmd)
{
	size_t len = sync_size[pmd];
	int fd = dax_create(dir, len, DAX_ALLOC, 0);
	char *p;

	if (fd < 0) {
		fail("create file for MAP_SYNC");
		return;
	}
	p = map_aligned(len, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0, 0);
	if (p == MAP_FAILED) {
		fail("mmap MAP_SYNC");
	} else {
		if (!pmd)
			madvise(p, len, MADV_NOHUGEPAGE);
		timed_touch("mapsync-write", gran, gsz, p, len, true);
		munmap(p, len);
	}
	close(fd);
}

/*
 * The fault size of a device-DAX char device (its "align" in sysfs): every
 * mapping of it must be aligned to it, and it is mapped in pieces this big.
 */
static size_t devdax_align(int fd)
{
	char path[96], buf[32] = "";
	struct stat st;
	size_t a = 0;
	FILE *f;

	if (fstat(fd, &st))
		return PMDSZ;
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/align", major(st.st_rdev),
		 minor(st.st_rdev));
	f = fopen(path, "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			a = strtoul(buf, NULL, 0);
		fclose(f);
	}
	return a >= PMDSZ && !(a & (a - 1)) ? a : PMDSZ;
}

static void usage(void)
{
	fprintf(stderr, "usage: daxbench [-s MiB] [-y MiB] [-Y MiB] [-r reps] [-n pages-per-call] fs|devdax PATH NAME\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int opt, reps = 1, rep, fd, g;
	const char *kind, *path;

	while ((opt = getopt(argc, argv, "s:y:Y:r:n:")) != -1) {
		switch (opt) {
		case 's': size = strtoul(optarg, NULL, 0) * MiB; break;
		case 'y': sync_size[0] = strtoul(optarg, NULL, 0) * MiB; break;
		case 'Y': sync_size[1] = strtoul(optarg, NULL, 0) * MiB; break;
		case 'r': reps = atoi(optarg); break;
		case 'n': per_call = strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (argc - optind != 3 || !size || size % PMDSZ || !sync_size[0] ||
	    !sync_size[1] || sync_size[1] % PMDSZ)
		usage();
	kind = argv[optind];
	path = argv[optind + 1];
	name = argv[optind + 2];

	for (rep = 0; rep < reps; rep++) {
		if (!strcmp(kind, "devdax")) {
			/*
			 * Device-DAX maps in pieces of its alignment only (2 MiB:
			 * PMDs, 1 GiB: PUDs), and only MAP_SHARED. The mapping
			 * is SIZE rounded up to that.
			 */
			char gran[16];

			fd = open(path, O_RDWR);
			if (fd < 0) {
				fail(path);
				break;
			}
			map_align = devdax_align(fd);
			size = (size + map_align - 1) & ~(map_align - 1);
			if (map_align >= 1024 * MiB)
				snprintf(gran, sizeof(gran), "%zug", map_align / (1024 * MiB));
			else
				snprintf(gran, sizeof(gran), "%zum", map_align / MiB);
			warm(fd);
			faults_and_munmap(fd, gran, map_align, true);
			gup(fd, gran, true);
			close(fd);
			continue;
		}
		if (strcmp(kind, "fs"))
			usage();
		for (g = 0; g < 2; g++) {
			bool pmd = g == 1;
			const char *gran = pmd ? "2m" : "4k";
			size_t gsz = pmd ? PMDSZ : PG;

			/*
			 * A new file for each granularity: the DAX entries a
			 * file keeps in its page cache after a 4 KiB run would
			 * make PMD faults fall back to PTEs.
			 */
			fd = dax_create(path, size, DAX_ALLOC | DAX_FILL, 1);
			if (fd < 0) {
				fail("create file");
				break;
			}
			faults_and_munmap(fd, gran, gsz, pmd);
			gup(fd, gran, pmd);
			fork_private(fd, gran, pmd);
			close(fd);
			truncate_mapped(path, gran, pmd);
			mapsync_write(path, gran, gsz, pmd);
		}
	}
	return failed;
}
