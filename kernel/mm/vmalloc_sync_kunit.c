// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for kernel page-table synchronisation.
 *
 * Generic code that populates kernel page tables records the levels it
 * modified in a pgtbl_mod_mask and must call arch_sync_kernel_mappings()
 * over the changed range whenever that mask intersects
 * ARCH_PAGE_TABLE_SYNC_MASK (include/linux/pgtable.h, mm/pgalloc-track.h).
 * v5.8 shipped __apply_to_page_range() without the call and i915's
 * alloc_vm_area() mappings faulted on x86-32 until e80d3909be42 ("mm: track
 * page table modifications in __apply_to_page_range()").
 *
 * Every case reserves a kernel virtual range whose upper levels are still
 * empty, snapshots which entries are empty before and after the operation,
 * and derives from that and ARCH_PAGE_TABLE_SYNC_MASK which calls must be
 * seen.  Calls are observed with a kprobe on the architecture's own
 * arch_sync_kernel_mappings(), or through CONFIG_DEBUG_PGTABLE_SYNC_RECORDER
 * where the architecture has none.  See
 * Documentation/dev-tools/vmalloc-sync.rst; run with
 *   ./tools/testing/kunit/kunit.py run --arch=i386 \
 *	--kunitconfig=tools/testing/kunit/configs/vmsync.config
 */

#define pr_fmt(fmt) "vmalloc_sync: " fmt

#include <kunit/test.h>
#include <linux/cacheflush.h>
#include <linux/io.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "internal.h"

#define VS_MAX_CALLS	8
#define VS_MAX_SAMPLES	8
#define VS_NR_PAGES	2

static unsigned long spare_ram;
module_param(spare_ram, ulong, 0444);
MODULE_PARM_DESC(spare_ram,
		 "Physical address of 2 pages of RAM the kernel does not manage (boot with mem=), for the vmap_pfn() case");

struct vs_call {
	unsigned long start;
	unsigned long end;
};

/*
 * Calls to arch_sync_kernel_mappings() made by the task under test while a
 * walker runs.  Written by the probe or recorder, read by the test body
 * after the walker has returned on the same task.
 */
static struct {
	struct task_struct *task;
	unsigned int nr;
	struct vs_call calls[VS_MAX_CALLS];
} vs_log;

/* 0 when calls can be observed, else why not (see vs_require_observer()) */
static int vs_observer_err;

static void vs_record(unsigned long start, unsigned long end)
{
	unsigned int i;

	if (current != READ_ONCE(vs_log.task))
		return;
	i = vs_log.nr++;
	if (i < VS_MAX_CALLS) {
		vs_log.calls[i].start = start;
		vs_log.calls[i].end = end;
	}
}

#ifdef CONFIG_KPROBES
static unsigned long vs_kprobe_arg(struct pt_regs *regs, unsigned int n)
{
#ifdef CONFIG_ARM
	return regs->uregs[n];
#else
	return regs_get_kernel_argument(regs, n);
#endif
}

static int vs_sync_pre(struct kprobe *kp, struct pt_regs *regs)
{
	vs_record(vs_kprobe_arg(regs, 0), vs_kprobe_arg(regs, 1));
	return 0;
}
#endif

static struct kprobe vs_sync_kprobe = {
	.symbol_name = "arch_sync_kernel_mappings",
#ifdef CONFIG_KPROBES
	.pre_handler = vs_sync_pre,
#endif
};

static bool vs_kprobe_registered;

#ifdef CONFIG_DEBUG_PGTABLE_SYNC_RECORDER
static void vs_attach_recorder(void (*recorder)(unsigned long, unsigned long))
{
	pgtable_sync_set_recorder(recorder);
}

static void vs_restore_sync_mask(void *mask)
{
	pgtable_sync_recorder_mask = (unsigned long)mask;
}

/*
 * The recorder's sync mask can be narrowed to one level, so each level's
 * tracking is seen on its own and not hidden by a lower level's.
 */
static void vs_set_sync_mask(struct kunit *test, unsigned int mask)
{
	void *old = (void *)(unsigned long)pgtable_sync_recorder_mask;

	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, vs_restore_sync_mask, old));
	pgtable_sync_recorder_mask = mask;
}
#else
static void vs_attach_recorder(void (*recorder)(unsigned long, unsigned long))
{
}

static void vs_set_sync_mask(struct kunit *test, unsigned int mask)
{
	kunit_skip(test,
		   "the sync mask is the architecture's own: narrowing it needs CONFIG_DEBUG_PGTABLE_SYNC_RECORDER=y");
}
#endif

static unsigned int vs_nr_levels(void)
{
	return 2 + (PTRS_PER_PMD > 1) + (PTRS_PER_PUD > 1) + (PTRS_PER_P4D > 1);
}

static const char *vs_attach_observer(void)
{
	if (IS_ENABLED(CONFIG_DEBUG_PGTABLE_SYNC_RECORDER)) {
		vs_attach_recorder(vs_record);
		return "CONFIG_DEBUG_PGTABLE_SYNC_RECORDER";
	}
	if (!IS_ENABLED(CONFIG_KPROBES)) {
		vs_observer_err = -EOPNOTSUPP;
		return "nothing (no CONFIG_KPROBES)";
	}
	vs_observer_err = register_kprobe(&vs_sync_kprobe);
	vs_kprobe_registered = !vs_observer_err;
	return vs_observer_err ? "nothing (register_kprobe() failed)" : "a kprobe";
}

static int vs_suite_init(struct kunit_suite *suite)
{
	const char *observer = vs_attach_observer();

	/* what the expectations are derived from, for whoever reads the log */
	pr_info("%u-level kernel page tables, ARCH_PAGE_TABLE_SYNC_MASK %#x, calls observed by %s\n",
		vs_nr_levels(), (unsigned int)ARCH_PAGE_TABLE_SYNC_MASK, observer);
	return 0;
}

static void vs_suite_exit(struct kunit_suite *suite)
{
	if (IS_ENABLED(CONFIG_DEBUG_PGTABLE_SYNC_RECORDER))
		vs_attach_recorder(NULL);
	if (vs_kprobe_registered)
		unregister_kprobe(&vs_sync_kprobe);
	vs_kprobe_registered = false;
	vs_observer_err = 0;
}

static void vs_require_observer(struct kunit *test)
{
	if (vs_observer_err == -EOPNOTSUPP)
		kunit_skip(test,
			   "needs CONFIG_KPROBES=y (architecture sync) or CONFIG_DEBUG_PGTABLE_SYNC_RECORDER=y (no architecture sync) to observe arch_sync_kernel_mappings()");
	if (vs_observer_err)
		kunit_skip(test,
			   "register_kprobe(arch_sync_kernel_mappings) failed with %d: the architecture has no sync of its own (enable CONFIG_DEBUG_PGTABLE_SYNC_RECORDER) or it is not probeable",
			   vs_observer_err);
}

static void vs_log_start(void)
{
	vs_log.nr = 0;
	memset(vs_log.calls, 0, sizeof(vs_log.calls));
	WRITE_ONCE(vs_log.task, current);
}

static void vs_log_stop(void)
{
	WRITE_ONCE(vs_log.task, NULL);
}

/* Page-table geometry, from the kernel's own accessors. */

static const char *vs_level_name(unsigned int level)
{
	switch (level) {
	case PGTBL_PGD_MODIFIED:
		return "PGD";
	case PGTBL_P4D_MODIFIED:
		return "P4D";
	case PGTBL_PUD_MODIFIED:
		return "PUD";
	default:
		return "PMD";
	}
}

/* Address span of one entry at @level. */
static unsigned long vs_level_size(unsigned int level)
{
	switch (level) {
	case PGTBL_PGD_MODIFIED:
		return PGDIR_SIZE;
	case PGTBL_P4D_MODIFIED:
		return P4D_SIZE;
	case PGTBL_PUD_MODIFIED:
		return PUD_SIZE;
	default:
		return PMD_SIZE;
	}
}

/*
 * An entry at @level can be empty only if the level below it is a real
 * table; a folded level's parent always reads as present.
 */
static bool vs_level_real(unsigned int level)
{
	switch (level) {
	case PGTBL_PGD_MODIFIED:
		return PTRS_PER_P4D > 1;
	case PGTBL_P4D_MODIFIED:
		return PTRS_PER_PUD > 1;
	case PGTBL_PUD_MODIFIED:
		return PTRS_PER_PMD > 1;
	default:
		return true;
	}
}

/* The real levels at and below @level. */
static unsigned int vs_levels_from(unsigned int level)
{
	unsigned int bit, mask = 0;

	for (bit = level; bit <= PGTBL_PMD_MODIFIED; bit <<= 1)
		if (vs_level_real(bit))
			mask |= bit;
	return mask;
}

/*
 * Which upper-level entries of init_mm covering @addr are empty, as
 * PGTBL_*_MODIFIED bits: the first empty entry and every real level below
 * it, which does not exist yet either.  A huge (leaf) entry is populated
 * and ends the walk.
 */
static unsigned int vs_empty_levels(unsigned long addr)
{
	pgd_t *pgd = pgd_offset_k(addr);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	if (pgd_none(*pgd))
		return vs_levels_from(PGTBL_PGD_MODIFIED);
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d))
		return vs_levels_from(PGTBL_P4D_MODIFIED);
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud))
		return vs_levels_from(PGTBL_PUD_MODIFIED);
	if (pud_leaf(*pud))
		return 0;
	pmd = pmd_offset(pud, addr);
	if (pmd_none(*pmd))
		return PGTBL_PMD_MODIFIED;
	return 0;
}

static void vs_format_levels(char *buf, size_t len, unsigned int levels)
{
	unsigned int bit;
	size_t n = 0;

	buf[0] = '\0';
	for (bit = PGTBL_PGD_MODIFIED; bit <= PGTBL_PMD_MODIFIED; bit <<= 1)
		if (levels & bit)
			n += scnprintf(buf + n, len - n, "%s%s",
				       n ? "|" : "", vs_level_name(bit));
	if (!n)
		strscpy(buf, "none", len);
}

static void vs_format_calls(char *buf, size_t len)
{
	unsigned int i;
	size_t n = 0;

	buf[0] = '\0';
	for (i = 0; i < min(vs_log.nr, VS_MAX_CALLS); i++)
		n += scnprintf(buf + n, len - n, "%s[%#lx,%#lx)", i ? " " : "",
			       vs_log.calls[i].start, vs_log.calls[i].end);
	if (!n)
		strscpy(buf, "no calls", len);
}

/*
 * The empty upper-level entries over [start, end), one sample per PMD
 * entry: every upper-level entry covers at least one of them.
 */
/* pmd_addr_end() returns @end when the PMD is folded: step by hand */
static unsigned long vs_next_pmd(unsigned long addr, unsigned long end)
{
	unsigned long next = (addr + PMD_SIZE) & PMD_MASK;

	return next - 1 < end - 1 ? next : end;
}

struct vs_snapshot {
	unsigned long start;
	unsigned long end;
	unsigned int nr;
	unsigned long addr[VS_MAX_SAMPLES];
	unsigned int empty[VS_MAX_SAMPLES];
};

static void vs_snapshot(struct kunit *test, struct vs_snapshot *snap,
			unsigned long start, unsigned long end)
{
	unsigned long addr = start;

	snap->start = start;
	snap->end = end;
	snap->nr = 0;
	do {
		KUNIT_ASSERT_LT_MSG(test, snap->nr, VS_MAX_SAMPLES,
				    "[%#lx,%#lx) spans too many PMD entries",
				    start, end);
		snap->addr[snap->nr] = addr;
		snap->empty[snap->nr++] = vs_empty_levels(addr);
		addr = vs_next_pmd(addr, end);
	} while (addr != end);
}

/*
 * Levels whose entries changed between empty and populated, either way: a
 * new table or huge entry, or a huge entry that was cleared.
 */
static unsigned int vs_changed_levels(const struct vs_snapshot *before,
				      const struct vs_snapshot *after)
{
	unsigned int i, levels = 0;

	for (i = 0; i < before->nr; i++)
		levels |= before->empty[i] ^ after->empty[i];
	return levels;
}

static bool vs_covered(unsigned long start, unsigned long end)
{
	unsigned int i;

	for (i = 0; i < min(vs_log.nr, VS_MAX_CALLS); i++) {
		const struct vs_call *c = &vs_log.calls[i];

		/* pgd/p4d_populate_kernel() pass (addr, addr) for one entry */
		if (c->start <= start &&
		    (c->end >= end || (c->start == c->end && end - start <= 1)))
			return true;
	}
	return false;
}

/*
 * The property under test: a walker that populated or cleared upper-level
 * entries syncs exactly once over a range covering them when their levels
 * intersect ARCH_PAGE_TABLE_SYNC_MASK, and never syncs otherwise.
 */
static void vs_expect_sync(struct kunit *test, const char *walker,
			   const struct vs_snapshot *before,
			   const struct vs_snapshot *after)
{
	unsigned int sync_mask = ARCH_PAGE_TABLE_SYNC_MASK;
	unsigned int changed = vs_changed_levels(before, after);
	char levels[32], calls[160];
	unsigned int i;

	vs_format_levels(levels, sizeof(levels), changed);
	vs_format_calls(calls, sizeof(calls));

	if (!(changed & sync_mask)) {
		KUNIT_EXPECT_EQ_MSG(test, vs_log.nr, 0,
				    "%s [%#lx,%#lx): changed levels %s, sync mask %#x: expected no arch_sync_kernel_mappings() call, observed %s",
				    walker, before->start, before->end, levels,
				    sync_mask, calls);
		return;
	}

	KUNIT_EXPECT_EQ_MSG(test, vs_log.nr, 1,
			    "%s [%#lx,%#lx): changed levels %s, sync mask %#x: expected exactly one arch_sync_kernel_mappings() call, observed %s",
			    walker, before->start, before->end, levels,
			    sync_mask, calls);
	for (i = 0; i < before->nr; i++) {
		unsigned long start = before->addr[i];
		unsigned long end = vs_next_pmd(start, before->end);

		if (!((before->empty[i] ^ after->empty[i]) & sync_mask))
			continue;
		KUNIT_EXPECT_TRUE_MSG(test, vs_covered(start, end),
				      "%s [%#lx,%#lx): changed levels %s, sync mask %#x: [%#lx,%#lx) changed but is not covered by the sync calls observed: %s",
				      walker, before->start, before->end,
				      levels, sync_mask, start, end, calls);
	}
}

/* Reserving fresh ranges. */

static void vs_free_area(void *area)
{
	free_vm_area(area);
}

/*
 * Is the entry at @level covering @addr empty while every level above it
 * is populated?  Then populating @addr creates exactly the real levels from
 * @level down.
 */
static bool vs_fresh_at(unsigned long addr, unsigned int level)
{
	return vs_empty_levels(addr) == vs_levels_from(level);
}

/*
 * Reserve @count consecutive entries' worth of kernel virtual space at
 * @level, all fresh in the sense of vs_fresh_at().  The whole span of each
 * entry is reserved so that nothing else can populate it meanwhile.
 * Returns the start address, or 0 when the vmalloc space has no such place.
 */
static unsigned long vs_reserve_fresh(struct kunit *test, unsigned int level,
				      unsigned int count)
{
	unsigned long span = vs_level_size(level);
	unsigned long size = span * count;
	unsigned long addr = ALIGN(VMALLOC_START, span);
	struct vm_struct *area;
	unsigned int i;

	if (!vs_level_real(level) || size > VMALLOC_END - VMALLOC_START)
		return 0;

	for (; addr >= VMALLOC_START && addr <= VMALLOC_END - size; addr += span) {
		unsigned int empty = vs_empty_levels(addr);

		if (empty & (level - 1)) {
			/* a level above is empty: skip the whole entry */
			addr = ALIGN(addr + 1, vs_level_size(1U << __ffs(empty))) - span;
			continue;
		}
		for (i = 0; i < count; i++)
			if (!vs_fresh_at(addr + i * span, level))
				break;
		if (i < count)
			continue;

		area = __get_vm_area_caller(size, VM_NO_GUARD, addr,
					    addr + size, __builtin_return_address(0));
		if (!area)
			continue;
		if ((unsigned long)area->addr != addr) {
			free_vm_area(area);
			continue;
		}
		KUNIT_ASSERT_EQ(test, 0,
				kunit_add_action_or_reset(test, vs_free_area, area));
		/* Nothing else can map here now: check again. */
		for (i = 0; i < count; i++)
			KUNIT_ASSERT_TRUE_MSG(test, vs_fresh_at(addr + i * span, level),
					      "reserved [%#lx,%#lx) but the %s entry at %#lx was populated meanwhile",
					      addr, addr + size, vs_level_name(level),
					      addr + i * span);
		return addr;
	}
	return 0;
}

static unsigned long vs_require_fresh(struct kunit *test, unsigned int level,
				      unsigned int count)
{
	unsigned long addr;

	if (!vs_level_real(level))
		kunit_skip(test,
			   "a %s entry is never empty here: the level below it is folded on this architecture",
			   vs_level_name(level));
	addr = vs_reserve_fresh(test, level, count);
	if (!addr)
		kunit_skip(test,
			   "no vmalloc range with %u empty %s entr%s below populated upper levels: the architecture preallocates them, or earlier cases used them up (vmalloc= enlarges the area on 32-bit)",
			   count, vs_level_name(level), count > 1 ? "ies" : "y");
	return addr;
}

/* apply_to_page_range() and its callbacks. */

struct vs_fill {
	struct page **pages;
	unsigned long *pfns;
	unsigned int idx;
	unsigned long fail_at;	/* return -EBUSY at this address, if set */
	unsigned int calls;
};

static int vs_fill_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct vs_fill *fill = data;
	pte_t entry;

	fill->calls++;
	if (fill->fail_at && addr >= fill->fail_at)
		return -EBUSY;
	if (fill->pages)
		entry = mk_pte(fill->pages[fill->idx], PAGE_KERNEL);
	else if (fill->pfns)
		entry = pte_mkspecial(pfn_pte(fill->pfns[fill->idx], PAGE_KERNEL));
	else
		return 0;
	set_pte_at(&init_mm, addr, pte, entry);
	fill->idx++;
	return 0;
}

/* Snapshot [start, end) and record sync calls until vs_check(). */
static void vs_watch(struct kunit *test, struct vs_snapshot *before,
		     unsigned long start, unsigned long end)
{
	vs_snapshot(test, before, start, end);
	vs_log_start();
}

static void vs_check(struct kunit *test, const char *walker,
		     const struct vs_snapshot *before)
{
	struct vs_snapshot after;

	vs_log_stop();
	vs_snapshot(test, &after, before->start, before->end);
	if (!vs_observer_err)
		vs_expect_sync(test, walker, before, &after);
}

static int vs_apply(struct kunit *test, const char *walker, bool create,
		    unsigned long start, unsigned long size,
		    struct vs_fill *fill)
{
	struct vs_snapshot before;
	int ret;

	vs_watch(test, &before, start, start + size);
	if (create)
		ret = apply_to_page_range(&init_mm, start, size, vs_fill_pte, fill);
	else
		ret = apply_to_existing_page_range(&init_mm, start, size,
						   vs_fill_pte, fill);
	vs_check(test, walker, &before);
	return ret;
}

enum vs_shape {
	VS_FRESH_PTE_TABLE,
	VS_FRESH_PMD_TABLE,
	VS_BOUNDARY_ONE_SIDE_FRESH,
	VS_POPULATED,
};

struct vs_apply_param {
	enum vs_shape shape;
	const char *desc;
};

static const struct vs_apply_param vs_apply_params[] = {
	{ VS_FRESH_PTE_TABLE, "needs a new PTE table" },
	{ VS_FRESH_PMD_TABLE, "needs a new PMD table" },
	{ VS_BOUNDARY_ONE_SIDE_FRESH, "spans a PMD boundary, upper side fresh" },
	{ VS_POPULATED, "already populated" },
};

KUNIT_ARRAY_PARAM_DESC(vs_apply, vs_apply_params, desc);

static void apply_to_page_range_syncs_new_levels(struct kunit *test)
{
	const struct vs_apply_param *p = test->param_value;
	unsigned long size = VS_NR_PAGES * PAGE_SIZE;
	struct vs_fill fill = {};
	unsigned long addr;
	int ret;

	vs_require_observer(test);
	switch (p->shape) {
	case VS_FRESH_PTE_TABLE:
		addr = vs_require_fresh(test, PGTBL_PMD_MODIFIED, 1);
		break;
	case VS_FRESH_PMD_TABLE:
		addr = vs_require_fresh(test, PGTBL_PUD_MODIFIED, 1);
		break;
	case VS_BOUNDARY_ONE_SIDE_FRESH:
		addr = vs_require_fresh(test, PGTBL_PMD_MODIFIED, 2) + PMD_SIZE - size;
		/* populate the lower side only */
		KUNIT_ASSERT_EQ(test, 0, apply_to_page_range(&init_mm, addr, size,
							     NULL, NULL));
		KUNIT_ASSERT_TRUE_MSG(test, vs_fresh_at(addr + size, PGTBL_PMD_MODIFIED),
				      "populating [%#lx,%#lx) populated the PMD entry above it",
				      addr, addr + size);
		size *= 2;
		break;
	default:
		addr = vs_require_fresh(test, PGTBL_PMD_MODIFIED, 1);
		KUNIT_ASSERT_EQ(test, 0, apply_to_page_range(&init_mm, addr, size,
							     NULL, NULL));
		KUNIT_ASSERT_EQ_MSG(test, vs_empty_levels(addr), 0,
				    "apply_to_page_range(%#lx) left an upper level empty",
				    addr);
		break;
	}

	ret = vs_apply(test, "apply_to_page_range", true, addr, size, &fill);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ_MSG(test, fill.calls, size / PAGE_SIZE,
			    "apply_to_page_range [%#lx,%#lx) called back %u times",
			    addr, addr + size, fill.calls);
}

struct vs_level_param {
	unsigned int level;
	const char *desc;
};

static const struct vs_level_param vs_level_params[] = {
	{ PGTBL_PGD_MODIFIED, "PGD entry populated" },
	{ PGTBL_P4D_MODIFIED, "P4D entry populated" },
	{ PGTBL_PUD_MODIFIED, "PUD entry populated" },
	{ PGTBL_PMD_MODIFIED, "PMD entry populated" },
};

KUNIT_ARRAY_PARAM_DESC(vs_level, vs_level_params, desc);

static void apply_to_page_range_tracks_each_level(struct kunit *test)
{
	const struct vs_level_param *p = test->param_value;
	struct vs_fill fill = {};
	unsigned long addr;

	vs_require_observer(test);
	vs_set_sync_mask(test, p->level);
	addr = vs_require_fresh(test, p->level, 1);
	KUNIT_EXPECT_EQ(test, 0, vs_apply(test, "apply_to_page_range", true,
					  addr, PAGE_SIZE, &fill));
	KUNIT_EXPECT_EQ_MSG(test, vs_log.nr, 1,
			    "apply_to_page_range populated a %s entry at %#lx with only %s in the sync mask",
			    vs_level_name(p->level), addr, vs_level_name(p->level));
}

struct vs_existing_param {
	bool populated;
	const char *desc;
};

static const struct vs_existing_param vs_existing_params[] = {
	{ false, "fresh range" },
	{ true, "populated range" },
};

KUNIT_ARRAY_PARAM_DESC(vs_existing, vs_existing_params, desc);

static void vs_kthread_stop(void *task)
{
	kthread_stop(task);
	put_task_struct(task);
}

static void vs_free_page(void *page)
{
	__free_page(page);
}

static struct page **vs_alloc_pages(struct kunit *test, unsigned int nr)
{
	struct page **pages = kunit_kcalloc(test, nr, sizeof(*pages), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < nr; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		KUNIT_ASSERT_EQ(test, 0,
				kunit_add_action_or_reset(test, vs_free_page, pages[i]));
	}
	return pages;
}

static void apply_to_existing_page_range_creates_nothing(struct kunit *test)
{
	const struct vs_existing_param *p = test->param_value;
	unsigned long size = VS_NR_PAGES * PAGE_SIZE;
	unsigned int empty;
	struct vs_fill fill = {};
	unsigned long addr;

	vs_require_observer(test);
	addr = vs_require_fresh(test, PGTBL_PMD_MODIFIED, 1);
	if (p->populated) {
		struct vs_fill map = { .pages = vs_alloc_pages(test, VS_NR_PAGES) };

		KUNIT_ASSERT_EQ(test, 0, apply_to_page_range(&init_mm, addr, size,
							     vs_fill_pte, &map));
	}
	empty = vs_empty_levels(addr);

	KUNIT_EXPECT_EQ(test, 0, vs_apply(test, "apply_to_existing_page_range",
					  false, addr, size, &fill));
	KUNIT_EXPECT_EQ_MSG(test, vs_empty_levels(addr), empty,
			    "apply_to_existing_page_range [%#lx,%#lx) changed which levels are empty",
			    addr, addr + size);
	KUNIT_EXPECT_EQ_MSG(test, fill.calls, p->populated ? VS_NR_PAGES : 0,
			    "apply_to_existing_page_range [%#lx,%#lx) must call back for each present PTE only",
			    addr, addr + size);
}

static void apply_to_page_range_error_still_syncs(struct kunit *test)
{
	unsigned long size = VS_NR_PAGES * PAGE_SIZE;
	struct vs_fill fill = {};
	unsigned long addr;

	vs_require_observer(test);
	/* both PTE tables are created before the callback fails in the second */
	addr = vs_require_fresh(test, PGTBL_PMD_MODIFIED, 2) + PMD_SIZE - size;
	fill.fail_at = addr + size;

	KUNIT_EXPECT_EQ(test, -EBUSY, vs_apply(test, "apply_to_page_range (callback fails)",
					       true, addr, 2 * size, &fill));
	KUNIT_EXPECT_EQ(test, fill.calls, VS_NR_PAGES + 1);
}

/*
 * The vmalloc.c walkers: vmap()/vmalloc() (__vmap_pages_range_noflush()),
 * ioremap (vmap_page_range()), and vunmap_range().
 */
enum vs_walker {
	VS_VMAP_PAGES,
	VS_VMAP_PHYS,
	VS_VMAP_HUGE,
	VS_VUNMAP_PTES,
	VS_VUNMAP_HUGE,
};

struct vs_walker_param {
	enum vs_walker walker;
	/* level that is empty before the call; a huge entry is one of it */
	unsigned int fresh;
	const char *desc;
};

static const struct vs_walker_param vs_walker_params[] = {
	{ VS_VMAP_PAGES, PGTBL_PMD_MODIFIED, "vmap_pages_range, new PTE table" },
	{ VS_VMAP_PAGES, PGTBL_PUD_MODIFIED, "vmap_pages_range, new PMD table" },
	{ VS_VMAP_PHYS, PGTBL_PMD_MODIFIED, "vmap_page_range, new PTE table" },
	{ VS_VMAP_PHYS, PGTBL_PUD_MODIFIED, "vmap_page_range, new PMD table" },
	{ VS_VMAP_HUGE, PGTBL_PMD_MODIFIED, "vmap_page_range, huge PMD" },
	{ VS_VMAP_HUGE, PGTBL_PUD_MODIFIED, "vmap_page_range, huge PUD" },
	{ VS_VUNMAP_PTES, PGTBL_PMD_MODIFIED, "vunmap_range, 4 KiB PTEs" },
	{ VS_VUNMAP_HUGE, PGTBL_PMD_MODIFIED, "vunmap_range, huge PMD" },
	{ VS_VUNMAP_HUGE, PGTBL_PUD_MODIFIED, "vunmap_range, huge PUD" },
};

KUNIT_ARRAY_PARAM_DESC(vs_walker, vs_walker_params, desc);

static void vs_free_pages(void *page)
{
	__free_pages(page, compound_order(page));
}

/* Physically contiguous, naturally aligned memory of 2^order pages. */
static phys_addr_t vs_alloc_contig(struct kunit *test, unsigned int order)
{
	struct page *page = alloc_pages(GFP_KERNEL | __GFP_COMP | __GFP_NOWARN,
					order);

	if (!page)
		kunit_skip(test, "no %lu KiB of contiguous memory for a huge mapping",
			   (PAGE_SIZE << order) / 1024);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, vs_free_pages, page));
	return page_to_phys(page);
}

static bool vs_huge_supported(unsigned int level)
{
	if (!IS_ENABLED(CONFIG_HAVE_ARCH_HUGE_VMAP))
		return false;
	if (level == PGTBL_PUD_MODIFIED)
		return arch_vmap_pud_supported(PAGE_KERNEL);
	return arch_vmap_pmd_supported(PAGE_KERNEL);
}

/* Is @addr mapped by a huge entry at @level? */
static bool vs_huge_at(unsigned long addr, unsigned int level)
{
	pud_t *pud = pud_offset(p4d_offset(pgd_offset_k(addr), addr), addr);

	if (level == PGTBL_PUD_MODIFIED)
		return pud_leaf(*pud);
	return !pud_none(*pud) && !pud_leaf(*pud) && pmd_leaf(*pmd_offset(pud, addr));
}

/* Map one huge entry at @level over @addr, or skip saying why not. */
static int vs_vmap_huge(struct kunit *test, unsigned long addr,
			unsigned int level, phys_addr_t phys)
{
	unsigned long size = vs_level_size(level);
	int ret = vmap_page_range(addr, addr + size, phys, PAGE_KERNEL);

	if (!ret && !vs_huge_at(addr, level))
		kunit_skip(test,
			   "vmap_page_range() mapped %s-aligned memory with smaller pages: huge ioremap is off (nohugeiomap) or the architecture refused it (x86: MTRRs, see the log)",
			   vs_level_name(level));
	return ret;
}

static void vmalloc_walkers_sync_changed_levels(struct kunit *test)
{
	const struct vs_walker_param *p = test->param_value;
	bool huge = p->walker == VS_VMAP_HUGE || p->walker == VS_VUNMAP_HUGE;
	unsigned long size = huge ? vs_level_size(p->fresh) : VS_NR_PAGES * PAGE_SIZE;
	struct vs_snapshot before;
	struct page **pages = NULL;
	phys_addr_t phys = 0;
	unsigned long addr;
	int ret = 0;

	vs_require_observer(test);
	if (huge && !vs_huge_supported(p->fresh))
		kunit_skip(test,
			   "the architecture maps no huge %ss in vmalloc space (CONFIG_HAVE_ARCH_HUGE_VMAP, arch_vmap_%s_supported())",
			   vs_level_name(p->fresh),
			   p->fresh == PGTBL_PUD_MODIFIED ? "pud" : "pmd");

	/* before the range, so that the range is unmapped before they are freed */
	if (p->walker == VS_VMAP_PAGES || p->walker == VS_VUNMAP_PTES)
		pages = vs_alloc_pages(test, VS_NR_PAGES);
	else
		phys = vs_alloc_contig(test, get_order(size));
	addr = vs_require_fresh(test, p->fresh, 1);

	if (p->walker == VS_VUNMAP_PTES)
		KUNIT_ASSERT_EQ(test, 0,
				__vmap_pages_range_noflush(addr, addr + size, PAGE_KERNEL,
							   pages, PAGE_SHIFT));
	if (p->walker == VS_VUNMAP_HUGE)
		KUNIT_ASSERT_EQ(test, 0, vs_vmap_huge(test, addr, p->fresh, phys));

	vs_watch(test, &before, addr, addr + size);
	switch (p->walker) {
	case VS_VMAP_PAGES:
		ret = __vmap_pages_range_noflush(addr, addr + size, PAGE_KERNEL,
						 pages, PAGE_SHIFT);
		break;
	case VS_VMAP_PHYS:
	case VS_VMAP_HUGE:
		ret = vmap_page_range(addr, addr + size, phys, PAGE_KERNEL);
		break;
	default:
		vunmap_range(addr, addr + size);
		break;
	}
	vs_check(test, p->desc, &before);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "%s [%#lx,%#lx)", p->desc, addr, addr + size);
	if (p->walker == VS_VMAP_HUGE && !vs_huge_at(addr, p->fresh))
		kunit_info(test, "%s: mapped with smaller pages, huge ioremap is off or refused",
			   p->desc);
}

/*
 * Other tasks map and unmap elsewhere in vmalloc space meanwhile: the
 * calls made for this task's fresh ranges must stay exactly as expected.
 */
static int vs_vmalloc_churn(void *unused)
{
	while (!kthread_should_stop()) {
		vfree(vmalloc(VS_NR_PAGES * PAGE_SIZE));
		cond_resched();
	}
	return 0;
}

#define VS_CHURN_THREADS	2
#define VS_CHURN_ROUNDS		4

static void apply_to_page_range_exact_under_concurrent_vmalloc(struct kunit *test)
{
	struct task_struct *task;
	unsigned long addr;
	unsigned int i;

	vs_require_observer(test);
	for (i = 0; i < VS_CHURN_THREADS; i++) {
		task = kthread_run(vs_vmalloc_churn, NULL, "vmalloc_sync_churn/%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
		get_task_struct(task);
		KUNIT_ASSERT_EQ(test, 0,
				kunit_add_action_or_reset(test, vs_kthread_stop, task));
	}
	for (i = 0; i < VS_CHURN_ROUNDS; i++) {
		struct vs_fill fill = {};

		addr = vs_require_fresh(test, PGTBL_PMD_MODIFIED, 1);
		KUNIT_EXPECT_EQ(test, 0, vs_apply(test, "apply_to_page_range (concurrent vmalloc)",
						  true, addr, VS_NR_PAGES * PAGE_SIZE,
						  &fill));
	}
}

/*
 * The i915 pattern that broke in v5.8: reserve an area and fill its PTEs
 * through apply_to_page_range(), then read it back.
 */
struct vs_backing {
	const char *desc;
	bool by_pfn;
};

static const struct vs_backing vs_backings[] = {
	{ "page-backed PTEs", false },
	{ "PFN-backed PTEs", true },
};

KUNIT_ARRAY_PARAM_DESC(vs_backing, vs_backings, desc);

static void vs_fill_pattern(void *buf, unsigned int page)
{
	memset(buf, 0xa5 ^ page, PAGE_SIZE);
	*(u32 *)buf = 0x5a5a0000 | page;
}

/*
 * Map VS_NR_PAGES freshly allocated pages at a fresh range the way
 * alloc_vm_area() users did, after writing a pattern through the pages'
 * own addresses.  Returns the mapping's address.
 */
static unsigned long vs_map_i915_style(struct kunit *test, bool by_pfn)
{
	struct page **pages = vs_alloc_pages(test, VS_NR_PAGES);
	unsigned long size = VS_NR_PAGES * PAGE_SIZE;
	struct vs_fill fill = {};
	unsigned long pfns[VS_NR_PAGES];
	unsigned long addr;
	unsigned int i;

	for (i = 0; i < VS_NR_PAGES; i++) {
		vs_fill_pattern(page_address(pages[i]), i);
		pfns[i] = page_to_pfn(pages[i]);
	}
	if (by_pfn)
		fill.pfns = pfns;
	else
		fill.pages = pages;

	addr = vs_require_fresh(test, PGTBL_PMD_MODIFIED, 1);
	KUNIT_ASSERT_EQ(test, 0, vs_apply(test, "apply_to_page_range (i915 style)",
					  true, addr, size, &fill));
	flush_cache_vmap(addr, addr + size);
	return addr;
}

static void vs_expect_pattern(struct kunit *test, const char *how,
			      const void *mapping, unsigned int nr)
{
	void *expect = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, expect);
	for (i = 0; i < nr; i++) {
		vs_fill_pattern(expect, i);
		KUNIT_EXPECT_TRUE_MSG(test,
				      !memcmp(mapping + i * PAGE_SIZE, expect, PAGE_SIZE),
				      "%s: page %u at %#lx does not read back the pattern written through its own address",
				      how, i, (unsigned long)mapping + i * PAGE_SIZE);
	}
}

static void i915_style_mapping_is_readable(struct kunit *test)
{
	const struct vs_backing *p = test->param_value;
	unsigned long addr;

	addr = vs_map_i915_style(test, p->by_pfn);
	vs_expect_pattern(test, p->desc, (void *)addr, VS_NR_PAGES);
}

static void vs_vunmap(void *addr)
{
	vunmap(addr);
}

static void vs_memunmap(void *addr)
{
	memunmap(addr);
}

/*
 * i915 maps device memory with vmap_pfn(), which refuses PFNs that have a
 * struct page: use RAM hidden from the kernel with mem=.  With SPARSEMEM a
 * boot-time section is valid as a whole, so mem= must end on a section.
 */
static void vmap_pfn_mapping_is_readable(struct kunit *test)
{
	unsigned long pfns[VS_NR_PAGES];
	void *mapping, *own;
	unsigned int i;

	if (!IS_ENABLED(CONFIG_HAS_IOMEM))
		kunit_skip(test, "needs CONFIG_HAS_IOMEM=y for memremap()");
	if (!spare_ram)
		kunit_skip(test,
			   "needs RAM without struct pages: boot with mem=N and vmalloc_sync_kunit.spare_ram=PHYS above N");
	for (i = 0; i < VS_NR_PAGES; i++) {
		pfns[i] = PHYS_PFN(spare_ram) + i;
		if (pfn_valid(pfns[i]))
			kunit_skip(test,
				   "spare_ram=%#lx has a struct page (pfn %#lx): boot with mem= below it",
				   spare_ram, pfns[i]);
	}

	own = memremap(spare_ram, VS_NR_PAGES * PAGE_SIZE, MEMREMAP_WB);
	KUNIT_ASSERT_NOT_NULL_MSG(test, own, "memremap(%#lx)", spare_ram);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, vs_memunmap, own));
	for (i = 0; i < VS_NR_PAGES; i++)
		vs_fill_pattern(own + i * PAGE_SIZE, i);

	vs_log_start();
	mapping = vmap_pfn(pfns, VS_NR_PAGES, PAGE_KERNEL);
	vs_log_stop();
	KUNIT_ASSERT_NOT_NULL(test, mapping);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, vs_vunmap, mapping));

	for (i = 0; i < min(vs_log.nr, VS_MAX_CALLS); i++)
		KUNIT_EXPECT_TRUE_MSG(test,
				      vs_log.calls[i].start <= (unsigned long)mapping &&
				      vs_log.calls[i].end >= (unsigned long)mapping +
							     VS_NR_PAGES * PAGE_SIZE,
				      "vmap_pfn at %#lx: sync call [%#lx,%#lx) does not cover the mapping",
				      (unsigned long)mapping, vs_log.calls[i].start,
				      vs_log.calls[i].end);
	vs_expect_pattern(test, "vmap_pfn", mapping, VS_NR_PAGES);
}

/*
 * Cross-address-space visibility: an mm that was last switched to before
 * the mapping existed must resolve it to init_mm's tables when it is
 * switched to again.  x86-32 copies a new entry into every pgd at once;
 * 32-bit ARM bumps init_mm.context.vmalloc_seq and copies the vmalloc
 * entries at the next switch_mm().
 */
static pte_t *vs_pte_table(pgd_t *pgd, unsigned long addr)
{
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	if (pgd_none(*pgd))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud))
		return NULL;
	pmd = pmd_offset(pud, addr);
	if (pmd_none(*pmd) || pmd_leaf(*pmd))
		return NULL;
	return pte_offset_kernel(pmd, addr);
}

static void vs_mmput(void *mm)
{
	mmput(mm);
}

static struct mm_struct *vs_mm_alloc(struct kunit *test)
{
	struct mm_struct *mm = mm_alloc();

	KUNIT_ASSERT_NOT_NULL(test, mm);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, vs_mmput, mm));
	return mm;
}

static void other_mm_sees_new_tables(struct kunit *test)
{
	unsigned long size = VS_NR_PAGES * PAGE_SIZE;
	pte_t *want[VS_NR_PAGES], *seen[VS_NR_PAGES];
	struct mm_struct *old_mm, *other_mm;
	bool synced = true;
	unsigned long addr;
	unsigned int i;
	void *copy;

	if (!IS_ENABLED(CONFIG_ARCH_SYNCS_KERNEL_MAPPINGS))
		kunit_skip(test,
			   "the architecture has no arch_sync_kernel_mappings() of its own: other mms need not map kernel space, only the call log is checked");

	old_mm = vs_mm_alloc(test);
	other_mm = vs_mm_alloc(test);
	copy = kunit_kzalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, copy);

	/*
	 * Switch to old_mm while the mapping does not exist, so that it is up
	 * to date now, then away from it, so that using it again below is a
	 * real switch_mm().
	 */
	kthread_use_mm(old_mm);
	kthread_unuse_mm(old_mm);
	kthread_use_mm(other_mm);
	kthread_unuse_mm(other_mm);

	addr = vs_map_i915_style(test, false);
	for (i = 0; i < VS_NR_PAGES; i++) {
		unsigned long a = addr + i * PAGE_SIZE;

		want[i] = vs_pte_table(pgd_offset_k(a), a);
		KUNIT_ASSERT_NOT_NULL(test, want[i]);
	}

	/*
	 * Walk the tables rather than touching the memory first: x86-32 and
	 * ARM repair a missing entry lazily in the fault handler, which would
	 * hide a missing sync.  Read only through tables that match.
	 */
	kthread_use_mm(old_mm);
	for (i = 0; i < VS_NR_PAGES; i++) {
		unsigned long a = addr + i * PAGE_SIZE;

		seen[i] = vs_pte_table(pgd_offset(old_mm, a), a);
		synced &= seen[i] == want[i];
	}
	if (synced)
		memcpy(copy, (void *)addr, size);
	kthread_unuse_mm(old_mm);

	for (i = 0; i < VS_NR_PAGES; i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test, seen[i], want[i],
					"switched to an mm last used before apply_to_page_range [%#lx,%#lx): it resolves %#lx to another PTE table than init_mm, the new upper-level entry was not synced",
					addr, addr + size, addr + i * PAGE_SIZE);
	if (synced)
		vs_expect_pattern(test, "read through an mm last used before the mapping",
				  copy, VS_NR_PAGES);
}

static struct kunit_case vmalloc_sync_test_cases[] = {
	KUNIT_CASE_PARAM(apply_to_page_range_syncs_new_levels, vs_apply_gen_params),
	KUNIT_CASE_PARAM(apply_to_page_range_tracks_each_level, vs_level_gen_params),
	KUNIT_CASE_PARAM(apply_to_existing_page_range_creates_nothing,
			 vs_existing_gen_params),
	KUNIT_CASE(apply_to_page_range_error_still_syncs),
	KUNIT_CASE_PARAM(vmalloc_walkers_sync_changed_levels, vs_walker_gen_params),
	KUNIT_CASE(apply_to_page_range_exact_under_concurrent_vmalloc),
	KUNIT_CASE_PARAM(i915_style_mapping_is_readable, vs_backing_gen_params),
	KUNIT_CASE(vmap_pfn_mapping_is_readable),
	KUNIT_CASE(other_mm_sees_new_tables),
	{}
};

static struct kunit_suite vmalloc_sync_test_suite = {
	.name = "vmalloc_sync",
	.suite_init = vs_suite_init,
	.suite_exit = vs_suite_exit,
	.test_cases = vmalloc_sync_test_cases,
};

kunit_test_suite(vmalloc_sync_test_suite);

MODULE_DESCRIPTION("KUnit tests for kernel page-table sync (arch_sync_kernel_mappings)");
MODULE_LICENSE("GPL");
