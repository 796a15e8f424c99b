// SPDX-License-Identifier: GPL-2.0
/* Helpers for the filesystem-DAX tests; see daxtest.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <linux/types.h>
#include <linux/fs.h>
#include <linux/fiemap.h>
#include <mm/gup_test.h>

#include "daxtest.h"

#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX 0x00200000
#endif

#define GUP_TEST_PATH	"/sys/kernel/debug/gup_test"
#define TRACEFS		"/sys/kernel/tracing"
#define PMD_EVENT	TRACEFS "/events/fs_dax/dax_pmd_fault_done/enable"

const char *dax_fs_name(enum dax_fs fs)
{
	return fs == DAX_FS_XFS ? "xfs" : "ext4";
}

const char *dax_dir(enum dax_fs fs)
{
	const char *d = getenv(fs == DAX_FS_XFS ? "DAX_XFS" : "DAX_EXT4");
	struct stat st;

	if (!d || !*d || stat(d, &st) || !S_ISDIR(st.st_mode))
		return NULL;
	return d;
}

int fd_is_dax(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx))
		return -1;
	if (!(stx.stx_attributes_mask & STATX_ATTR_DAX))
		return 0;
	return !!(stx.stx_attributes & STATX_ATTR_DAX);
}

bool pmd_aligned_extents(int fd, size_t size)
{
	size_t n = 64, i, chunk;
	struct fiemap *fm;
	bool ok = true;

	fm = calloc(1, sizeof(*fm) + n * sizeof(struct fiemap_extent));
	if (!fm)
		return false;
	fm->fm_start = 0;
	fm->fm_length = size;
	fm->fm_flags = FIEMAP_FLAG_SYNC;
	fm->fm_extent_count = n;
	if (ioctl(fd, FS_IOC_FIEMAP, fm)) {
		free(fm);
		return true;	/* cannot tell: let the faults decide */
	}
	/*
	 * A 2 MiB chunk can be PMD-mapped iff all of it is allocated with
	 * physical - logical the same multiple of 2 MiB.
	 */
	for (chunk = 0; chunk + PMDSZ <= size && ok; chunk += PMDSZ) {
		long long delta = -1;
		size_t covered = 0;

		for (i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *e = &fm->fm_extents[i];
			uint64_t s = e->fe_logical, en = e->fe_logical + e->fe_length;
			long long d = (long long)e->fe_physical - (long long)e->fe_logical;

			if (en <= chunk || s >= chunk + PMDSZ)
				continue;
			if ((d & (PMDSZ - 1)) || (delta != -1 && d != delta))
				ok = false;
			delta = d;
			covered += (en < chunk + PMDSZ ? en : chunk + PMDSZ) - (s > chunk ? s : chunk);
		}
		if (covered != PMDSZ)
			ok = false;
	}
	free(fm);
	return ok;
}

int fiemap_extent(int fd, off_t off, struct fiemap_extent *ext)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent ext[4];
	} f;

	memset(&f, 0, sizeof(f));
	f.fm.fm_start = off;
	f.fm.fm_length = PG;
	f.fm.fm_flags = FIEMAP_FLAG_SYNC;
	f.fm.fm_extent_count = 4;
	if (ioctl(fd, FS_IOC_FIEMAP, &f.fm) || f.fm.fm_mapped_extents < 1 ||
	    f.ext[0].fe_logical > (uint64_t)off)
		return -1;
	*ext = f.ext[0];
	return 0;
}

long long fiemap_phys(int fd, off_t off)
{
	struct fiemap_extent ext;

	if (fiemap_extent(fd, off, &ext))
		return -1;
	return ext.fe_physical + (off - ext.fe_logical);
}

int fiemap_shared(int fd, off_t off)
{
	struct fiemap_extent ext;

	if (fiemap_extent(fd, off, &ext))
		return -1;
	return !!(ext.fe_flags & FIEMAP_EXTENT_SHARED);
}

int set_cowextsize(int fd, unsigned int bytes)
{
	struct fsxattr fsx;

	if (ioctl(fd, FS_IOC_FSGETXATTR, &fsx))
		return -1;
	fsx.fsx_xflags |= FS_XFLAG_COWEXTSIZE;
	fsx.fsx_cowextsize = bytes;
	return ioctl(fd, FS_IOC_FSSETXATTR, &fsx);
}

/*
 * fallocate in 2 MiB requests: ext4 (stripe 512 blocks) then only takes a
 * goal extent that is stripe aligned, and never normalizes fallocate
 * requests; xfs (su=2m) aligns anyway.
 */
static int alloc_aligned(int fd, size_t size)
{
	size_t off;

	for (off = 0; off < size; off += PMDSZ)
		if (fallocate(fd, 0, off, size - off < PMDSZ ? size - off : PMDSZ))
			return -1;
	return 0;
}

static int dax_create_one(const char *dir, size_t size, unsigned int flags, uint32_t seed,
			  char *path, size_t pathlen);

int dax_create(const char *dir, size_t size, unsigned int flags, uint32_t seed)
{
	return dax_create_path(dir, size, flags, seed, NULL, 0);
}

int dax_create_path(const char *dir, size_t size, unsigned int flags, uint32_t seed,
		    char *path, size_t pathlen)
{
	char held_path[8][PATH_MAX];
	int held[8], nheld = 0, fd, i;

	/*
	 * With DAX_ALLOC, make sure every full 2 MiB chunk is PMD-mappable:
	 * if the allocator gave a misaligned extent, keep that file (so its
	 * space stays taken) and try again; give up after 8 tries and return
	 * the last file (tests that need PMDs then fail with a clear log).
	 */
	for (;;) {
		fd = dax_create_one(dir, size, flags, seed, path, pathlen);
		if (fd < 0 || !(flags & DAX_ALLOC) || size < PMDSZ ||
		    pmd_aligned_extents(fd, size) || nheld == 8)
			break;
		if (path)
			snprintf(held_path[nheld], PATH_MAX, "%s", path);
		held[nheld++] = fd;
	}
	for (i = 0; i < nheld; i++) {
		close(held[i]);
		if (path)
			unlink(held_path[i]);
	}
	return fd;
}

static int dax_create_one(const char *dir, size_t size, unsigned int flags, uint32_t seed,
			  char *keep, size_t keeplen)
{
	char path[PATH_MAX];
	size_t done = 0;
	char *buf;
	int fd, err;

	snprintf(path, sizeof(path), "%s/daxtest-%d-XXXXXX", dir, getpid());
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (keep)
		snprintf(keep, keeplen, "%s", path);
	else
		unlink(path);
	if (ftruncate(fd, size))
		goto fail;
	if ((flags & DAX_ALLOC) && alloc_aligned(fd, size))
		goto fail;
	if (flags & DAX_FILL) {
		buf = malloc(MiB);
		if (!buf)
			goto fail;
		while (done < size) {
			size_t n = size - done < MiB ? size - done : MiB;

			pattern_fill(buf, n, seed, done);
			if (pwrite(fd, buf, n, done) != (ssize_t)n) {
				free(buf);
				goto fail;
			}
			done += n;
		}
		free(buf);
	}
	return fd;
fail:
	err = errno;
	close(fd);
	if (keep)
		unlink(path);
	errno = err;
	return -1;
}

int reopen_fd(int fd, int oflags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, oflags);
}

void *map_aligned(size_t len, int prot, int flags, int fd, off_t off, size_t shift)
{
	size_t resv = len + shift + PMDSZ;
	char *r, *a, *p;

	r = mmap(NULL, resv, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (r == MAP_FAILED)
		return MAP_FAILED;
	a = (char *)(((uintptr_t)r + PMDSZ - 1) & ~(PMDSZ - 1)) + shift;
	p = mmap(a, len, prot, flags | MAP_FIXED, fd, off);
	if (p == MAP_FAILED) {
		int err = errno;

		munmap(r, resv);
		errno = err;
		return MAP_FAILED;
	}
	if (a > r)
		munmap(r, a - r);
	if (r + resv > a + len)
		munmap(a + len, r + resv - (a + len));
	return p;
}

void *dax_map(const struct dax_mode *m, int fd, off_t off, size_t len)
{
	char *p = map_aligned(len, PROT_READ | PROT_WRITE,
			      m->shared ? MAP_SHARED : MAP_PRIVATE, fd, off, 0);

	if (p != MAP_FAILED && !m->pmd && madvise(p, len, MADV_NOHUGEPAGE)) {
		munmap(p, len);
		return MAP_FAILED;
	}
	return p;
}

static inline uint32_t pattern_word(uint32_t seed, size_t off)
{
	uint32_t x = seed * 0x9e3779b9u ^ (uint32_t)(off / 4) * 2654435761u;

	x ^= x >> 15;
	return x | 1;	/* never zero, so it is told apart from holes */
}

void pattern_fill(void *buf, size_t len, uint32_t seed, size_t off)
{
	uint32_t *w = buf;
	size_t i;

	/* callers use 4-byte aligned offsets and lengths */
	for (i = 0; i < len / 4; i++)
		w[i] = pattern_word(seed, off + i * 4);
}

long pattern_check(const void *buf, size_t len, uint32_t seed, size_t off)
{
	const uint32_t *w = buf;
	size_t i;

	for (i = 0; i < len / 4; i++)
		if (w[i] != pattern_word(seed, off + i * 4))
			return i * 4;
	return -1;
}

long zero_check(const void *buf, size_t len)
{
	const unsigned char *c = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i])
			return i;
	return -1;
}

void touch_range(void *p, size_t len, bool write)
{
	volatile char *c = p;
	size_t i;

	for (i = 0; i < len; i += PG) {
		if (write)
			c[i] = c[i];
		else
			(void)c[i];
	}
}

int smaps_field(const void *addr, const char *field, char *out, size_t outlen)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long s, e, a = (unsigned long)addr;
	size_t flen = strlen(field);
	char line[512], perms[8];
	bool in = false;
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* VMA header: "start-end rwxp offset dev inode path" */
		if (sscanf(line, "%lx-%lx %7s ", &s, &e, perms) == 3 &&
		    strlen(perms) == 4 && (perms[3] == 'p' || perms[3] == 's')) {
			if (in)
				break;	/* left the VMA without the field */
			in = a >= s && a < e;
			continue;
		}
		if (in && !strncmp(line, field, flen) && line[flen] == ':') {
			char *v = line + flen + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = 0;
			snprintf(out, outlen, "%s", v);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

long smaps_kb(const void *addr, const char *field)
{
	char v[128];

	if (smaps_field(addr, field, v, sizeof(v)))
		return -1;
	return strtol(v, NULL, 10);
}

bool smaps_has_vmflag(const void *addr, const char *flag)
{
	char v[256], *tok, *save;

	if (smaps_field(addr, "VmFlags", v, sizeof(v)))
		return false;
	for (tok = strtok_r(v, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!strcmp(tok, flag))
			return true;
	return false;
}

long long pagemap_pfn(const void *addr)
{
	uint64_t ent;
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = pread(fd, &ent, sizeof(ent), ((uintptr_t)addr / PG) * sizeof(ent));
	close(fd);
	if (n != sizeof(ent))
		return -1;
	if (!(ent & (1ULL << 63)))
		return 0;
	return ent & ((1ULL << 55) - 1);
}

long fault_count(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static int write_str(const char *path, const char *s, int oflags)
{
	int fd = open(path, O_WRONLY | oflags);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

int pmd_trace_start(void)
{
	if (access(PMD_EVENT, W_OK))
		return -1;
	if (write_str(TRACEFS "/trace", "", O_TRUNC))
		return -1;
	return write_str(PMD_EVENT, "1", 0);
}

void pmd_trace_stop(void)
{
	write_str(PMD_EVENT, "0", 0);
}

int pmd_trace_count(const void *start, size_t len, int *fallbacks)
{
	FILE *f = fopen(TRACEFS "/trace", "r");
	uintptr_t s = (uintptr_t)start;
	char line[1024], pidtag[32];
	int nopage = 0, fb = 0;

	if (!f)
		return -1;
	/* the task field reads "comm-pid"; comm may contain '-' itself */
	snprintf(pidtag, sizeof(pidtag), "-%d ", getpid());
	while (fgets(line, sizeof(line), f)) {
		char *a = strstr(line, " address ");
		unsigned long addr;

		if (line[0] == '#' || !strstr(line, "dax_pmd_fault_done:") ||
		    !strstr(line, pidtag) || !a)
			continue;
		addr = strtoul(a + 9, NULL, 16);
		if (addr < s || addr >= s + len)
			continue;
		if (strstr(line, "FALLBACK"))
			fb++;
		else if (strstr(line, "NOPAGE"))
			nopage++;
	}
	fclose(f);
	if (fallbacks)
		*fallbacks = fb;
	return nopage;
}

/*
 * dump_page() output of 6.12 (mm/debug.c), one printk record per line:
 *   page: refcount:%d mapcount:%d mapping:%p index:%#lx pfn:%#lx
 *   head: order:%u mapcount:%d entire_mapcount:%d nr_pages_mapped:%d pincount:%d
 *   [anon |ksm ]flags: %pGp
 *   ...
 *   page dumped because: gup_test: dump_pages() test
 * preceded by gup_test's "---- page #0, starting from user virt addr: 0x..".
 */
static void parse_dump_line(const char *msg, struct page_state *ps, int *state)
{
	const char *f;

	if (*state == 1 && !strncmp(msg, "page: refcount:", 15)) {
		const char *pfn = strstr(msg, " pfn:");
		const char *map = strstr(msg, " mapping:");
		const char *idx = strstr(msg, " index:");

		if (sscanf(msg, "page: refcount:%ld mapcount:%ld", &ps->refcount,
			   &ps->mapcount) == 2 && pfn) {
			ps->pfn = strtoul(pfn + 5, NULL, 16);
			/* %p prints NULL as zeroes, anything else hashed */
			ps->mapping = map && strtoull(map + 9, NULL, 16) != 0;
			ps->index = idx ? strtoul(idx + 7, NULL, 16) : 0;
			*state = 2;
		}
	} else if (*state == 2 && !strncmp(msg, "head: order:", 12)) {
		if (sscanf(msg, "head: order:%d mapcount:%ld entire_mapcount:%ld nr_pages_mapped:%ld pincount:%ld",
			   &ps->order, &ps->folio_mapcount, &ps->entire_mapcount,
			   &ps->nr_pages_mapped, &ps->pincount) == 5)
			ps->large = true;
	} else if (*state == 2 && !strncmp(msg, "memcg:", 6)) {
		ps->memcg = true;
	} else if (*state == 2 && (f = strstr(msg, "flags: ")) &&
		   (f == msg || !strncmp(msg, "anon ", 5) || !strncmp(msg, "ksm ", 4))) {
		snprintf(ps->flags, sizeof(ps->flags), "%s", msg);
	} else if (*state == 2 && !strncmp(msg, "page dumped because:", 20)) {
		*state = 3;
	}
}

int page_state(const void *addr, struct page_state *ps)
{
	return page_state_flags(addr, 0, ps);
}

int page_state_flags(const void *addr, unsigned int gup_flags, struct page_state *ps)
{
	uintptr_t pa = (uintptr_t)addr & ~(PG - 1);
	struct gup_test gup = { 0 };
	char rec[8192], marker[96];
	int gfd, kfd, state = 0, tries = 0, err = 0;

	memset(ps, 0, sizeof(*ps));
	gfd = open(GUP_TEST_PATH, O_RDWR);
	if (gfd < 0)
		return -errno;
	kfd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kfd < 0) {
		err = -errno;
		close(gfd);
		return err;
	}
	lseek(kfd, 0, SEEK_END);

	gup.addr = pa;
	gup.size = PG;
	gup.nr_pages_per_call = 1;
	gup.gup_flags = gup_flags;	/* 0: FOLL_GET only, no write, no COW */
	gup.which_pages[0] = 1;		/* 1-based: the first (only) page */
	if (ioctl(gfd, DUMP_USER_PAGES_TEST, &gup)) {
		err = -errno;
		goto out;
	}
	if (gup.size != PG) {		/* GUP did not get the page */
		err = -EFAULT;
		goto out;
	}

	snprintf(marker, sizeof(marker),
		 "---- page #0, starting from user virt addr: 0x%llx",
		 (unsigned long long)pa);
	while (state < 3 && tries < 200) {
		ssize_t n = read(kfd, rec, sizeof(rec) - 1);
		char *msg, *nl;

		if (n < 0) {
			if (errno == EAGAIN) {
				/* printk records are stored synchronously; be patient anyway */
				tries++;
				usleep(5000);
				continue;
			}
			if (errno == EPIPE) {	/* records overwritten: go on */
				tries++;
				continue;
			}
			err = -errno;
			goto out;
		}
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		nl = strchr(msg, '\n');
		if (nl)
			*nl = 0;
		if (state == 0) {
			if (!strcmp(msg, marker))
				state = 1;
			continue;
		}
		parse_dump_line(msg, ps, &state);
	}
	/*
	 * Only a complete record counts: the "page dumped because:" line ends
	 * it, and without it the flags (or the head: line) may be missing.
	 */
	if (state < 3) {
		err = -ENODATA;
		goto out;
	}
	ps->refcount -= 1;	/* gup_test's own FOLL_GET reference */
out:
	close(kfd);
	close(gfd);
	return err;
}

const char *page_state_str(const struct page_state *ps)
{
	static char buf[512];

	if (ps->large)
		snprintf(buf, sizeof(buf),
			 "pfn %#lx refcount %ld mapcount %ld order %d folio_mapcount %ld entire_mapcount %ld nr_pages_mapped %ld pincount %ld%s [%s]",
			 ps->pfn, ps->refcount, ps->mapcount, ps->order,
			 ps->folio_mapcount, ps->entire_mapcount,
			 ps->nr_pages_mapped, ps->pincount, ps->memcg ? " memcg" : "", ps->flags);
	else
		snprintf(buf, sizeof(buf), "pfn %#lx refcount %ld mapcount %ld order 0%s [%s]",
			 ps->pfn, ps->refcount, ps->mapcount, ps->memcg ? " memcg" : "", ps->flags);
	return buf;
}

static sigjmp_buf probe_env;
static volatile void *probe_addr;
static volatile int probe_sig;

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	probe_sig = sig;
	probe_addr = si->si_addr;
	siglongjmp(probe_env, 1);
}

static int probe(volatile char *addr, bool write, char wval, char *rval, void **fault_addr)
{
	struct sigaction sa = { 0 }, obus, osegv;
	int ret = 0;

	sa.sa_sigaction = probe_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	probe_sig = 0;
	probe_addr = NULL;
	if (sigsetjmp(probe_env, 1) == 0) {
		if (write)
			*addr = wval;
		else if (rval)
			*rval = *addr;
		else
			(void)*addr;
	} else {
		ret = probe_sig;
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	if (fault_addr)
		*fault_addr = (void *)probe_addr;
	return ret;
}

int probe_read(const volatile char *addr, char *val, void **fault_addr)
{
	return probe((volatile char *)addr, false, 0, val, fault_addr);
}

int probe_write(volatile char *addr, char val, void **fault_addr)
{
	return probe(addr, true, val, NULL, fault_addr);
}

long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int wait_child_ms(pid_t pid, int ms, int *status)
{
	long end = now_ms() + ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 1;
		if (r < 0)
			return -1;
		if (now_ms() >= end)
			return 0;
		usleep(10000);
	}
}

int kill_child_ms(pid_t pid, int ms, int *status)
{
	if (pid <= 0)
		return -1;
	kill(pid, SIGKILL);
	return wait_child_ms(pid, ms, status);
}

const char *const dax_pin_waits[] = {
	"dax_break_layout", "dax_wait_page_idle", "dax_break_layout_final",
	"xfs_wait_dax_page", "ext4_wait_dax_page", "fuse_wait_dax_page",
	"xfs_break_dax_layouts", "ext4_break_layouts", "fuse_dax_break_layouts",
	NULL
};

/* Sleeping on one of these is waiting for a lock, not for the pin. */
static const char *const lock_waits[] = {
	"rwsem_down_read_slowpath", "rwsem_down_write_slowpath", "down_read",
	"down_write", "__mutex_lock", "mutex_lock", "__down", "percpu_rwsem_wait",
	"__percpu_down_read", NULL
};

static bool name_in(const char *name, const char *const set[])
{
	for (; *set; set++)
		if (!strcmp(name, *set))
			return true;
	return false;
}

/* Read a small /proc file into buf (NUL-terminated): length or -1. */
static ssize_t read_proc(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/*
 * The first frame of a /proc/PID/stack text ("[<0>] name+0x12/0x34" per
 * line) that is in fns, unless a lock's slow path comes first: its name, or
 * NULL.  The top frames go to top (for the log).
 */
static const char *stack_hit(const char *stack, const char *const fns[], char *top, size_t toplen)
{
	static char name[128];
	const char *l = stack;
	int frames = 0;

	top[0] = 0;
	while (l && *l && frames < 24) {
		const char *s = strstr(l, "] ");
		size_t n;

		if (!s)
			break;
		s += 2;
		n = strcspn(s, "+\n ");
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, s, n);
		name[n] = 0;
		if (frames < 4 && strlen(top) + n + 2 < toplen) {
			strcat(top, frames ? " " : "");
			strcat(top, name);
		}
		frames++;
		if (name_in(name, fns))
			return name;
		if (name_in(name, lock_waits))
			return NULL;
		l = strchr(s, '\n');
		if (l)
			l++;
	}
	return NULL;
}

/*
 * /proc/PID/stat of pid: its state letter and utime + stime (clock ticks).
 * 0 and -1 if the task is gone.
 */
static char task_stat(pid_t pid, long *ticks)
{
	char path[64], stat[1024], *p;
	unsigned long ut, st;

	*ticks = -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_proc(path, stat, sizeof(stat)) < 0 || !(p = strrchr(stat, ')')) ||
	    strlen(p) < 3)
		return 0;
	/* after ")": state(3) ppid ... utime(14) stime(15) */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &ut, &st) == 2)
		*ticks = ut + st;
	return p[2];
}

char task_state(pid_t pid)
{
	long ticks;

	return task_stat(pid, &ticks);
}

long task_cpu_ticks(pid_t pid)
{
	long ticks;

	task_stat(pid, &ticks);
	return ticks;
}

void drain_pipe(int fd)
{
	char buf[4096];

	if (fd < 0)
		return;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

unsigned long long fs_free_bytes(const char *dir)
{
	struct statvfs st;

	sync();
	if (statvfs(dir, &st))
		return 0;
	return (unsigned long long)st.f_bfree * st.f_frsize;
}

unsigned long long fs_free_wait(const char *dir, unsigned long long want, int ms)
{
	long end = now_ms() + ms;
	unsigned long long f;

	for (;;) {
		f = fs_free_bytes(dir);
		if (f >= want || now_ms() > end)
			return f;
		usleep(50000);
	}
}

int task_sleeps_in(pid_t tid, const char *const fns[], int ms, char *seen, size_t seenlen)
{
	long end = now_ms() + ms;
	char path[64], wchan[128], stack[8192], top[160];

	for (;;) {
		const char *hit = NULL;
		char state;
		bool have_stack;

		state = task_state(tid);
		if (!state) {
			snprintf(seen, seenlen, "task %d is gone", (int)tid);
			return -1;
		}
		if (state == 'Z' || state == 'X') {
			snprintf(seen, seenlen, "task %d has exited", (int)tid);
			return -1;
		}
		snprintf(path, sizeof(path), "/proc/%d/wchan", (int)tid);
		if (read_proc(path, wchan, sizeof(wchan)) < 0)
			snprintf(wchan, sizeof(wchan), "?");
		snprintf(path, sizeof(path), "/proc/%d/stack", (int)tid);
		have_stack = read_proc(path, stack, sizeof(stack)) > 0;
		if (!have_stack)
			stack[0] = 0;
		if (state == 'S' || state == 'D') {
			if (have_stack)
				hit = stack_hit(stack, fns, top, sizeof(top));
			else if (name_in(wchan, fns))
				hit = wchan;
		}
		if (!have_stack)
			snprintf(top, sizeof(top), "(no /proc/%d/stack)", (int)tid);
		snprintf(seen, seenlen, "task %d state %c%s%s, wchan %s, stack %s", (int)tid, state,
			 hit ? " in " : "", hit ? hit : "", wchan, top);
		if (hit)
			return 1;
		if (now_ms() >= end)
			return 0;
		usleep(20000);
	}
}

bool dax_in_rig(void)
{
	const char *r = getenv("DAX_RIG");

	return r && !strcmp(r, "1");
}

pid_t fork_child(void)
{
	pid_t ppid = getpid(), pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != ppid)	/* parent already gone */
			_exit(99);
	}
	return pid;
}

bool kernel_warned(void)
{
	unsigned long t = 0;
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");

	if (f) {
		if (fscanf(f, "%lu", &t) != 1)
			t = 0;
		fclose(f);
	}
	return t & (1UL << 9);
}

void dax_file_init(struct dax_file *f)
{
	f->fd = -1;
	f->p = MAP_FAILED;
	f->len = 0;
	f->buf = NULL;
}

void dax_file_teardown(struct dax_file *f)
{
	if (f->p != MAP_FAILED)
		munmap(f->p, f->len);
	if (f->fd >= 0)
		close(f->fd);
	free(f->buf);
	dax_file_init(f);
}

int dax_sh(const char *fmt, ...)
{
	char *cmd, *full;
	va_list ap;
	int st, n;

	va_start(ap, fmt);
	n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	printf("# + %s\n", cmd);
	fflush(stdout);
	n = asprintf(&full, "out=$( { %s ; } 2>&1 ); rc=$?; "
		     "[ -z \"$out\" ] || printf '%%s\\n' \"$out\" | sed 's/^/# /'; exit $rc",
		     cmd);
	free(cmd);
	if (n < 0)
		return -1;
	st = system(full);
	free(full);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

int child_status_ms(pid_t pid, int ms)
{
	int status;

	if (pid < 0)
		return -1;
	if (wait_child_ms(pid, ms, &status) != 1) {
		kill_child_ms(pid, 5000, NULL);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run_cmd_ms(const char *cmd, int ms)
{
	pid_t pid = fork_child();

	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return child_status_ms(pid, ms);
}

int fs_check(const char *fstype, const char *dev, int ms)
{
	char cmd[PATH_MAX + 64];

	if (!strcmp(fstype, "xfs"))
		snprintf(cmd, sizeof(cmd), "xfs_repair -n %s >/dev/null 2>&1", dev);
	else
		snprintf(cmd, sizeof(cmd), "e2fsck -fn %s >/dev/null 2>&1", dev);
	return ms > 0 ? run_cmd_ms(cmd, ms) : system(cmd);
}

int mount_of(const char *dir, char *dev, size_t devlen, char *type, size_t typelen)
{
	char line[2048], mnt[PATH_MAX];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		char t[64], src[PATH_MAX];

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 || strcmp(mnt, dir))
			continue;
		if (sscanf(sep + 3, "%63s %4095s", t, src) != 2)
			continue;
		if (dev)
			snprintf(dev, devlen, "%s", src);
		if (type)
			snprintf(type, typelen, "%s", t);
		ret = 0;	/* the last match is the visible mount */
	}
	fclose(f);
	return ret;
}

long proc_kb(const char *path, const char *field)
{
	FILE *f = fopen(path, "r");
	size_t n = strlen(field);
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

long long file_phys(int fd, size_t n)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent fe[1];
	} f = { 0 };

	f.fm.fm_length = ~0ULL;
	f.fm.fm_flags = FIEMAP_FLAG_SYNC;
	f.fm.fm_extent_count = 1;
	if (ioctl(fd, FS_IOC_FIEMAP, &f.fm) || f.fm.fm_mapped_extents < 1 ||
	    f.fe[0].fe_logical != 0 || f.fe[0].fe_length < n)
		return -1;
	return f.fe[0].fe_physical;
}

const struct lt_mode lt_modes[NR_LT_MODES] = {
	{ "GUP R/O", 0 },
	{ "GUP R/W", PIN_LONGTERM_TEST_FLAG_USE_WRITE },
	{ "GUP-fast R/O", PIN_LONGTERM_TEST_FLAG_USE_FAST },
	{ "GUP-fast R/W", PIN_LONGTERM_TEST_FLAG_USE_FAST | PIN_LONGTERM_TEST_FLAG_USE_WRITE },
};

void sync_send(int fd)
{
	char c = 'x';

	if (write(fd, &c, 1) != 1)
		_exit(100);
}

void sync_wait(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		_exit(101);
}

void pipe_close(int pfd[2])
{
	for (int i = 0; i < 2; i++) {
		if (pfd[i] >= 0)
			close(pfd[i]);
		pfd[i] = -1;
	}
}

int reflink_fd(int dst, int src)
{
	return ioctl(dst, FICLONE, src);
}

pid_t start_pin_op(int fd, bool truncate, int pfd[2])
{
	pid_t pid = fork_child();

	if (pid)
		return pid;
	close(pfd[0]);
	close(pfd[1]);
	if (truncate)
		_exit(ftruncate(fd, 0) ? errno : 0);
	_exit(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, PMDSZ) ? errno : 0);
}
