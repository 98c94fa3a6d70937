#include "base/alloc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 0 = never fail; otherwise the 1-based index of the allocation that fails. */
static atomic_uint_fast64_t fail_at;
static atomic_uint_fast64_t alloc_count;
static atomic_bool fail_at_read;

static void read_fail_at(void)
{
    /* getenv is read once, before threads start allocating in earnest. */
    const char *value = getenv("SW_ALLOC_FAIL_AT"); /* NOLINT(concurrency-mt-unsafe) */
    uint64_t n = 0;
    if (value != NULL) {
        n = strtoull(value, NULL, 10);
    }
    atomic_store(&fail_at, n);
    atomic_store(&fail_at_read, true);
}

static bool should_fail(void)
{
    if (!atomic_load(&fail_at_read)) {
        read_fail_at();
    }
    uint64_t target = atomic_load(&fail_at);
    if (target == 0) {
        return false;
    }
    return atomic_fetch_add(&alloc_count, 1) + 1 == target;
}

void sw_alloc_reset_failure(void)
{
    atomic_store(&alloc_count, 0);
    read_fail_at();
}

unsigned long long sw_alloc_count(void)
{
    return (unsigned long long)atomic_load(&alloc_count);
}

void *sw_malloc(size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(size == 0 ? 1 : size);
}

void *sw_calloc(size_t count, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
}

void *sw_realloc(void *ptr, size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return realloc(ptr, size == 0 ? 1 : size);
}

void sw_free(void *ptr)
{
    free(ptr);
}

void sw_free_const(const void *ptr)
{
    void *owned;
    /* The owner allocated it; const only kept its users from writing through it. */
    memcpy(&owned, &ptr, sizeof(owned));
    free(owned);
}

void sw_free_secret(const char *secret)
{
    if (secret == NULL) {
        return;
    }
    char *owned;
    memcpy(&owned, &secret, sizeof(owned));
    explicit_bzero(owned, strlen(owned));
    free(owned);
}

char *sw_strdup(const char *s)
{
    size_t len = strlen(s);
    char *copy = sw_malloc(len + 1);
    if (copy != NULL) {
        memcpy(copy, s, len + 1);
    }
    return copy;
}
