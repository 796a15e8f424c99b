// SPDX-License-Identifier: GPL-2.0
/*
 * dax_powerloss: the guest half of the power-loss test (scripts/powerloss.sh).
 *
 *   dax_powerloss write DIR ACKFILE
 *	Writes numbered 4 KiB records into DIR/pl-sync, a sparse file mapped
 *	MAP_SHARED_VALIDATE | MAP_SYNC: every record lands in a page that was
 *	never written, so its write fault allocates a block, and MAP_SYNC makes
 *	the fault return only once that allocation is durable.  The record is
 *	then flushed from the CPU caches (clflush + sfence), and only then is
 *	its number appended to ACKFILE (on the host, through 9p).  Records also
 *	go to DIR/pl-async through a plain MAP_SHARED mapping, never synced:
 *	those may be lost.  Runs until killed: the host kills QEMU at a random
 *	moment (no shutdown, no unmount).
 *
 *   dax_powerloss hold DIR ACKFILE
 *	Before the writers start: two 2 MiB files, DIR/pl-held (kept) and
 *	DIR/pl-gone (unlinked), written and synced, each with one page
 *	vmsplice()d into a pipe that this process keeps, then unmapped and
 *	closed.  With the series their files are held open for the pages
 *	(fs/dax.c): the power is cut while the unlinked inode's blocks are
 *	still allocated.  Writes "held" to ACKFILE, then waits to be killed.
 *
 *   dax_powerloss verify DIR ACKED
 *	After the reboot and the mount (log recovery): every record below
 *	ACKED is in DIR/pl-sync, intact.  DIR/pl-async reads without error and
 *	each of its pages is a whole record, zero, or (the last one written)
 *	torn.  DIR/pl-held has its data and DIR/pl-gone is gone (the host then
 *	runs xfs_repair -n / e2fsck -fn: no block lost, none owned twice).
 *	TAP output.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

#define PG		4096UL
#define NREC		16384UL			/* 64 MiB of records */
#define MAGIC		0x44415850574c4f53ULL	/* "DAXPWLOS" */

struct rec {
	uint64_t magic;
	uint64_t index;
	uint32_t words[(PG - 16) / 4];
};

static void rec_fill(struct rec *r, uint64_t i)
{
	uint32_t v = (uint32_t)i * 2654435761u + 1;
	size_t k;

	for (k = 0; k < sizeof(r->words) / 4; k++) {
		v ^= v << 13;
		v ^= v >> 17;
		v ^= v << 5;
		r->words[k] = v;
	}
	r->index = i;
	r->magic = MAGIC;	/* last: a torn record has no magic, or bad words */
}

static int rec_ok(const struct rec *r, uint64_t i)
{
	static struct rec want;

	if (r->magic != MAGIC || r->index != i)
		return 0;
	rec_fill(&want, i);
	return !memcmp(r, &want, sizeof(want));
}

static int zero_page(const void *p)
{
	const uint64_t *w = p;
	size_t k;

	for (k = 0; k < PG / 8; k++)
		if (w[k])
			return 0;
	return 1;
}

static void flush(const void *p, size_t len)
{
	const char *c = p;
	size_t off;

	for (off = 0; off < len; off += 64)
		asm volatile("clflush %0" : "+m" (*(volatile char *)(c + off)));
	asm volatile("sfence" ::: "memory");
}

static char *map_file(const char *dir, const char *name, int flags, int oflags)
{
	char path[4096];
	char *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, oflags, 0644);
	if (fd < 0 || (oflags & O_CREAT && ftruncate(fd, NREC * PG))) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(2);
	}
	p = mmap(NULL, NREC * PG, oflags == O_RDONLY ? PROT_READ : PROT_READ | PROT_WRITE,
		 flags, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap %s: %s\n", path, strerror(errno));
		exit(2);
	}
	madvise(p, NREC * PG, MADV_NOHUGEPAGE);
	close(fd);
	return p;
}

static int do_write(const char *dir, const char *ackfile)
{
	char *s = map_file(dir, "pl-sync", MAP_SHARED_VALIDATE | MAP_SYNC, O_RDWR | O_CREAT | O_TRUNC);
	char *a = map_file(dir, "pl-async", MAP_SHARED, O_RDWR | O_CREAT | O_TRUNC);
	int ack = open(ackfile, O_WRONLY | O_CREAT | O_APPEND, 0644);
	char line[32];
	uint64_t i;
	int n;

	if (ack < 0) {
		fprintf(stderr, "%s: %s\n", ackfile, strerror(errno));
		return 2;
	}
	for (i = 0; i < NREC; i++) {
		rec_fill((struct rec *)(s + i * PG), i);
		flush(s + i * PG, PG);
		/* durable: only now may the host learn that record i exists */
		n = snprintf(line, sizeof(line), "%llu\n", (unsigned long long)i + 1);
		if (write(ack, line, n) != n) {
			fprintf(stderr, "ack: %s\n", strerror(errno));
			return 2;
		}
		rec_fill((struct rec *)(a + i * PG), i);
	}
	return 0;	/* all written before the kill: the host treats this as an error */
}

static int verify_held(const char *dir);

static int do_verify(const char *dir, unsigned long acked)
{
	char *s = map_file(dir, "pl-sync", MAP_SHARED, O_RDONLY);
	char *a = map_file(dir, "pl-async", MAP_SHARED, O_RDONLY);
	unsigned long i, bad = 0, first_bad = 0, present = 0, zero = 0, torn = 0;
	int fail = 0;

	printf("TAP version 13\n");
	for (i = 0; i < acked && i < NREC; i++) {
		if (!rec_ok((struct rec *)(s + i * PG), i)) {
			if (!bad++)
				first_bad = i;
		}
	}
	if (bad) {
		printf("# %s: %lu of %lu acknowledged records lost or damaged, first %lu\n",
		       dir, bad, acked, first_bad);
		printf("not ok 1 %s: MAP_SYNC records survive\n", dir);
		fail = 1;
	} else {
		printf("ok 1 %s: MAP_SYNC records survive (%lu acknowledged)\n", dir, acked);
	}
	for (i = 0; i < NREC; i++) {
		const struct rec *r = (const struct rec *)(a + i * PG);

		if (rec_ok(r, i))
			present++;
		else if (zero_page(r))
			zero++;
		else
			torn++;
	}
	printf("# %s: unsynced file: %lu records, %lu zero pages, %lu torn\n",
	       dir, present, zero, torn);
	if (torn > 1) {
		printf("not ok 2 %s: unsynced records are whole, zero or the last one torn\n", dir);
		fail = 1;
	} else {
		printf("ok 2 %s: unsynced records are whole, zero or the last one torn\n", dir);
	}
	return verify_held(dir) | fail;
}

#define HELD_SIZE	(2UL << 20)
#define HELD_PIN	(37 * PG)

static void held_fill(char *buf, size_t len, uint64_t seed)
{
	size_t k;

	for (k = 0; k < len / PG; k++)
		rec_fill((struct rec *)(buf + k * PG), seed + k);
}

/* one held file: written, synced, one page left in pipe pfd, closed */
static int hold_file(const char *dir, const char *name, int do_unlink, int pfd)
{
	static char buf[HELD_SIZE];
	char path[4096];
	struct iovec iov;
	char *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	held_fill(buf, HELD_SIZE, 1000);
	if (fd < 0 || pwrite(fd, buf, HELD_SIZE, 0) != (ssize_t)HELD_SIZE || fsync(fd)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 2;
	}
	p = mmap(NULL, HELD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "mmap %s: %s\n", path, strerror(errno));
		return 2;
	}
	iov.iov_base = p + HELD_PIN;
	iov.iov_len = PG;
	if (vmsplice(pfd, &iov, 1, 0) != (ssize_t)PG) {
		fprintf(stderr, "vmsplice %s: %s\n", path, strerror(errno));
		return 2;
	}
	munmap(p, HELD_SIZE);
	if (do_unlink && unlink(path)) {
		fprintf(stderr, "unlink %s: %s\n", path, strerror(errno));
		return 2;
	}
	close(fd);
	return 0;
}

static int do_hold(const char *dir, const char *ackfile)
{
	int pfd[2], ack;

	if (pipe(pfd) || hold_file(dir, "pl-held", 0, pfd[1]) ||
	    hold_file(dir, "pl-gone", 1, pfd[1]))
		return 2;
	sync();
	ack = open(ackfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (ack < 0 || write(ack, "held\n", 5) != 5) {
		fprintf(stderr, "%s: %s\n", ackfile, strerror(errno));
		return 2;
	}
	close(ack);
	for (;;)
		pause();
}

static int verify_held(const char *dir)
{
	static char want[HELD_SIZE], got[HELD_SIZE];
	char path[4096];
	int fd, fail = 0;

	printf("1..4\n");
	snprintf(path, sizeof(path), "%s/pl-held", dir);
	fd = open(path, O_RDONLY);
	held_fill(want, HELD_SIZE, 1000);
	if (fd < 0 || pread(fd, got, HELD_SIZE, 0) != (ssize_t)HELD_SIZE ||
	    memcmp(got, want, HELD_SIZE)) {
		printf("not ok 3 %s: the file held at the power cut has its data\n", dir);
		fail = 1;
	} else {
		printf("ok 3 %s: the file held at the power cut has its data\n", dir);
	}
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof(path), "%s/pl-gone", dir);
	if (!access(path, F_OK)) {
		printf("not ok 4 %s: the unlinked held file is gone\n", dir);
		fail = 1;
	} else {
		printf("ok 4 %s: the unlinked held file is gone\n", dir);
	}
	return fail;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "write"))
		return do_write(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return do_hold(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "verify"))
		return do_verify(argv[2], strtoul(argv[3], NULL, 0));
	fprintf(stderr, "usage: %s write|hold DIR ACKFILE | verify DIR ACKED\n", argv[0]);
	return 2;
}
