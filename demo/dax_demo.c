// SPDX-License-Identifier: GPL-2.0
/*
 * dax_demo: what a DAX mapping looks like to the kernel, for `make run`.
 *
 * For a 4 KiB and a 2 MiB mapping of a file on each DAX mount it prints how
 * the fault was served (PTE or PMD), the page's refcount and mapcount (read
 * through gup_test's dump_page(), with gup_test's own reference taken off),
 * what /proc/self/smaps says, and how the refcount moves when a second
 * mapping comes and when the mappings go.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daxtest.h"

static void show_page(const char *what, const void *addr)
{
	struct page_state ps;
	int err = page_state(addr, &ps);

	if (err) {
		printf("    %-28s page state unavailable: %s\n", what, strerror(-err));
		return;
	}
	printf("    %-28s pfn %#lx refcount %ld mapcount %ld", what, ps.pfn,
	       ps.refcount, ps.mapcount);
	if (ps.large)
		printf(" (order-%d folio, entire_mapcount %ld, folio mapcount %ld)",
		       ps.order, ps.entire_mapcount, ps.folio_mapcount);
	printf("\n");
}

static void show_smaps(const void *addr)
{
	printf("    smaps: Rss %ld kB, Pss %ld kB, Shared_Dirty %ld kB, FilePmdMapped %ld kB\n",
	       smaps_kb(addr, "Rss"), smaps_kb(addr, "Pss"),
	       smaps_kb(addr, "Shared_Dirty"), smaps_kb(addr, "FilePmdMapped"));
}

static int demo(enum dax_fs fs, bool pmd)
{
	struct dax_mode m = { .fs = fs, .pmd = pmd, .shared = true };
	size_t len = pmd ? PMDSZ : PG;
	const char *dir = dax_dir(fs);
	long faults;
	int fd, traced = -1, fallbacks = 0;
	char *a, *b;

	printf("\n== %s, %s mapping, MAP_SHARED ==\n", dax_fs_name(fs),
	       pmd ? "2 MiB (PMD-aligned)" : "4 KiB");
	if (!dir) {
		printf("    no mount for %s\n", dax_fs_name(fs));
		return 1;
	}
	fd = dax_create(dir, PMDSZ, DAX_ALLOC, 0);
	if (fd < 0) {
		printf("    cannot create a file: %s\n", strerror(errno));
		return 1;
	}
	printf("    file on %s: statx DAX attribute %s\n", dir,
	       fd_is_dax(fd) == 1 ? "set" : "NOT set");
	a = dax_map(&m, fd, 0, len);
	if (a == MAP_FAILED) {
		printf("    mmap failed: %s\n", strerror(errno));
		return 1;
	}
	if (pmd)
		traced = pmd_trace_start();
	faults = fault_count();
	touch_range(a, len, true);
	faults = fault_count() - faults;
	if (pmd && traced == 0) {
		traced = pmd_trace_count(a, len, &fallbacks);
		pmd_trace_stop();
	}
	printf("    write fault over %zu KiB: %ld fault(s)", len / KiB, faults);
	if (pmd && traced >= 0)
		printf(", dax_pmd_fault_done: %d PMD installed, %d fallback(s)",
		       traced, fallbacks);
	printf(" -> %s\n", pmd ? (traced > 0 ? "PMD mapping" : "PTE mappings") :
	       "PTE mapping");
	show_page("after the fault:", a);
	show_smaps(a);

	b = dax_map(&m, fd, 0, len);
	if (b == MAP_FAILED) {
		printf("    second mmap failed: %s\n", strerror(errno));
		return 1;
	}
	touch_range(b, len, false);
	show_page("with a second mapping:", b);
	munmap(a, len);
	show_page("after munmap of the first:", b);
	munmap(b, len);
	b = dax_map(&m, fd, 0, len);
	touch_range(b, len, false);
	show_page("both gone, mapped afresh:", b);
	munmap(b, len);
	close(fd);
	return 0;
}

int main(void)
{
	int bad = 0;

	printf("DAX demonstration on %s", "this kernel: ");
	fflush(stdout);
	if (system("uname -r") != 0)
		printf("\n");
	printf("(refcount excludes the reference gup_test holds while it dumps the page;\n"
	       " unpatched 6.12: DAX pages idle at refcount 1, mappings take no reference\n"
	       " and no mapcount, smaps shows no Rss; with the series: idle at 0, each\n"
	       " mapping holds one reference and one mapcount, smaps accounts them)\n");
	bad |= demo(DAX_FS_XFS, false);
	bad |= demo(DAX_FS_XFS, true);
	bad |= demo(DAX_FS_EXT4, false);
	bad |= demo(DAX_FS_EXT4, true);
	return bad;
}
