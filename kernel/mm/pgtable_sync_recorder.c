// SPDX-License-Identifier: GPL-2.0
/*
 * arch_sync_kernel_mappings() for CONFIG_DEBUG_PGTABLE_SYNC_RECORDER.
 *
 * The architecture needs no sync, so this one copies nothing: it only
 * reports each call to a recorder, so that tests can see the generic
 * pgtbl_mod_mask tracking that is otherwise compiled out.
 */

#include <linux/pgtable.h>
#include <linux/rcupdate.h>

unsigned int pgtable_sync_recorder_mask = PGTBL_PGD_MODIFIED |
					  PGTBL_P4D_MODIFIED |
					  PGTBL_PUD_MODIFIED |
					  PGTBL_PMD_MODIFIED;

static void (*pgtable_sync_recorder)(unsigned long start, unsigned long end);

void pgtable_sync_set_recorder(void (*recorder)(unsigned long start,
						unsigned long end))
{
	WRITE_ONCE(pgtable_sync_recorder, recorder);
	synchronize_rcu();
}

void arch_sync_kernel_mappings(unsigned long start, unsigned long end)
{
	void (*recorder)(unsigned long start, unsigned long end);

	rcu_read_lock();
	recorder = READ_ONCE(pgtable_sync_recorder);
	if (recorder)
		recorder(start, end);
	rcu_read_unlock();
}
