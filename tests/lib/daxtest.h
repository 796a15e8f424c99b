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

#ifdef __KSELFTEST_HARNESS_H
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
#endif
long now_ms(void);
/* Whether the kernel has warned since boot (the "W" taint, bit 9 of tainted). */
bool kernel_warned(void);

#endif /* DAXTEST_H */
