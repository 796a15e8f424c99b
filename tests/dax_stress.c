// SPDX-License-Identifier: GPL-2.0
/*
 * dax_stress: several processes abuse DAX files at once, and every byte is
 * checked against a model.
 *
 * Per filesystem variant (xfs with reflink, ext4; both -o dax=always), for
 * $DAX_STRESS_SECONDS seconds (default 20) split into rounds: WORKERS
 * processes each own NFILES named files and run random operations on them:
 *   - writes through MAP_SHARED mappings (PTE-only and 2 MiB aligned), with
 *     and without msync, and pwrite(2);
 *   - truncate (shrink and grow), punch hole, zero range, collapse range and
 *     insert range; on xfs FICLONERANGE between its files and unshare;
 *   - fork with a MAP_SHARED mapping (the child writes) and with a
 *     MAP_PRIVATE one (the child's copy-on-write must not reach the file);
 *   - mremap of a faulted mapping (grow and move);
 *   - pins: vmsplice of mapped pages into a pipe while a child punches the
 *     range (the pipe must give back the data of the time of the vmsplice);
 *     O_DIRECT writes out of and reads into a DAX mapping through a loop
 *     device (GUP pins held while the loop worker copies), racing a hole
 *     punch of the same range in another thread; process_vm_readv of the
 *     mapping.
 * The model of every file lives in shared memory.  Each worker checks its
 * files with pread(2) as it goes; between rounds the workers stop, the
 * filesystem is unmounted and mounted again and the parent checks every
 * file, through read(2) and through a mapping.  Data written by one worker
 * (including what a loop device wrote through a pin) showing up in another
 * worker's file is a mismatch like any other.
 *
 * A kernel warning (the "W" taint appearing) fails the worker that sees it
 * first, naming its last operation.  $DAX_STRESS_OPS=op1,op2 restricts the
 * operations (names as in op_name[]), to narrow a failure down;
 * $DAX_STRESS_NOPS=N ends each round after N operations per worker instead
 * of after a time slice, so that a worker's sequence does not depend on the
 * host's speed.  On xfs a data mismatch also logs the file's extents
 * (xfs_io bmap).
 *
 * Guest contract: $PMEM_XFS_DEV / $PMEM_EXT4_DEV name the devices of the
 * mounts (guest/setup-pmem.sh); losetup and a tmpfs /tmp for the loop
 * device's backing file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define WORKERS		3
#define NFILES		3
#define MAXSZ		(8 * MiB)
#define LOOPSZ		(WORKERS * 4 * MiB)
#define LOOPSLOT	(4 * MiB)
#define MAXIO		(512 * KiB)
#define STOP_MS		60000	/* a worker ends its operation and stops within this */

enum { OP_MAPWRITE, OP_PWRITE, OP_TRUNC, OP_PUNCH, OP_ZERO, OP_COLLAPSE,
       OP_INSERT, OP_CLONE, OP_UNSHARE, OP_FORK_SHARED, OP_FORK_PRIVATE,
       OP_MREMAP, OP_VMSPLICE, OP_DIO_OUT, OP_DIO_IN, OP_VM_READV, NR_OPS };

static const char * const op_name[NR_OPS] = {
	"mapwrite", "pwrite", "truncate", "punch", "zero", "collapse",
	"insert", "clone", "unshare", "fork_shared", "fork_private",
	"mremap", "vmsplice", "dio_out", "dio_in", "vm_readv",
};

#define LOGN		16	/* operations remembered per file, for failures */

struct oprec {
	int kind;
	size_t off, len, arg;	/* as the operation chose them (0 if unused) */
	size_t size;		/* file size after it, in the model */
};

/* shared between the parent and the workers */
struct model {
	struct oprec log[WORKERS][NFILES][LOGN];
	unsigned int logn[WORKERS][NFILES];
	size_t size[WORKERS][NFILES];
	unsigned char data[WORKERS][NFILES][MAXSZ];
	long ops[WORKERS][NR_OPS];
	char failure[WORKERS][256];
	volatile int stop;
};

static unsigned int op_mask = (1u << NR_OPS) - 1;	/* $DAX_STRESS_OPS */
static long ops_per_round;	/* $DAX_STRESS_NOPS: a fixed count, not time */
static bool warned_before;

struct worker {
	struct model *m;
	int id;
	bool xfs;
	const char *dir;
	int fd[NFILES];
	int loopfd;		/* O_DIRECT loop device */
	unsigned int seed;
	unsigned char *buf;	/* MAXIO + PG, page aligned */
	int last_op;
};

static unsigned int rnd(struct worker *w, unsigned int n)
{
	return n ? (unsigned int)rand_r(&w->seed) % n : 0;
}

/* random page aligned [off, off + len) inside [0, lim), len >= PG */
static void rnd_range(struct worker *w, size_t lim, size_t *off, size_t *len)
{
	size_t pages = lim / PG;

	if (pages == 0) {
		*off = *len = 0;
		return;
	}
	*off = rnd(w, pages) * PG;
	*len = (1 + rnd(w, (pages - *off / PG) < 64 ? pages - *off / PG : 64)) * PG;
	if (*off + *len > lim)
		*len = lim - *off;
}

static void fill_random(struct worker *w, unsigned char *p, size_t len)
{
	uint32_t v = rand_r(&w->seed) | ((uint32_t)w->id << 28);
	size_t i;

	for (i = 0; i < len; i++) {
		if ((i & 63) == 0)
			v = v * 1103515245u + 12345u + (uint32_t)w->id;
		p[i] = (unsigned char)(v >> ((i & 3) * 8)) ^ (unsigned char)i;
	}
}

#define FAIL(w, ...) do { \
	snprintf((w)->m->failure[(w)->id], sizeof((w)->m->failure[0]), __VA_ARGS__); \
	return -1; \
} while (0)

static char *file_path(const char *dir, int id, int f)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/stress-%d-%d", dir, id, f);
	return path;
}

/*
 * On a mismatch: the file's extents to the log (data fork only: XFS answers
 * COW fork queries only in DEBUG builds).
 */
static void dump_layout(struct worker *w, int f, size_t off)
{
	char cmd[4200];

	if (!w->xfs)
		return;
	fprintf(stderr, "# worker %d file %d: mismatch at %zu, extents:\n", w->id, f, off);
	snprintf(cmd, sizeof(cmd), "xfs_io -r -c 'bmap -v' %s | sed 's/^/# /' >&2",
		 file_path(w->dir, w->id, f));
	if (system(cmd))
		fprintf(stderr, "# (xfs_io failed)\n");
}

/* compare the file with the model through pread() */
static int check_file(struct worker *w, int f)
{
	unsigned char *md = w->m->data[w->id][f];
	size_t sz = w->m->size[w->id][f], off, n;
	struct stat st;
	ssize_t r;

	if (fstat(w->fd[f], &st))
		FAIL(w, "fstat: %s", strerror(errno));
	if ((size_t)st.st_size != sz)
		FAIL(w, "file %d: size %lld, model %zu (after %s)", f,
		     (long long)st.st_size, sz, op_name[w->last_op]);
	for (off = 0; off < sz; off += n) {
		n = sz - off < MAXIO ? sz - off : MAXIO;
		r = pread(w->fd[f], w->buf, n, off);
		if (r != (ssize_t)n)
			FAIL(w, "file %d: pread at %zu: %zd %s", f, off, r, strerror(errno));
		if (memcmp(w->buf, md + off, n)) {
			size_t i = 0;

			while (w->buf[i] == md[off + i])
				i++;
			dump_layout(w, f, off + i);
			FAIL(w, "file %d: byte %zu is %#x, model %#x (after %s)", f,
			     off + i, w->buf[i], md[off + i], op_name[w->last_op]);
		}
	}
	return 0;
}

/* map the whole (non-empty) file; PMD-capable or PTE-only at random */
static unsigned char *map_file(struct worker *w, int f, int flags, size_t *len)
{
	struct dax_mode mode = { .pmd = rnd(w, 2), .shared = flags == MAP_SHARED };

	*len = (w->m->size[w->id][f] + PG - 1) & ~(PG - 1);
	if (!*len)
		return NULL;
	return dax_map(&mode, w->fd[f], 0, *len);
}

static int do_fallocate(struct worker *w, int f, int mode, size_t off, size_t len)
{
	if (fallocate(w->fd[f], mode, off, len) == 0)
		return 0;
	/* ext4 refuses collapse/insert on files with some layouts; ENOSPC */
	if (errno == EOPNOTSUPP || errno == EINVAL || errno == ENOSPC)
		return 1;
	FAIL(w, "fallocate(%#x, %zu, %zu) on file %d: %s", mode, off, len, f, strerror(errno));
}

struct punch_arg {
	int fd;
	size_t off, len;
	int err;
};

static void *punch_thread(void *arg)
{
	struct punch_arg *pa = arg;

	pa->err = fallocate(pa->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			    pa->off, pa->len) ? errno : 0;
	return NULL;
}

static int op(struct worker *w, int kind, int f)
{
	unsigned char *md = w->m->data[w->id][f], *p, *q;
	size_t *sz = &w->m->size[w->id][f], off = 0, len = 0, mlen, n = 0;
	struct oprec *rec;
	int g = (f + 1) % NFILES, st, pfd[2];
	struct punch_arg pa;
	struct iovec liov, riov;
	pthread_t th;
	pid_t pid;
	ssize_t r;

	w->last_op = kind;
	switch (kind) {
	case OP_MAPWRITE:
		rnd_range(w, *sz, &off, &len);
		p = map_file(w, f, MAP_SHARED, &mlen);
		if (!p)
			return 0;
		if (p == MAP_FAILED)
			FAIL(w, "mmap: %s", strerror(errno));
		off += rnd(w, PG);	/* unaligned too */
		if (off + len > *sz)
			len = *sz - off;
		fill_random(w, md + off, len);
		memcpy(p + off, md + off, len);
		if (rnd(w, 2) && msync(p, mlen, MS_SYNC))
			FAIL(w, "msync: %s", strerror(errno));
		munmap(p, mlen);
		break;
	case OP_PWRITE:
		off = rnd(w, MAXSZ / PG) * PG + rnd(w, 64);
		len = 1 + rnd(w, MAXIO);
		if (off + len > MAXSZ)
			len = MAXSZ - off;
		fill_random(w, w->buf, len);
		r = pwrite(w->fd[f], w->buf, len, off);
		if (r < 0 && errno == ENOSPC)
			return check_file(w, f);
		if (r != (ssize_t)len)
			FAIL(w, "pwrite: %zd %s", r, strerror(errno));
		if (off > *sz)
			memset(md + *sz, 0, off - *sz);
		memcpy(md + off, w->buf, len);
		if (off + len > *sz)
			*sz = off + len;
		break;
	case OP_TRUNC:
		n = rnd(w, 4) ? rnd(w, MAXSZ / PG + 1) * PG : rnd(w, MAXSZ);
		if (ftruncate(w->fd[f], n))
			FAIL(w, "ftruncate %zu: %s", n, strerror(errno));
		if (n > *sz)
			memset(md + *sz, 0, n - *sz);
		*sz = n;
		break;
	case OP_PUNCH:
	case OP_ZERO:
		rnd_range(w, *sz, &off, &len);
		if (!len)
			return 0;
		st = do_fallocate(w, f, kind == OP_PUNCH ?
				  FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE :
				  FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len);
		if (st < 0)
			return -1;
		if (st == 0)
			memset(md + off, 0, len);
		break;
	case OP_COLLAPSE:
		rnd_range(w, *sz & ~(PG - 1), &off, &len);
		if (!len || off + len >= *sz)
			return 0;
		st = do_fallocate(w, f, FALLOC_FL_COLLAPSE_RANGE, off, len);
		if (st)
			return st < 0 ? -1 : 0;
		memmove(md + off, md + off + len, *sz - off - len);
		*sz -= len;
		break;
	case OP_INSERT:
		rnd_range(w, *sz & ~(PG - 1), &off, &len);
		if (!len || off >= *sz || *sz + len > MAXSZ)
			return 0;
		st = do_fallocate(w, f, FALLOC_FL_INSERT_RANGE, off, len);
		if (st)
			return st < 0 ? -1 : 0;
		memmove(md + off + len, md + off, *sz - off);
		memset(md + off, 0, len);
		*sz += len;
		break;
	case OP_CLONE: {
		struct file_clone_range fcr;
		size_t gsz = w->m->size[w->id][g];

		if (!w->xfs)
			return 0;
		rnd_range(w, gsz & ~(PG - 1), &off, &len);
		if (!len)
			return 0;
		n = rnd(w, (*sz & ~(PG - 1)) / PG + 1) * PG;	/* dest offset */
		if (n + len > MAXSZ)
			return 0;
		fcr = (struct file_clone_range){ .src_fd = w->fd[g], .src_offset = off,
						 .src_length = len, .dest_offset = n };
		if (ioctl(w->fd[f], FICLONERANGE, &fcr)) {
			if (errno == ENOSPC)
				return 0;
			FAIL(w, "FICLONERANGE %zu+%zu -> %zu: %s", off, len, n, strerror(errno));
		}
		if (n > *sz)
			memset(md + *sz, 0, n - *sz);
		memcpy(md + n, w->m->data[w->id][g] + off, len);
		if (n + len > *sz)
			*sz = n + len;
		break;
	}
	case OP_UNSHARE:
		if (!w->xfs)
			return 0;
		rnd_range(w, *sz, &off, &len);
		if (!len)
			return 0;
		st = do_fallocate(w, f, FALLOC_FL_UNSHARE_RANGE, off, len);
		if (st < 0)
			return -1;
		break;
	case OP_FORK_SHARED:
	case OP_FORK_PRIVATE:
		p = map_file(w, f, kind == OP_FORK_SHARED ? MAP_SHARED : MAP_PRIVATE, &mlen);
		if (!p)
			return 0;
		if (p == MAP_FAILED)
			FAIL(w, "mmap: %s", strerror(errno));
		touch_range(p, mlen, false);	/* fault before the fork */
		rnd_range(w, *sz, &off, &len);
		fill_random(w, w->buf, len);
		pid = fork();
		if (pid < 0)
			FAIL(w, "fork: %s", strerror(errno));
		if (pid == 0) {
			memcpy(p + off, w->buf, len);
			_exit(memcmp(p + off, w->buf, len) != 0);
		}
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			FAIL(w, "fork child failed: %#x", st);
		if (kind == OP_FORK_SHARED)
			memcpy(md + off, w->buf, len);
		/* the parent's view is the file's (shared) or still the old data */
		if (memcmp(p, md, *sz))
			FAIL(w, "parent mapping differs from the model after %s child",
			     op_name[kind]);
		munmap(p, mlen);
		break;
	case OP_MREMAP:
		p = map_file(w, f, MAP_SHARED, &mlen);
		if (!p)
			return 0;
		if (p == MAP_FAILED)
			FAIL(w, "mmap: %s", strerror(errno));
		touch_range(p, mlen, rnd(w, 2));
		q = mremap(p, mlen, mlen + PMDSZ, MREMAP_MAYMOVE);
		if (q == MAP_FAILED)
			FAIL(w, "mremap: %s", strerror(errno));
		if (memcmp(q, md, *sz))
			FAIL(w, "mapping differs from the model after mremap");
		rnd_range(w, *sz, &off, &len);
		fill_random(w, md + off, len);
		memcpy(q + off, md + off, len);
		munmap(q, mlen + PMDSZ);
		break;
	case OP_VMSPLICE: {
		unsigned char *snap = w->buf;

		rnd_range(w, *sz & ~(PG - 1), &off, &len);
		if (!len)
			return 0;
		if (len > 16 * PG)	/* the pipe holds 16 buffers */
			len = 16 * PG;
		p = map_file(w, f, MAP_SHARED, &mlen);
		if (p == MAP_FAILED)
			FAIL(w, "mmap: %s", strerror(errno));
		if (pipe(pfd))
			FAIL(w, "pipe: %s", strerror(errno));
		liov = (struct iovec){ .iov_base = p + off, .iov_len = len };
		r = vmsplice(pfd[1], &liov, 1, 0);
		if (r != (ssize_t)len)
			FAIL(w, "vmsplice: %zd %s", r, strerror(errno));
		memcpy(snap, md + off, len);
		munmap(p, mlen);
		pa = (struct punch_arg){ .fd = w->fd[f], .off = off, .len = len };
		pthread_create(&th, NULL, punch_thread, &pa);
		usleep(rnd(w, 20000));
		for (n = 0; n < len; n += r) {
			r = read(pfd[0], w->buf + MAXIO / 2, len - n);
			if (r <= 0)
				FAIL(w, "pipe read: %zd %s", r, strerror(errno));
			if (memcmp(w->buf + MAXIO / 2, snap + n, r))
				FAIL(w, "pipe data is not what was spliced (file %d off %zu)",
				     f, off + n);
		}
		pthread_join(th, NULL);
		close(pfd[0]);
		close(pfd[1]);
		if (pa.err && pa.err != ENOSPC)
			FAIL(w, "punch under a vmsplice pin: %s", strerror(pa.err));
		if (!pa.err)
			memset(md + off, 0, len);
		break;
	}
	case OP_DIO_OUT:
	case OP_DIO_IN: {
		off_t loff = (off_t)w->id * LOOPSLOT;

		rnd_range(w, *sz & ~(PG - 1), &off, &len);
		if (len > MAXIO)
			len = MAXIO;
		if (!len || w->loopfd < 0)
			return 0;
		p = map_file(w, f, MAP_SHARED, &mlen);
		if (p == MAP_FAILED)
			FAIL(w, "mmap: %s", strerror(errno));
		if (kind == OP_DIO_OUT) {
			r = pwrite(w->loopfd, p + off, len, loff);
			if (r != (ssize_t)len)
				FAIL(w, "O_DIRECT write from the mapping: %zd %s", r, strerror(errno));
			r = pread(w->loopfd, w->buf, len, loff);
			if (r != (ssize_t)len || memcmp(w->buf, md + off, len))
				FAIL(w, "O_DIRECT copy of file %d at %zu differs", f, off);
			munmap(p, mlen);
			break;
		}
		/* loop slot <- new data, then read it into the mapping racing a punch */
		fill_random(w, w->buf, len);
		if (pwrite(w->loopfd, w->buf, len, loff) != (ssize_t)len)
			FAIL(w, "O_DIRECT write to the loop device: %s", strerror(errno));
		pa = (struct punch_arg){ .fd = w->fd[f], .off = off, .len = len };
		pthread_create(&th, NULL, punch_thread, &pa);
		r = pread(w->loopfd, p + off, len, loff);
		pthread_join(th, NULL);
		munmap(p, mlen);
		if (r != (ssize_t)len)
			FAIL(w, "O_DIRECT read into the mapping: %zd %s", r, strerror(errno));
		if (pa.err)
			FAIL(w, "punch racing an O_DIRECT read: %s", strerror(pa.err));
		/*
		 * Page by page, the range holds the data read (the pin was taken
		 * after the punch, or the bio went to new blocks) or zero (the
		 * punch waited for the pin, then freed the block): nothing else.
		 */
		q = w->buf + MAXIO / 2;
		if (pread(w->fd[f], q, len, off) != (ssize_t)len)
			FAIL(w, "pread: %s", strerror(errno));
		for (n = 0; n < len; n += PG) {
			if (!memcmp(q + n, w->buf + n, PG))
				memcpy(md + off + n, w->buf + n, PG);
			else if (zero_check(q + n, PG) == -1)
				memset(md + off + n, 0, PG);
			else
				FAIL(w, "file %d page at %zu after an O_DIRECT read raced a "
				     "punch: neither the data read nor zero", f, off + n);
		}
		break;
	}
	case OP_VM_READV:
		rnd_range(w, *sz, &off, &len);
		if (len > MAXIO)
			len = MAXIO;
		p = map_file(w, f, MAP_SHARED, &mlen);
		if (!p || !len)
			return 0;
		if (p == MAP_FAILED)
			FAIL(w, "mmap: %s", strerror(errno));
		liov = (struct iovec){ .iov_base = w->buf, .iov_len = len };
		riov = (struct iovec){ .iov_base = p + off, .iov_len = len };
		r = process_vm_readv(getpid(), &liov, 1, &riov, 1, 0);
		if (r != (ssize_t)len || memcmp(w->buf, md + off, len))
			FAIL(w, "process_vm_readv of file %d at %zu: %zd %s", f, off, r,
			     r < 0 ? strerror(errno) : "data differs");
		munmap(p, mlen);
		break;
	}
	w->m->ops[w->id][kind]++;
	rec = &w->m->log[w->id][f][w->m->logn[w->id][f]++ % LOGN];
	*rec = (struct oprec){ kind, off, len, n, *sz };
	/* name the operation after which the kernel first warned */
	if (!warned_before && kernel_warned())
		FAIL(w, "the kernel warned, during or just before this worker's %s on file %d",
		     op_name[kind], f);
	return rnd(w, 4) ? 0 : check_file(w, f);
}

static int worker(struct model *m, int id, bool xfs, const char *dir,
		  const char *loopdev, unsigned int seed)
{
	struct worker w = { .m = m, .id = id, .xfs = xfs, .dir = dir, .seed = seed };
	long n = 0;
	int f;

	w.buf = aligned_alloc(PG, MAXIO + PG);
	if (!w.buf)
		return 1;
	for (f = 0; f < NFILES; f++) {
		w.fd[f] = open(file_path(dir, id, f), O_RDWR | O_CREAT, 0644);
		if (w.fd[f] < 0) {
			snprintf(m->failure[id], sizeof(m->failure[0]), "open: %s", strerror(errno));
			return 1;
		}
	}
	w.loopfd = loopdev ? open(loopdev, O_RDWR | O_DIRECT) : -1;
	while (ops_per_round ? n++ < ops_per_round : !m->stop) {
		int kind = rnd(&w, NR_OPS);

		if ((op_mask & (1u << kind)) && op(&w, kind, rnd(&w, NFILES)))
			return 1;
	}
	for (f = 0; f < NFILES; f++)
		if (check_file(&w, f))
			return 1;
	return 0;
}

FIXTURE(stress) {
	struct model *m;
	char loopdev[64];
	char loopimg[64];
};

FIXTURE_VARIANT(stress) {
	struct dax_mode m;
	const char *devenv;
	const char *fstype;
};

FIXTURE_VARIANT_ADD(stress, xfs) {
	.m = { .fs = DAX_FS_XFS }, .devenv = "PMEM_XFS_DEV", .fstype = "xfs" };
FIXTURE_VARIANT_ADD(stress, ext4) {
	.m = { .fs = DAX_FS_EXT4 }, .devenv = "PMEM_EXT4_DEV", .fstype = "ext4" };

FIXTURE_SETUP(stress)
{
	char cmd[256];
	FILE *fp;

	self->loopdev[0] = 0;
	self->m = mmap(NULL, sizeof(*self->m), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->m);
	RIG_REQUIRE(dax_dir(variant->m.fs), return, "no $DAX_XFS/$DAX_EXT4");
	ASSERT_NE(NULL, getenv(variant->devenv)) TH_LOG("$%s not set", variant->devenv);
	/* a loop device on a tmpfs file: its worker copies into pinned pages */
	snprintf(self->loopimg, sizeof(self->loopimg), "/tmp/dax_stress.%d.img", getpid());
	snprintf(cmd, sizeof(cmd), "truncate -s %lu %s && losetup -f --show %s",
		 LOOPSZ, self->loopimg, self->loopimg);
	fp = popen(cmd, "r");
	ASSERT_NE(NULL, fp);
	if (!fgets(self->loopdev, sizeof(self->loopdev), fp))
		self->loopdev[0] = 0;
	pclose(fp);
	self->loopdev[strcspn(self->loopdev, "\n")] = 0;
	ASSERT_NE(0, self->loopdev[0]) TH_LOG("losetup failed");
}

FIXTURE_TEARDOWN(stress)
{
	char cmd[256];
	int i, f;

	if (self->loopdev[0]) {
		snprintf(cmd, sizeof(cmd), "losetup -d %s", self->loopdev);
		if (system(cmd))
			TH_LOG("%s failed", cmd);
	}
	unlink(self->loopimg);
	if (dax_dir(variant->m.fs))
		for (i = 0; i < WORKERS; i++)
			for (f = 0; f < NFILES; f++)
				unlink(file_path(dax_dir(variant->m.fs), i, f));
	munmap(self->m, sizeof(*self->m));
}

/* after a remount: every file through read(2) and through a mapping */
static void check_all(struct __test_metadata *_metadata, struct model *m, const char *dir)
{
	int i, f, fd;
	size_t sz;
	char *p, *buf = malloc(MAXSZ);

	ASSERT_NE(NULL, buf);
	for (i = 0; i < WORKERS; i++) {
		for (f = 0; f < NFILES; f++) {
			sz = m->size[i][f];
			fd = open(file_path(dir, i, f), O_RDONLY);
			ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
			ASSERT_EQ((ssize_t)sz, pread(fd, buf, MAXSZ, 0)) TH_LOG("worker %d file %d", i, f);
			EXPECT_EQ(0, memcmp(buf, m->data[i][f], sz))
				TH_LOG("worker %d file %d differs after remount", i, f);
			if (sz) {
				p = mmap(NULL, sz, PROT_READ, MAP_SHARED, fd, 0);
				ASSERT_NE(MAP_FAILED, p);
				EXPECT_EQ(0, memcmp(p, m->data[i][f], sz))
					TH_LOG("worker %d file %d mapped differs after remount", i, f);
				munmap(p, sz);
			}
			close(fd);
		}
	}
	free(buf);
}

/* the last operations of a worker on each of its files, oldest first */
static void log_ops(struct __test_metadata *_metadata, struct model *m, int id)
{
	unsigned int f, i, n;

	for (f = 0; f < NFILES; f++) {
		n = m->logn[id][f];
		for (i = n > LOGN ? n - LOGN : 0; i < n; i++) {
			struct oprec *r = &m->log[id][f][i % LOGN];

			TH_LOG("  worker %d file %u op %u: %-12s off %zu len %zu arg %zu -> size %zu",
			       id, f, i, op_name[r->kind], r->off, r->len, r->arg, r->size);
		}
	}
}

/*
 * The harness default (30 s) is far too short, and a fixed long one is
 * longer than the runner's limit per program (guest/job-check.sh,
 * $TEST_TIMEOUT: 600 s in make check, 4 x seconds + 600 in make stress), so
 * that the harness's own watchdog, which kills the test's whole process
 * group, would never fire.  So the limit follows the length asked for:
 * 2 x $DAX_STRESS_SECONDS + 240 s per variant (both variants fit in the
 * runner's limit), or $DAX_STRESS_TIMEOUT seconds if set (for
 * $DAX_STRESS_NOPS runs, whose length does not follow the seconds).
 */
#define STRESS_TIMEOUT_DEFAULT	7200	/* replaced at start-up, see below */
TEST_F_TIMEOUT(stress, rounds, STRESS_TIMEOUT_DEFAULT)
{
	const char *dir = dax_dir(variant->m.fs), *dev = getenv(variant->devenv);
	const char *env = getenv("DAX_STRESS_SECONDS");
	long secs = env ? atol(env) : 20, round_ms, end, total[NR_OPS] = { 0 };
	int rounds = secs >= 120 ? 8 : 3, round, i, k, st[WORKERS];
	char cmd[512];
	pid_t pid[WORKERS];

	ASSERT_LT(0, secs);
	env = getenv("DAX_STRESS_NOPS");	/* reproducible: ops per worker and round */
	ops_per_round = env ? atol(env) : 0;
	round_ms = secs * 1000 / rounds;
	warned_before = kernel_warned();
	env = getenv("DAX_STRESS_OPS");	/* e.g. "mapwrite,unshare": only these */
	if (env && *env) {
		op_mask = 0;
		for (k = 0; k < NR_OPS; k++) {
			const char *hit = strstr(env, op_name[k]);
			size_t n = strlen(op_name[k]);

			if (hit && (hit == env || hit[-1] == ',') && (!hit[n] || hit[n] == ','))
				op_mask |= 1u << k;
		}
		ASSERT_NE(0, op_mask) TH_LOG("no known operation in $DAX_STRESS_OPS=%s", env);
	}
	for (round = 0; round < rounds; round++) {
		self->m->stop = 0;
		for (i = 0; i < WORKERS; i++) {
			pid[i] = fork_child();
			ASSERT_LE(0, pid[i]);
			if (pid[i] == 0)
				_exit(worker(self->m, i, variant->m.fs == DAX_FS_XFS, dir,
					     self->loopdev, 1000003u * (round + 1) + i));
		}
		end = now_ms() + round_ms;
		while (ops_per_round || now_ms() < end) {
			for (i = 0; i < WORKERS; i++)
				if (pid[i] && waitpid(pid[i], &st[i], WNOHANG) == pid[i])
					break;
			if (i < WORKERS) {	/* a worker stopped early: failed */
				pid[i] = 0;
				break;
			}
			usleep(100000);
		}
		self->m->stop = 1;
		for (i = 0; i < WORKERS; i++) {
			if (pid[i] && wait_child_ms(pid[i], STOP_MS, &st[i]) != 1) {
				char seen[256];

				/* hung: say where, then let the harness kill the group */
				task_sleeps_in(pid[i], (const char *const[]){ NULL }, 0, seen,
					       sizeof(seen));
				log_ops(_metadata, self->m, i);
				ASSERT_TRUE(0) TH_LOG("round %d worker %d did not stop within %d ms: %s",
						      round, i, STOP_MS, seen);
			}
			EXPECT_TRUE(WIFEXITED(st[i]) && WEXITSTATUS(st[i]) == 0) {
				TH_LOG("round %d worker %d: %s", round, i, self->m->failure[i]);
				log_ops(_metadata, self->m, i);
			}
		}
		if (_metadata->exit_code)
			return;
		/* unmount and mount again, then check everything */
		snprintf(cmd, sizeof(cmd), "umount %s && mount -t %s -o dax=always %s %s",
			 dir, variant->fstype, dev, dir);
		ASSERT_EQ(0, system(cmd)) TH_LOG("%s failed", cmd);
		check_all(_metadata, self->m, dir);
		if (_metadata->exit_code)
			return;
	}
	for (i = 0; i < WORKERS; i++)
		for (k = 0; k < NR_OPS; k++)
			total[k] += self->m->ops[i][k];
	for (k = 0; k < NR_OPS; k++)
		printf("# %-12s %ld\n", op_name[k], total[k]);
	/* every kind of operation ran (clone/unshare only on xfs) */
	for (k = 0; k < NR_OPS; k++) {
		const char *name = op_name[k] ? op_name[k] : "?";

		if ((op_mask & (1u << k)) &&
		    (variant->m.fs == DAX_FS_XFS || (k != OP_CLONE && k != OP_UNSHARE)))
			EXPECT_LT(0, total[k]) TH_LOG("%s never ran", name);
	}
}

/* after the harness registered the test (KSELFTEST_PRIO_TEST) */
static void __attribute__((constructor(KSELFTEST_PRIO_XFAIL + 1))) stress_timeout(void)
{
	const char *t = getenv("DAX_STRESS_TIMEOUT"), *s = getenv("DAX_STRESS_SECONDS");
	long secs = s ? atol(s) : 20;

	_stress_rounds_object->timeout = t && atol(t) > 0 ? atol(t) : 2 * (secs > 0 ? secs : 20) + 240;
}

TEST_HARNESS_MAIN
