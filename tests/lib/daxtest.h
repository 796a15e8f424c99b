/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the filesystem-DAX tests: files on the DAX mounts, 2 MiB
 * aligned mappings, smaps/pagemap readers, fault counting, page
 * refcount/mapcount through gup_test's dump_page(), signal probes.
 *
 * Guest contract: $DAX_XFS and $DAX_EXT4 name directories on xfs and ext4
 * mounted -o dax=always; debugfs at /sys/kernel/debug, tracefs at
 * /sys/kernel/tracing; the tests run as root.
 */
#ifndef DAXTEST_H
#define DAXTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KiB	1024UL
#define MiB	(1024UL * 1024UL)
#define PG	4096UL			/* base page size on x86_64 */
#define PMDSZ	(2UL * MiB)		/* PMD mapping size on x86_64 */

/* mmap() flags of 6.12 that older libc headers lack */
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x080000
#endif

enum dax_fs { DAX_FS_XFS, DAX_FS_EXT4 };

/* Mapping modes used by the fixture variants. */
struct dax_mode {
	enum dax_fs fs;
	bool pmd;	/* 2 MiB aligned mapping that may use PMDs; else MADV_NOHUGEPAGE */
	bool shared;	/* MAP_SHARED, else MAP_PRIVATE */
};

/*
 * Adds the eight {xfs,ext4} x {4k,2m} x {shared,private} variants to a
 * fixture whose FIXTURE_VARIANT() has a "struct dax_mode m;" member.
 */
#define DAX_ADD_VARIANT(fix, name, f, p, s) \
	FIXTURE_VARIANT_ADD(fix, name) { .m = { .fs = f, .pmd = p, .shared = s } }
#define DAX_ADD_ALL_VARIANTS(fix) \
	DAX_ADD_VARIANT(fix, xfs_4k_shared, DAX_FS_XFS, false, true); \
	DAX_ADD_VARIANT(fix, xfs_4k_private, DAX_FS_XFS, false, false); \
	DAX_ADD_VARIANT(fix, xfs_2m_shared, DAX_FS_XFS, true, true); \
	DAX_ADD_VARIANT(fix, xfs_2m_private, DAX_FS_XFS, true, false); \
	DAX_ADD_VARIANT(fix, ext4_4k_shared, DAX_FS_EXT4, false, true); \
	DAX_ADD_VARIANT(fix, ext4_4k_private, DAX_FS_EXT4, false, false); \
	DAX_ADD_VARIANT(fix, ext4_2m_shared, DAX_FS_EXT4, true, true); \
	DAX_ADD_VARIANT(fix, ext4_2m_private, DAX_FS_EXT4, true, false)
#define DAX_ADD_SHARED_VARIANTS(fix) \
	DAX_ADD_VARIANT(fix, xfs_4k_shared, DAX_FS_XFS, false, true); \
	DAX_ADD_VARIANT(fix, xfs_2m_shared, DAX_FS_XFS, true, true); \
	DAX_ADD_VARIANT(fix, ext4_4k_shared, DAX_FS_EXT4, false, true); \
	DAX_ADD_VARIANT(fix, ext4_2m_shared, DAX_FS_EXT4, true, true)
#define DAX_ADD_FS_VARIANTS(fix) \
	DAX_ADD_VARIANT(fix, xfs, DAX_FS_XFS, false, true); \
	DAX_ADD_VARIANT(fix, ext4, DAX_FS_EXT4, false, true)

const char *dax_fs_name(enum dax_fs fs);
/* Directory of the DAX mount for fs ($DAX_XFS / $DAX_EXT4), NULL if unset. */
const char *dax_dir(enum dax_fs fs);

/* dax_create() flags */
#define DAX_ALLOC	0x1	/* fallocate() the whole size in 2 MiB aligned extents */
#define DAX_FILL	0x2	/* write pattern(seed) with pwrite(): written extents */
/*
 * Create an unlinked regular file of size bytes in dir (O_RDWR).  With
 * DAX_FILL the content is pattern_fill(seed).  Returns the fd or -1 (errno).
 */
int dax_create(const char *dir, size_t size, unsigned int flags, uint32_t seed);
/*
 * The same, but the file keeps its name (returned in path): the caller
 * unlinks it.  For tests where the inode must outlive its last open file
 * (an unlinked inode is evicted at the last close).
 */
int dax_create_path(const char *dir, size_t size, unsigned int flags, uint32_t seed,
		    char *path, size_t pathlen);
/*
 * FIEMAP: every full 2 MiB chunk of [0, size) is allocated at a 2 MiB
 * aligned physical offset, contiguously (so it can be PMD-mapped).  True when
 * FIEMAP is not supported.
 */
bool pmd_aligned_extents(int fd, size_t size);
/* FIEMAP: physical byte address of file offset off, -1 if unmapped or unknown. */
long long fiemap_phys(int fd, off_t off);
struct fiemap_extent;
/* The extent FIEMAP reports at off (FIEMAP_FLAG_SYNC): 0, or -1 if none. */
int fiemap_extent(int fd, off_t off, struct fiemap_extent *ext);
/* 1 if the extent at off is shared (reflink), 0 if not, -1 if none. */
int fiemap_shared(int fd, off_t off);
/* Set an xfs copy-on-write extent size hint of bytes: 0 or -1 (errno). */
int set_cowextsize(int fd, unsigned int bytes);
/* FICLONE: make all of the file at dst share src's blocks (reflink): 0 or -1 (errno). */
int reflink_fd(int dst, int src);
/* Reopen an fd's file as a new open file description (works when unlinked). */
int reopen_fd(int fd, int oflags);
/* statx(STATX_ATTR_DAX) of an fd: 1 DAX, 0 not, -1 error. */
int fd_is_dax(int fd);

/*
 * mmap len bytes of fd at off at a 2 MiB aligned address (plus shift bytes).
 * The caller's mode decides MAP_SHARED/MAP_PRIVATE; with !pmd the range gets
 * MADV_NOHUGEPAGE so that only PTEs are used.
 */
void *map_aligned(size_t len, int prot, int flags, int fd, off_t off, size_t shift);
void *dax_map(const struct dax_mode *m, int fd, off_t off, size_t len);

/*
 * The file most fixtures test (cf. the backing types of mm/cow.c): one
 * unlinked file on the variant's DAX mount, optionally mapped as the
 * variant's mode says and with a buffer of its size for read(2) checks.
 * dax_file_setup() (below, for harness programs) makes it,
 * dax_file_teardown() undoes what was made.
 */
struct dax_file {
	int fd;		/* -1 if none */
	char *p;	/* mapping of len bytes of the file, MAP_FAILED if none */
	size_t len;	/* the file's size; the length of p unless a test changes it */
	char *buf;	/* page aligned, len bytes; NULL if none */
};
/* Nothing made yet: what a fixture has before its setup runs. */
void dax_file_init(struct dax_file *f);
/* munmap, close and free what is there; f is dax_file_init() again. */
void dax_file_teardown(struct dax_file *f);

/* Deterministic content: 32-bit words depending on seed and file offset. */
void pattern_fill(void *buf, size_t len, uint32_t seed, size_t off);
/* Offset of the first byte that differs from the pattern, or -1 if none. */
long pattern_check(const void *buf, size_t len, uint32_t seed, size_t off);
/* Offset of the first non-zero byte, or -1 if all zero. */
long zero_check(const void *buf, size_t len);
/* Touch one byte per page (read or write): faults every page. */
void touch_range(void *p, size_t len, bool write);

/* smaps field (in kB) of the VMA containing addr; -1 if not found. */
long smaps_kb(const void *addr, const char *field);
/* Text of an smaps field (after "Field:" and blanks) of addr's VMA: 0 or -1. */
int smaps_field(const void *addr, const char *field, char *out, size_t outlen);
/* Whether the VmFlags line of addr's VMA has the two-letter flag (e.g. "sf"). */
bool smaps_has_vmflag(const void *addr, const char *flag);
/* pagemap entry of addr: returns PFN, 0 if not present; -1 on error. */
long long pagemap_pfn(const void *addr);
/* minor + major faults of this process so far. */
long fault_count(void);

/*
 * PMD fault tracing through the fs_dax:dax_pmd_fault_done tracepoint.
 * pmd_trace_start() clears the trace buffer and enables the event (returns
 * -1 if tracefs or the event is not there), pmd_trace_count() counts events
 * of this process in [start, end) whose result contains "NOPAGE" (the PMD
 * was installed) and, if fallbacks is not NULL, those with "FALLBACK".
 */
int pmd_trace_start(void);
int pmd_trace_count(const void *start, size_t len, int *fallbacks);
void pmd_trace_stop(void);

/*
 * State of the struct page mapped at addr, as printed by dump_page() when
 * gup_test's DUMP_USER_PAGES_TEST takes a reference on it (FOLL_GET, no
 * FOLL_WRITE).  refcount has the one reference gup_test holds while dumping
 * SUBTRACTED, so it is the count the page has outside this probe.  mapcount
 * is the per-page mapcount (_mapcount + 1); for a large folio the "head:"
 * line gives order, folio mapcount, entire (PMD) mapcount, pages mapped by
 * PTEs and pincount.
 */
struct page_state {
	long refcount;		/* dump's refcount - 1 (gup_test's reference) */
	long mapcount;
	bool mapping;		/* ->mapping is not NULL (dump prints a hashed pointer) */
	unsigned long index;	/* ->index (for FS DAX with series: share count if shared) */
	unsigned long pfn;
	bool large;
	int order;		/* 0 unless large */
	long folio_mapcount;
	long entire_mapcount;
	long nr_pages_mapped;
	long pincount;
	bool memcg;		/* a "memcg:" line was printed (memcg_data set) */
	char flags[256];	/* "flags: ..." text */
};
/*
 * 0 on success; -ENOENT without gup_test; -ENODATA when the complete dump
 * (up to its "page dumped because:" line) did not show up in /dev/kmsg;
 * other -errno on failure.  On any error *ps is not valid.
 */
int page_state(const void *addr, struct page_state *ps);
/* The same with extra FOLL_* flags for gup_test (e.g. FOLL_PCI_P2PDMA). */
int page_state_flags(const void *addr, unsigned int gup_flags, struct page_state *ps);
/* Human readable one-liner for logs. */
const char *page_state_str(const struct page_state *ps);

/*
 * Access one byte at addr with SIGBUS/SIGSEGV caught.  Returns 0 when the
 * access worked (read value in *val if not NULL), else the signal number;
 * *fault_addr gets the faulting address from siginfo.
 */
int probe_read(const volatile char *addr, char *val, void **fault_addr);
int probe_write(volatile char *addr, char val, void **fault_addr);

/*
 * fork() whose child gets SIGKILL when the parent dies (PR_SET_PDEATHSIG), so
 * a test that fails half-way never leaves a process holding a mapping (the
 * runner unmounts the DAX filesystems after each program).
 */
pid_t fork_child(void);
/* Wait for child pid for at most ms milliseconds: 1 exited (*status), 0 not. */
int wait_child_ms(pid_t pid, int ms, int *status);
/*
 * SIGKILL child pid and reap it, waiting at most ms milliseconds: 1 reaped
 * (*status if not NULL), 0 it did not die in time (a task in an
 * uninterruptible sleep), -1 error.  For teardowns, which must not hang.
 */
int kill_child_ms(pid_t pid, int ms, int *status);

/*
 * Kernel functions in which a task sleeps while it waits for a pinned FS DAX
 * page to become idle, on stock 6.12 and with the series (NULL-terminated):
 * the layout-break waits of truncate, hole punch and the like
 * (dax_break_layout(), dax_wait_page_idle() and the filesystems' callbacks
 * that drop their lock and schedule(): xfs_wait_dax_page, ext4_wait_dax_page,
 * fuse_wait_dax_page; on stock the wait loops of xfs_break_dax_layouts,
 * ext4_break_layouts, fuse_dax_break_layouts), and the eviction wait of the
 * series before it held files instead (dax_break_layout_final), so that a
 * run on that version says where it sleeps.
 * Nothing else: a task asleep anywhere else is not waiting for the pin.
 */
extern const char *const dax_pin_waits[];
/*
 * Wait at most ms milliseconds until task tid sleeps (state S or D in
 * /proc/TID/stat) in one of fns: the first frame of /proc/TID/stack
 * (CONFIG_STACKTRACE) that is one of fns, with no lock's slow path
 * (rwsem, mutex) above it, or /proc/TID/wchan (CONFIG_KALLSYMS) when the
 * stack cannot be read.  Returns 1 (seen: "D in dax_break_layout_final,
 * wchan ..."), 0 if that did not happen in time, -1 if the task ended
 * (zombie or gone) first; seen then describes the last state observed.
 */
int task_sleeps_in(pid_t tid, const char *const fns[], int ms, char *seen, size_t seenlen);
#define PIN_WAIT_MS	20000	/* bound for task_sleeps_in() of a pin wait */
/* State letter of /proc/PID/stat (R, S, D, Z, ...), 0 if the task is gone. */
char task_state(pid_t pid);
/* utime + stime of a task in clock ticks, -1 if it is gone. */
long task_cpu_ticks(pid_t pid);

/*
 * The layout break of the pin tests, in a child (fork_child()) that first
 * closes both ends of pfd (the pipe holding the pin must not live on in
 * it): ftruncate(fd, 0) if truncate, else punch a hole over the first
 * 2 MiB.  The child's exit status is 0 or the errno.  Returns its pid.
 */
pid_t start_pin_op(int fd, bool truncate, int pfd[2]);

/* Read a pipe empty without blocking (fd < 0: nothing): its pages go. */
void drain_pipe(int fd);
/* Free bytes of the filesystem at dir (statvfs, after sync()); 0 on error. */
unsigned long long fs_free_bytes(const char *dir);
/* Wait at most ms for fs_free_bytes(dir) >= want; returns the last value. */
unsigned long long fs_free_wait(const char *dir, unsigned long long want, int ms);

/*
 * Rig mode: guest/job-check.sh exports $DAX_RIG=1.  Inside the rig
 * everything the rig provides (DAX mounts, gup_test, ndctl, the device-DAX
 * region, 2 MiB aligned extents, reflink, ...) is required: its absence is a
 * broken rig, and a failure, not a skip.  Run by hand, the same absence is a
 * skip as before.
 */
bool dax_in_rig(void);

long now_ms(void);
/* Whether the kernel has warned since boot (the "W" taint, bit 9 of tainted). */
bool kernel_warned(void);

/*
 * Run the command made from fmt with sh -c; its output goes to stdout as TAP
 * comments ("# ..."), after the command itself ("# + cmd").  Returns its
 * exit status, -1 if it could not be run or did not exit.
 */
int __attribute__((format(printf, 1, 2))) dax_sh(const char *fmt, ...);
/*
 * The watchdog of an operation run in a child (fork_child(); pid < 0: the
 * fork failed): wait at most ms milliseconds for it, and return its exit
 * status, or -1 if it did not exit normally or in time (then it is killed).
 */
int child_status_ms(pid_t pid, int ms);
/* Run cmd with sh -c in a child, under child_status_ms(). */
int run_cmd_ms(const char *cmd, int ms);
/*
 * Read-only check of the unmounted filesystem of type fstype on dev
 * (xfs_repair -n, else e2fsck -fn; output discarded): 0 if clean.  With ms
 * > 0 bounded by run_cmd_ms(), else unbounded (system()).
 */
int fs_check(const char *fstype, const char *dev, int ms);
/*
 * Source and type of the filesystem mounted at dir (a canonical path, as
 * /proc/self/mountinfo shows mount points); the last, visible mount if
 * several are stacked.  dev and type may be NULL.  0, or -1 if dir is no
 * mount point.
 */
int mount_of(const char *dir, char *dev, size_t devlen, char *type, size_t typelen);
/* The "Field:" number of a /proc file such as /proc/meminfo (kB there); -1 if none. */
long proc_kb(const char *path, const char *field);
/* Physical byte offset of fd's first n bytes if FIEMAP says they are one extent, else -1. */
long long file_phys(int fd, size_t n);

/*
 * The four ways gup_test's PIN_LONGTERM_TEST_START pins (flags are its
 * PIN_LONGTERM_TEST_FLAG_*), as gup_longterm.c tries them.
 */
struct lt_mode {
	const char *name;
	unsigned int flags;
};
#define NR_LT_MODES	4
extern const struct lt_mode lt_modes[NR_LT_MODES];

/*
 * Lockstep of a parent and a forked child over a pipe: send one byte, wait
 * for one.  Used in children: a broken pipe ends the process (_exit(100) on
 * send, _exit(101) on wait), which the parent sees in the exit status.
 */
void sync_send(int fd);
void sync_wait(int fd);
/* Close the ends of a pipe that are open (>= 0): both are -1 afterwards. */
void pipe_close(int pfd[2]);

/*
 * For programs built on kselftest_harness.h (included first): fixture setup
 * helpers and checks that assert.
 */
#ifdef __KSELFTEST_HARNESS_H
#include <sys/stat.h>

/*
 * RIG_REQUIRE(cond, statement, fmt, ...): like the harness's SKIP(statement,
 * fmt, ...) when cond is false, except in rig mode, where the test fails
 * with "rig broken: <fmt>" (the reason on its "not ok" line as well).
 */
#define RIG_REQUIRE(cond, statement, fmt, ...) do { \
	if (cond) \
		break; \
	if (!dax_in_rig()) { \
		SKIP(statement, fmt, ##__VA_ARGS__); \
	} else { \
		snprintf(_metadata->results->reason, \
			 sizeof(_metadata->results->reason), \
			 "rig broken: " fmt, ##__VA_ARGS__); \
		TH_LOG("%s", _metadata->results->reason); \
		_metadata->exit_code = KSFT_FAIL; \
		_metadata->trigger = 0; \
		statement; \
	} \
} while (0)
/* The rig's gup_test: page_state() and every refcount test need it. */
#define GUP_TEST_FILE_PATH	"/sys/kernel/debug/gup_test"
#define RIG_REQUIRE_GUP_TEST(statement) \
	RIG_REQUIRE(!access(GUP_TEST_FILE_PATH, R_OK | W_OK), statement, \
		    "no " GUP_TEST_FILE_PATH " (CONFIG_GUP_TEST, debugfs)")

/* dax_file_setup() flags, besides dax_create()'s DAX_ALLOC and DAX_FILL */
#define DAX_MAP		0x10	/* f->p: the whole file mapped with dax_map(m) */
#define DAX_BUF		0x20	/* f->buf */
#define DAX_RIG		0x40	/* no DAX mount: RIG_REQUIRE(), not only SKIP() */
#define DAX_GUP		0x80	/* RIG_REQUIRE_GUP_TEST() as well */

/*
 * Fixture setup of a struct dax_file: size bytes on m->fs's DAX mount made
 * with dax_create(flags & (DAX_ALLOC | DAX_FILL), seed), checked to be DAX,
 * then what DAX_MAP and DAX_BUF ask for.  Returns the mount's directory, or
 * NULL when the test was skipped (the setup returns then); asserts the rest.
 */
static inline const char *dax_file_setup(struct __test_metadata *_metadata, struct dax_file *f,
					 const struct dax_mode *m, size_t size,
					 unsigned int flags, uint32_t seed)
{
	const char *dir = dax_dir(m->fs);

	dax_file_init(f);
	f->len = size;
	if (flags & DAX_RIG)
		RIG_REQUIRE(dir, return NULL, "no %s DAX mount ($DAX_XFS/$DAX_EXT4)",
			    dax_fs_name(m->fs));
	else if (!dir)
		SKIP(return NULL, "no %s DAX mount ($DAX_XFS/$DAX_EXT4)", dax_fs_name(m->fs));
	if (flags & DAX_GUP)
		RIG_REQUIRE_GUP_TEST(return NULL);
	f->fd = dax_create(dir, size, flags & (DAX_ALLOC | DAX_FILL), seed);
	ASSERT_LE(0, f->fd) TH_LOG("create in %s: %s", dir, strerror(errno));
	ASSERT_EQ(1, fd_is_dax(f->fd)) TH_LOG("%s file is not DAX", dir);
	if (flags & DAX_MAP) {
		f->p = dax_map(m, f->fd, 0, size);
		ASSERT_NE(MAP_FAILED, f->p) TH_LOG("mmap: %s", strerror(errno));
	}
	/* page aligned: a buffer for O_DIRECT too */
	if (flags & DAX_BUF)
		ASSERT_EQ(0, posix_memalign((void **)&f->buf, PG, size));
	return dir;
}

/*
 * The fixture of a program whose tests need one struct dax_file and nothing
 * else: self->f, variant->m (added with DAX_ADD_*_VARIANTS()), teardown
 * dax_file_teardown().  DAX_FILE_FIXTURE_SETUP() is its setup where
 * dax_file_setup() is all there is to it; else the program writes its own
 * FIXTURE_SETUP() around that.
 */
#define DAX_FILE_FIXTURE(fix) \
	FIXTURE(fix) { \
		struct dax_file f; \
	}; \
	FIXTURE_VARIANT(fix) { \
		struct dax_mode m; \
	}; \
	FIXTURE_TEARDOWN(fix) \
	{ \
		dax_file_teardown(&self->f); \
	}
#define DAX_FILE_FIXTURE_SETUP(fix, size, flags, seed) \
	FIXTURE_SETUP(fix) \
	{ \
		dax_file_setup(_metadata, &self->f, &variant->m, size, flags, seed); \
	}

/* read(2) of [off, off + len) of fd into buf has pattern(seed). */
static inline void expect_file_pattern(struct __test_metadata *_metadata, int fd, char *buf,
				       size_t off, size_t len, uint32_t seed)
{
	ASSERT_EQ((ssize_t)len, pread(fd, buf, len, off));
	EXPECT_EQ(-1, pattern_check(buf, len, seed, off));
}

/*
 * Fixture setup of dst as a reflink copy of src: a new file in dir that
 * FICLONE (xfs with reflink=1) makes share all of src's blocks, checked to
 * be DAX, mapped if flags has DAX_MAP.
 */
static inline void dax_file_clone(struct __test_metadata *_metadata, struct dax_file *dst,
				  const struct dax_file *src, const char *dir,
				  const struct dax_mode *m, unsigned int flags)
{
	dax_file_init(dst);
	dst->len = src->len;
	dst->fd = dax_create(dir, 0, 0, 0);
	ASSERT_LE(0, dst->fd) TH_LOG("create in %s: %s", dir, strerror(errno));
	ASSERT_EQ(0, reflink_fd(dst->fd, src->fd))
		TH_LOG("FICLONE: %s (xfs made with reflink=1?)", strerror(errno));
	ASSERT_EQ(1, fd_is_dax(dst->fd)) TH_LOG("%s clone is not DAX", dir);
	if (flags & DAX_MAP) {
		dst->p = dax_map(m, dst->fd, 0, dst->len);
		ASSERT_NE(MAP_FAILED, dst->p) TH_LOG("mmap: %s", strerror(errno));
	}
}

/*
 * The end of a start_pin_op() child *pid on f, a file of pattern 1 mapped
 * at f->p: it ends within ms (*pid is 0 then) and succeeded, and the file
 * is truncated to 0 or has the hole over its first 2 MiB.  since says what
 * let it go ("after the pin went") at t0 (now_ms()).
 */
static inline void expect_pin_op_done(struct __test_metadata *_metadata, pid_t *pid,
				      const struct dax_file *f, bool truncate, int ms,
				      const char *since, long t0)
{
	const char *what = truncate ? "truncate" : "punch";
	int status = 0, done;
	struct stat st;

	done = wait_child_ms(*pid, ms, &status);
	ASSERT_EQ(1, done) TH_LOG("%s still blocked %d ms %s", what, ms, since);
	*pid = 0;
	TH_LOG("%s completed %ld ms %s", what, now_ms() - t0, since);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("%s failed: %s", what,
						 strerror(WEXITSTATUS(status)));
	ASSERT_EQ(0, fstat(f->fd, &st));
	if (truncate) {
		EXPECT_EQ(0, st.st_size);
	} else {
		EXPECT_EQ(f->len, st.st_size);
		EXPECT_EQ(-1, zero_check(f->p, PMDSZ));
		EXPECT_EQ(-1, pattern_check(f->p + PMDSZ, PMDSZ, 1, PMDSZ));
	}
}

/* page_state() of addr, asserted to work, logged as "what: <state>". */
static inline void get_page_state(struct __test_metadata *_metadata, const char *what,
				  const void *addr, struct page_state *ps)
{
	int ret = page_state(addr, ps);

	ASSERT_EQ(0, ret) TH_LOG("page_state(%s): %s", what, strerror(-ret));
	TH_LOG("%s: %s", what, page_state_str(ps));
}

/*
 * Teardown of a child a test may have left: SIGKILL and reap it within ms,
 * and log one that would not die (a teardown must not hang on it).
 */
#define REAP_CHILD(pid, ms, what) do { \
	if ((pid) > 0 && kill_child_ms(pid, ms, NULL) != 1) \
		TH_LOG("%s %d did not die", what, (int)(pid)); \
} while (0)
#endif

#endif /* DAXTEST_H */
