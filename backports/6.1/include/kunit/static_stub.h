/* SPDX-License-Identifier: GPL-2.0 */
/*
 * v6.1 backport of what mm/vmalloc_sync_kunit.c uses of <kunit/static_stub.h>
 * (v6.3): KUNIT_STATIC_STUB_REDIRECT(), kunit_activate_static_stub() and
 * kunit_get_current_test() (v6.2), for built-in KUnit.  One stub per test,
 * kept as a named resource of the test the current task runs.
 */
#ifndef _KUNIT_STATIC_STUB_H
#define _KUNIT_STATIC_STUB_H

#if !IS_BUILTIN(CONFIG_KUNIT)

#define KUNIT_STATIC_STUB_REDIRECT(real_fn_name, args...) do {} while (0)

#else

#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/compiler.h>
#include <linux/sched.h>

#define kunit_get_current_test() (current->kunit_test)

struct kunit_static_stub {
	void *real_fn_addr;
	void *replacement_addr;
	struct kunit_resource res;
};

static inline void *kunit_static_stub_lookup(void *real_fn_addr)
{
	struct kunit *test = current->kunit_test;
	struct kunit_static_stub *stub;
	struct kunit_resource *res;
	void *replacement = NULL;

	if (likely(!test))
		return NULL;
	res = kunit_find_named_resource(test, "kunit_static_stub");
	if (res) {
		stub = res->data;
		if (stub->real_fn_addr == real_fn_addr)
			replacement = stub->replacement_addr;
		kunit_put_resource(res);
	}
	return replacement;
}

#define KUNIT_STATIC_STUB_REDIRECT(real_fn_name, args...)		\
do {									\
	typeof(&real_fn_name) replacement =				\
		kunit_static_stub_lookup(&real_fn_name);		\
									\
	if (unlikely(replacement))					\
		return replacement(args);				\
} while (0)

static inline void __kunit_activate_static_stub(struct kunit *test,
						void *real_fn_addr,
						void *replacement_addr)
{
	struct kunit_static_stub *stub = kunit_kzalloc(test, sizeof(*stub),
						       GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, stub);
	stub->real_fn_addr = real_fn_addr;
	stub->replacement_addr = replacement_addr;
	KUNIT_ASSERT_EQ(test, 0, kunit_add_named_resource(test, NULL, NULL,
							  &stub->res,
							  "kunit_static_stub",
							  stub));
}

#define kunit_activate_static_stub(test, real_fn_addr, replacement_addr) \
	__kunit_activate_static_stub(test, real_fn_addr, replacement_addr)

#endif
#endif
