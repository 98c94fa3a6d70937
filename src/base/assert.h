/*
 * Assertions for programmer errors only; input from the network never reaches one.
 * SW_ASSERT is always on: it logs file and line and aborts. SW_DEBUG_ASSERT is for
 * expensive invariants and compiles away unless SW_DEBUG is defined.
 */
#ifndef SW_BASE_ASSERT_H
#define SW_BASE_ASSERT_H

/* Prints the failed condition with its location to stderr and aborts. */
_Noreturn void sw_assert_fail(const char *cond, const char *file, int line);

#define SW_ASSERT(cond)                                \
    do {                                               \
        if (!(cond)) {                                 \
            sw_assert_fail(#cond, __FILE__, __LINE__); \
        }                                              \
    } while (0)

#ifdef SW_DEBUG
#define SW_DEBUG_ASSERT(cond) SW_ASSERT(cond)
#else
#define SW_DEBUG_ASSERT(cond) ((void)0)
#endif

#endif
