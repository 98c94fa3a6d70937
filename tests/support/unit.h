/*
 * cmocka with the system headers it needs before it, in the order it needs them
 * (clang-format would sort them otherwise). Unit tests include this instead of cmocka.h.
 */
#ifndef SW_TESTS_UNIT_H
#define SW_TESTS_UNIT_H

/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#endif
