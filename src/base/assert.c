#include "base/assert.h"

#include <stdio.h>
#include <stdlib.h>

void sw_assert_fail(const char *cond, const char *file, int line)
{
    /* Nothing useful can be done if stderr is gone; we abort either way. */
    (void)fprintf(stderr, "sipwarden: assertion failed: %s (%s:%d)\n", cond, file, line);
    abort();
}
