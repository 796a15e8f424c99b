// SPDX-License-Identifier: GPL-2.0
/*
 * shmshim.so: System V shared memory on top of shared anonymous mmap, for
 * LD_PRELOAD into fio in the guest, whose kernel is built without
 * CONFIG_SYSVIPC. fio only needs private segments (IPC_PRIVATE) made and
 * attached by the parent before it forks its job processes, which then
 * inherit the MAP_SHARED mapping; that is all this supports.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>

#define NSEG 64

static struct seg {
	void *addr;
	size_t size;
	int attached;
} segs[NSEG];

int shmget(key_t key, size_t size, int flags)
{
	int i;

	(void)flags;
	if (key != IPC_PRIVATE || !size) {
		errno = ENOSYS;
		return -1;
	}
	for (i = 0; i < NSEG; i++) {
		if (segs[i].addr)
			continue;
		segs[i].addr = mmap(NULL, size, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (segs[i].addr == MAP_FAILED) {
			segs[i].addr = NULL;
			errno = ENOMEM;
			return -1;
		}
		segs[i].size = size;
		return i;
	}
	errno = ENOSPC;
	return -1;
}

void *shmat(int id, const void *addr, int flags)
{
	(void)flags;
	if (id < 0 || id >= NSEG || !segs[id].addr || addr) {
		errno = EINVAL;
		return (void *)-1;
	}
	segs[id].attached++;
	return segs[id].addr;
}

int shmdt(const void *addr)
{
	int i;

	for (i = 0; i < NSEG; i++)
		if (segs[i].addr == addr && segs[i].attached) {
			segs[i].attached--;
			return 0;
		}
	errno = EINVAL;
	return -1;
}

/* IPC_RMID: the mapping goes away with the last process that has it. */
int shmctl(int id, int cmd, struct shmid_ds *buf)
{
	if (id < 0 || id >= NSEG || !segs[id].addr) {
		errno = EINVAL;
		return -1;
	}
	if (cmd == IPC_STAT && buf) {
		memset(buf, 0, sizeof(*buf));
		buf->shm_segsz = segs[id].size;
		buf->shm_nattch = segs[id].attached;
	}
	return 0;
}
