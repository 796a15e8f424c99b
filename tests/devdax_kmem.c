// SPDX-License-Identifier: GPL-2.0
/*
 * devdax_kmem: a device-DAX instance whose pages were mapped (and so
 * referenced by page tables) can still be handed to the kmem driver once
 * nothing maps it: "daxctl reconfigure-device -m system-ram" onlines its
 * memory (MemTotal grows), "-m devdax" takes it back (MemTotal shrinks
 * again), and the char device maps, faults and shares data as before.  A
 * leaked page reference or mapping would keep the pgmap or the memory
 * blocks busy and make one of the two steps fail or hang.
 *
 * The switch is done the way "daxctl reconfigure-device" does it, through
 * sysfs (unbind from device_dax, new_id + bind kmem, online the memory blocks
 * movable; offline them, unbind kmem, remove_id, bind device_dax): daxctl
 * itself cannot run it in this guest, as libdaxctl first asks libkmod to load
 * the (built-in) driver, and libkmod finds no /lib/modules/$(uname -r) for
 * the rig's kernel.  daxctl is used if it works.
 *
 * Regression floor (group "regress"): passes on stock 6.12.  The program
 * puts the device back into devdax mode (ndctl recreates the 2 MiB devdax
 * namespace if that fails) when it ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "daxtest.h"
#include "devdax.h"

#define LEN	(4UL << 20)

FIXTURE(kmem) {
	struct devdax_ns d;
	const char *region;
};

/* the driver dev is bound to: "device_dax", "kmem" or "" */
static bool dax_driver_is(const char *dev, const char *drv)
{
	return dax_sh("[ \"$(basename \"$(readlink /sys/bus/dax/devices/%s/driver)\")\" = %s ]",
			 dev, drv) == 0;
}

/* shell: $first..$last are the memory blocks that kmem hot-adds for $d */
#define BLOCKS_SH \
	"bs=$((0x$(cat /sys/devices/system/memory/block_size_bytes))); " \
	"start=$(($(cat /sys/bus/dax/devices/$d/resource))); " \
	"size=$(cat /sys/bus/dax/devices/$d/size); " \
	"first=$(((start + bs - 1) / bs)); last=$(((start + size) / bs - 1)); "

/*
 * Without daxctl, online only the first ONLINE_BLOCKS memory blocks: enough
 * to show the memory is the kernel's, and quick to offline again (offlining
 * all of a 4 GiB device that the kernel has started to use migrates for
 * minutes under TCG).
 */
#define ONLINE_BLOCKS	2

static int to_system_ram(const char *dev)
{
	if (!dax_sh("daxctl reconfigure-device -m system-ram --no-online %s >/dev/null", dev))
		return dax_sh("daxctl online-memory %s >/dev/null", dev);
	printf("# daxctl failed: doing its steps through sysfs\n");
	return dax_sh("d=%s; " BLOCKS_SH
			 "if [ -e /sys/bus/dax/drivers/device_dax/$d ]; then "
			 "echo $d > /sys/bus/dax/drivers/device_dax/unbind || exit 1; fi; "
			 "echo $d > /sys/bus/dax/drivers/kmem/new_id || exit 1; "
			 "[ -e /sys/bus/dax/drivers/kmem/$d ] || exit 1; "
			 "for i in $(seq $first $((first + %d - 1))); do "
			 "m=/sys/devices/system/memory/memory$i; "
			 "grep -q '^online' $m/state || echo online_movable > $m/state || exit 1; "
			 "done", dev, ONLINE_BLOCKS);
}

static int to_devdax(const char *dev)
{
	if (!dax_sh("daxctl reconfigure-device -m devdax -f %s >/dev/null", dev))
		return 0;
	printf("# daxctl failed: doing its steps through sysfs\n");
	return dax_sh("d=%s; " BLOCKS_SH
			 "for i in $(seq $first $last); do m=/sys/devices/system/memory/memory$i; "
			 "[ ! -e $m ] || grep -q '^offline' $m/state || "
			 "echo offline > $m/state || exit 1; done; "
			 "if [ -e /sys/bus/dax/drivers/kmem/$d ]; then "
			 "echo $d > /sys/bus/dax/drivers/kmem/unbind || exit 1; fi; "
			 "echo $d > /sys/bus/dax/drivers/kmem/remove_id; "
			 "[ -e /sys/bus/dax/drivers/device_dax/$d ] || "
			 "echo $d > /sys/bus/dax/drivers/device_dax/bind || exit 1; "
			 "[ -c /dev/$d ]", dev);
}

FIXTURE_SETUP(kmem)
{
	self->region = getenv("PMEM_DEVDAX_REGION");
	if (!self->region)
		SKIP(return, "no $PMEM_DEVDAX_REGION (guest/setup-pmem.sh sets it)");
	if (dax_sh("command -v daxctl >/dev/null && command -v ndctl >/dev/null"))
		SKIP(return, "no daxctl or ndctl");
	if (access("/sys/bus/dax/drivers/kmem", F_OK))
		SKIP(return, "no kmem dax driver (CONFIG_DEV_DAX_KMEM)");
	ASSERT_EQ(0, devdax_lookup(self->region, &self->d));
	if (strcmp(self->d.mode, "devdax") || !self->d.chardev[0])
		SKIP(return, "%s: no devdax namespace (mode %s)", self->region, self->d.mode);
	/* put the rig's 2 MiB alignment back if an interrupted test changed it */
	if (self->d.align != DEVDAX_ALIGN_DEFAULT) {
		ASSERT_EQ(0, devdax_restore(self->region));
		ASSERT_EQ(0, devdax_lookup(self->region, &self->d));
	}
	if (!dax_driver_is(self->d.chardev, "device_dax"))
		ASSERT_EQ(0, to_devdax(self->d.chardev));
}

FIXTURE_TEARDOWN(kmem)
{
	if (dax_driver_is(self->d.chardev, "device_dax"))
		return;
	to_devdax(self->d.chardev);
	if (!dax_driver_is(self->d.chardev, "device_dax"))
		devdax_restore(self->region);
}

/* map, write the pattern at seed, check it through a second mapping */
static void use_device(struct __test_metadata *_metadata, const char *chardev, uint32_t seed)
{
	char dev[96], *p, *q;
	int fd;

	snprintf(dev, sizeof(dev), "/dev/%s", chardev);
	fd = open(dev, O_RDWR);
	ASSERT_LE(0, fd) TH_LOG("open %s: %s", dev, strerror(errno));
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap %s: %s", dev, strerror(errno));
	q = mmap(NULL, LEN, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	pattern_fill(p, LEN, seed, 0);
	EXPECT_EQ(-1, pattern_check(q, LEN, seed, 0));
	ASSERT_EQ(0, munmap(q, LEN));
	ASSERT_EQ(0, munmap(p, LEN));
	close(fd);
}

TEST_F_TIMEOUT(kmem, system_ram_and_back, 300)
{
	const char *dev = self->d.chardev;
	long before, online, after;

	use_device(_metadata, dev, 21);
	before = proc_kb("/proc/meminfo", "MemTotal");
	ASSERT_EQ(0, to_system_ram(dev)) TH_LOG("switching %s to system-ram", dev);
	EXPECT_TRUE(dax_driver_is(dev, "kmem"));
	dax_sh("daxctl list -d %s", dev);
	online = proc_kb("/proc/meminfo", "MemTotal");
	TH_LOG("MemTotal %ld kB in devdax mode, %ld kB as system-ram", before, online);
	/* at least ONLINE_BLOCKS memory blocks (128 MiB each on x86_64) went online */
	EXPECT_LE(before + ONLINE_BLOCKS * 128 * 1024, online);

	ASSERT_EQ(0, to_devdax(dev));
	EXPECT_TRUE(dax_driver_is(dev, "device_dax"));
	after = proc_kb("/proc/meminfo", "MemTotal");
	TH_LOG("MemTotal %ld kB back in devdax mode", after);
	EXPECT_EQ(before, after);
	use_device(_metadata, dev, 22);
}

TEST_HARNESS_MAIN
