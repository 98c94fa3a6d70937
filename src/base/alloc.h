/*
 * Heap allocation. Every allocation in sipwarden goes through these so that tests can
 * fail the n-th one (SW_ALLOC_FAIL_AT=n in the environment, curl's torture mode).
 * Thread-safe. sw_free(NULL) is a no-op.
 */
#ifndef SW_BASE_ALLOC_H
#define SW_BASE_ALLOC_H

#include <stddef.h>

/* malloc/calloc/realloc that may be made to fail; NULL on failure. */
void *sw_malloc(size_t size);
void *sw_calloc(size_t count, size_t size);
void *sw_realloc(void *ptr, size_t size);

/* Frees memory from the functions above; NULL is a no-op. */
void sw_free(void *ptr);

/* Frees memory the owner holds through a const pointer (e.g. strings it hands out as
 * `const char *`). NULL is a no-op. */
void sw_free_const(const void *ptr);

/* Overwrites a NUL-terminated secret with zeros, then frees it. NULL is a no-op. */
void sw_free_secret(const char *secret);

/* An owned copy of `s`, or NULL. */
char *sw_strdup(const char *s);

/* Re-reads SW_ALLOC_FAIL_AT and resets the counter (tests call it between cases). */
void sw_alloc_reset_failure(void);

/* Allocations attempted since the last sw_alloc_reset_failure() while SW_ALLOC_FAIL_AT is
 * set (0 otherwise): a torture loop runs until its target passes this count. */
unsigned long long sw_alloc_count(void);

#endif
