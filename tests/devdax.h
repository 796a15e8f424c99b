/* SPDX-License-Identifier: GPL-2.0 */
/*
 * devdax.h: helpers shared by the device-DAX tests (devdax_ref.c,
 * devdax_kmem.c): find the device-DAX namespace of the third NVDIMM
 * ($PMEM_DEVDAX_REGION from guest/setup-pmem.sh), reconfigure its alignment
 * with ndctl and put the 2 MiB devdax namespace back.
 *
 * The char device and namespace names may change when a namespace is
 * reconfigured, so they are looked up in "ndctl list" every time instead of
 * trusting $PMEM_DEVDAX / $PMEM_DEVDAX_NS.
 */
#ifndef DEVDAX_H
#define DEVDAX_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daxtest.h"	/* dax_sh() */

#define DEVDAX_ALIGN_DEFAULT	(2UL << 20)

/* The device-DAX namespace of a region, as "ndctl list -r REGION -N" shows it. */
struct devdax_ns {
	char ns[64];		/* namespaceX.Y */
	char chardev[64];	/* daxX.Y */
	char mode[32];		/* devdax, fsdax, ... */
	unsigned long align;	/* 0 if not listed */
	unsigned long long size;
};

/* copy the string value of "key":"value" that follows p into out */
static inline bool devdax_json_str(const char *p, const char *key, char *out, size_t len)
{
	char pat[64];
	const char *s, *e;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	s = strstr(p, pat);
	if (!s)
		return false;
	s += strlen(pat);
	e = strchr(s, '"');
	if (!e || (size_t)(e - s) >= len)
		return false;
	memcpy(out, s, e - s);
	out[e - s] = 0;
	return true;
}

static inline bool devdax_json_num(const char *p, const char *key, unsigned long long *out)
{
	char pat[64];
	const char *s;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	s = strstr(p, pat);
	if (!s)
		return false;
	*out = strtoull(s + strlen(pat), NULL, 0);
	return true;
}

/*
 * Look the first namespace of region up: 0 if found, -1 if not.  A region
 * has exactly one namespace on this rig.
 */
static inline int devdax_lookup(const char *region, struct devdax_ns *d)
{
	char cmd[256], buf[4096];
	unsigned long long v;
	size_t n;
	FILE *f;

	memset(d, 0, sizeof(*d));
	snprintf(cmd, sizeof(cmd), "ndctl list -r %s -N 2>/dev/null", region);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	pclose(f);
	buf[n] = 0;
	if (!devdax_json_str(buf, "dev", d->ns, sizeof(d->ns)))
		return -1;
	devdax_json_str(buf, "mode", d->mode, sizeof(d->mode));
	devdax_json_str(buf, "chardev", d->chardev, sizeof(d->chardev));
	if (devdax_json_num(buf, "align", &v))
		d->align = v;
	if (devdax_json_num(buf, "size", &v))
		d->size = v;
	return 0;
}

/*
 * Make the region's namespace a devdax namespace with the given alignment
 * (reconfiguring it in place with ndctl if it is not already): 0 on success
 * with *d describing it, else the ndctl status (and *d what is there now).
 */
static inline int devdax_set_align(const char *region, unsigned long align, struct devdax_ns *d)
{
	int ret;

	if (devdax_lookup(region, d))
		return -1;
	if (!strcmp(d->mode, "devdax") && d->align == align && d->chardev[0])
		return 0;
	ret = dax_sh("ndctl create-namespace -f -e %s -m devdax -a %lu >/dev/null",
			d->ns, align);
	if (devdax_lookup(region, d))
		return -1;
	if (ret)
		return ret;
	if (strcmp(d->mode, "devdax") || d->align != align || !d->chardev[0])
		return -1;
	return 0;
}

/*
 * Put the rig's device-DAX namespace back: devdax, 2 MiB alignment.  If the
 * namespace is gone (a half-done reconfiguration), create it again.
 */
static inline int devdax_restore(const char *region)
{
	struct devdax_ns d;

	if (!devdax_set_align(region, DEVDAX_ALIGN_DEFAULT, &d))
		return 0;
	dax_sh("ndctl destroy-namespace -f all -r %s >/dev/null 2>&1", region);
	dax_sh("ndctl create-namespace -r %s -m devdax -a 2M >/dev/null", region);
	return devdax_set_align(region, DEVDAX_ALIGN_DEFAULT, &d);
}

#ifdef __KSELFTEST_HARNESS_H
#include <fcntl.h>
/*
 * For an O_DIRECT read into a device-DAX buffer: a file of n bytes of
 * pattern(seed) made in dir (in *fd), in one extent, and bdev, the pmem
 * block device under dir (not DAX), opened O_RDONLY | O_DIRECT (in *bfd).
 * Returns the device offset at which *bfd reads the file's data.
 */
static inline long long devdax_file_on_bdev(struct __test_metadata *_metadata, const char *dir,
					    const char *bdev, size_t n, uint32_t seed,
					    int *fd, int *bfd)
{
	long long phys;

	*fd = dax_create(dir, n, DAX_ALLOC | DAX_FILL, seed);
	ASSERT_LE(0, *fd) TH_LOG("create: %s", strerror(errno));
	phys = file_phys(*fd, n);
	ASSERT_LE(0, phys) TH_LOG("FIEMAP: the file is not one extent");
	*bfd = open(bdev, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, *bfd) TH_LOG("open %s: %s", bdev, strerror(errno));
	return phys;
}
#endif

#endif /* DEVDAX_H */
