/*
 * Test inputs placed at the very end of a readable page, followed by a PROT_NONE page,
 * so a parser that reads one byte past its input crashes the test (picohttpparser's
 * trick). Buffers live until guarded_release_all(); tests are single-threaded.
 */
#ifndef SW_TESTS_GUARDED_H
#define SW_TESTS_GUARDED_H

#include <stddef.h>

#include "base/sv.h"

/* A view of a guarded copy of `len` bytes at `data`; aborts the test on mmap failure. */
struct sv guarded_copy(const void *data, size_t len);

/* A guarded copy of a NUL-terminated string (without the NUL). */
struct sv guarded_sv(const char *text);

/* Unmaps every guarded buffer. */
void guarded_release_all(void);

#endif
