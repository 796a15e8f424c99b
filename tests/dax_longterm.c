// SPDX-License-Identifier: GPL-2.0
/*
 * dax_longterm: FOLL_LONGTERM pins of FS DAX pages are refused, through GUP
 * and GUP-fast, read-only and writable, shared and private, 4 KiB and PMD
 * mapped; short-term pins of the same pages work; a refused pin leaves no
 * reference behind.  Uses the gup_test debugfs interface (CONFIG_GUP_TEST):
 * PIN_LONGTERM_TEST_START (pin_user_pages[_fast](FOLL_LONGTERM), the ioctl
 * fails with the GUP error) and PIN_LONGTERM_BENCHMARK (returns 0 and the
 * size it managed to pin).
 *
 * The kernel's own gup_longterm selftest cannot be pointed at a DAX mount
 * usefully: its "local tmpfile" case expects R/O and private long-term pins
 * to succeed on ext4/xfs, which FS DAX refuses by design.
 *
 * Stock 6.12 refuses in check_vma_flags() (vma_is_fsdax) with EOPNOTSUPP, and
 * GUP-fast bails out on pte_devmap; the series must keep both (GUP-fast
 * through folio_is_longterm_pinnable()).  Regression floor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/types.h>
#include <mm/gup_test.h>

#include "kselftest_harness.h"
#include "daxtest.h"

#define FSIZE	(4 * MiB)
#define FOLL_WRITE_ 0x01

FIXTURE(lt) {
	struct dax_file f;
	int gfd;
};

FIXTURE_VARIANT(lt) {
	struct dax_mode m;
};

DAX_ADD_ALL_VARIANTS(lt);

FIXTURE_SETUP(lt)
{
	self->gfd = -1;
	if (!dax_file_setup(_metadata, &self->f, &variant->m, FSIZE,
			    DAX_ALLOC | DAX_FILL | DAX_MAP | DAX_RIG, 1))
		return;
	self->gfd = open(GUP_TEST_FILE_PATH, O_RDWR);
	RIG_REQUIRE(self->gfd >= 0, return,
		    "no " GUP_TEST_FILE_PATH " (CONFIG_GUP_TEST, debugfs): %s", strerror(errno));
	/* fault in (read) so that GUP-fast finds the PTEs/PMDs */
	touch_range(self->f.p, FSIZE, false);
	if (variant->m.shared)
		touch_range(self->f.p, FSIZE, true);
}

FIXTURE_TEARDOWN(lt)
{
	dax_file_teardown(&self->f);
	if (self->gfd >= 0)
		close(self->gfd);
}

static int longterm_start(int gfd, void *addr, size_t len, __u32 flags)
{
	struct pin_longterm_test args = {
		.addr = (uintptr_t)addr, .size = len, .flags = flags,
	};
	int ret = ioctl(gfd, PIN_LONGTERM_TEST_START, &args);

	if (ret == 0)
		ioctl(gfd, PIN_LONGTERM_TEST_STOP);
	return ret ? -errno : 0;
}

TEST_F(lt, longterm_pin_refused)
{
	size_t lens[] = { PG, PMDSZ, FSIZE };
	unsigned int i, j;

	for (i = 0; i < sizeof(lt_modes) / sizeof(lt_modes[0]); i++) {
		for (j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
			int ret = longterm_start(self->gfd, self->f.p, lens[j], lt_modes[i].flags);

			EXPECT_EQ(-EOPNOTSUPP, ret)
				TH_LOG("%s FOLL_LONGTERM pin of %zu bytes: %s", lt_modes[i].name,
				       lens[j], ret ? strerror(-ret) : "succeeded");
		}
	}
	/* also a page in the middle of the second PMD */
	EXPECT_EQ(-EOPNOTSUPP, longterm_start(self->gfd, self->f.p + PMDSZ + 77 * PG, PG,
					      PIN_LONGTERM_TEST_FLAG_USE_FAST));
}

TEST_F(lt, longterm_benchmark_pins_nothing)
{
	struct gup_test gup = { 0 };

	gup.addr = (uintptr_t)self->f.p;
	gup.size = FSIZE;
	gup.nr_pages_per_call = 512;
	ASSERT_EQ(0, ioctl(self->gfd, PIN_LONGTERM_BENCHMARK, &gup));
	EXPECT_EQ(0, gup.size) TH_LOG("PIN_LONGTERM_BENCHMARK pinned %llu bytes",
				      (unsigned long long)gup.size);
}

/* short-term GUP and pins of the same pages do work */
TEST_F(lt, shortterm_pins_work)
{
	unsigned long cmds[] = { GUP_FAST_BENCHMARK, PIN_FAST_BENCHMARK, GUP_BASIC_TEST,
				 PIN_BASIC_TEST };
	unsigned int i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		struct gup_test gup = { 0 };

		gup.addr = (uintptr_t)self->f.p;
		gup.size = FSIZE;
		gup.nr_pages_per_call = 64;
		gup.gup_flags = variant->m.shared ? FOLL_WRITE_ : 0;
		EXPECT_EQ(0, ioctl(self->gfd, cmds[i], &gup)) TH_LOG("cmd %u: %s", i, strerror(errno));
		EXPECT_EQ(FSIZE, gup.size) TH_LOG("cmd %u got %llu bytes", i,
						  (unsigned long long)gup.size);
	}
	EXPECT_EQ(-1, pattern_check(self->f.p, FSIZE, 1, 0));
}

/* a refused long-term pin leaves the page's counts as they were */
TEST_F(lt, refused_pin_leaks_nothing)
{
	struct page_state a, b;
	int ret;

	ret = page_state(self->f.p + PMDSZ + 3 * PG, &a);
	RIG_REQUIRE(ret != -ENOENT, return, "gup_test dump not available");
	ASSERT_EQ(0, ret) TH_LOG("page_state: %s", strerror(-ret));
	for (int i = 0; i < 4; i++)
		longterm_start(self->gfd, self->f.p + PMDSZ, PMDSZ, lt_modes[i].flags);
	ASSERT_EQ(0, page_state(self->f.p + PMDSZ + 3 * PG, &b));
	TH_LOG("before: %s", page_state_str(&a));
	TH_LOG("after:  %s", page_state_str(&b));
	EXPECT_EQ(a.pfn, b.pfn);
	EXPECT_EQ(a.refcount, b.refcount);
	EXPECT_EQ(a.mapcount, b.mapcount);
	EXPECT_EQ(a.pincount, b.pincount);
}

/* control: the same ioctl long-term pins shmem pages (the interface works) */
TEST(longterm_pin_works_on_shmem)
{
	int gfd = open("/sys/kernel/debug/gup_test", O_RDWR);
	int fd = memfd_create("lt-control", 0);
	char *p;

	RIG_REQUIRE(gfd >= 0, return, "no /sys/kernel/debug/gup_test (CONFIG_GUP_TEST, debugfs)");
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, PMDSZ));
	p = mmap(NULL, PMDSZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 1, PMDSZ);
	EXPECT_EQ(0, longterm_start(gfd, p, PMDSZ, PIN_LONGTERM_TEST_FLAG_USE_WRITE));
	EXPECT_EQ(0, longterm_start(gfd, p, PMDSZ, PIN_LONGTERM_TEST_FLAG_USE_FAST |
				    PIN_LONGTERM_TEST_FLAG_USE_WRITE));
	munmap(p, PMDSZ);
	close(fd);
	close(gfd);
}

TEST_HARNESS_MAIN
