// SPDX-License-Identifier: GPL-2.0
/*
 * devdax_smaps: /proc/PID/smaps and /proc/meminfo agree about a device-DAX
 * mapping (the device of the third NVDIMM, $PMEM_DEVDAX, 2 MiB aligned):
 * with the series its PMD mappings hold folio references and file rmap
 * mapcounts, so meminfo counts them in Mapped and FilePmdMapped, and smaps
 * must show the same in the VMA's Rss and FilePmdMapped.
 *
 * NEW SEMANTICS (group "refcount"): stock 6.12 counts nothing anywhere (Rss
 * 0); the series before the fix left device-DAX PMDs out of smaps'
 * FilePmdMapped while meminfo counted them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define LEN	(8 * PMDSZ)

/* a /proc/meminfo field in kB, -1 if missing */
FIXTURE(ds) {
	int fd;
	char *p;
};

FIXTURE_SETUP(ds)
{
	const char *dev = getenv("PMEM_DEVDAX");

	self->fd = -1;
	self->p = MAP_FAILED;
	RIG_REQUIRE(dev && *dev, return, "no $PMEM_DEVDAX (device-DAX namespace)");
	self->fd = open(dev, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", dev, strerror(errno));
}

FIXTURE_TEARDOWN(ds)
{
	if (self->p != MAP_FAILED)
		munmap(self->p, LEN);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(ds, pmd_counts_agree)
{
	long mapped0, pmd0, mapped1, pmd1, rss, spmd;

	mapped0 = proc_kb("/proc/meminfo", "Mapped");
	pmd0 = proc_kb("/proc/meminfo", "FilePmdMapped");
	ASSERT_LE(0, mapped0);
	ASSERT_LE(0, pmd0);
	self->p = map_aligned(LEN, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0, 0);
	ASSERT_NE(MAP_FAILED, self->p);
	touch_range(self->p, LEN, true);
	mapped1 = proc_kb("/proc/meminfo", "Mapped");
	pmd1 = proc_kb("/proc/meminfo", "FilePmdMapped");
	rss = smaps_kb(self->p, "Rss");
	spmd = smaps_kb(self->p, "FilePmdMapped");
	TH_LOG("meminfo Mapped +%ld kB, FilePmdMapped +%ld kB; smaps Rss %ld kB, FilePmdMapped %ld kB",
	       mapped1 - mapped0, pmd1 - pmd0, rss, spmd);
	EXPECT_EQ((long)(LEN / KiB), rss);
	EXPECT_EQ((long)(LEN / KiB), spmd) TH_LOG("smaps does not count the device-DAX PMDs");
	/*
	 * meminfo is system-wide: other processes map and unmap meanwhile,
	 * so allow them 1 MiB (the mapping is 16 MiB; stock counts 0)
	 */
	EXPECT_LE((long)(LEN / KiB) - 1024, pmd1 - pmd0);
	EXPECT_LE((long)(LEN / KiB) - 1024, mapped1 - mapped0);
	ASSERT_EQ(0, munmap(self->p, LEN));
	self->p = MAP_FAILED;
	EXPECT_GE(pmd0 + 1024, proc_kb("/proc/meminfo", "FilePmdMapped"))
		TH_LOG("FilePmdMapped not back after munmap");
}

TEST_HARNESS_MAIN
