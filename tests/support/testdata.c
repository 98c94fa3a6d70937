#include "support/testdata.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const char *testdata_dir(void)
{
    const char *dir = getenv("SW_TESTDATA"); /* NOLINT(concurrency-mt-unsafe) */
    struct stat st;
    if (dir == NULL || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return NULL;
    }
    return dir;
}

const char *testdata_source_dir(void)
{
    return getenv("SW_SOURCE_DIR"); /* NOLINT(concurrency-mt-unsafe) */
}

char *testdata_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 4096;
    size_t used = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + used, 1, cap - used - 1, f);
        used += got;
        if (got == 0) {
            break;
        }
        if (cap - used - 1 == 0) {
            cap *= 2;
            char *grown = realloc(buf, cap);
            if (grown == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
        }
    }
    (void)fclose(f);
    if (buf != NULL) {
        buf[used] = '\0';
        *len = used;
    }
    return buf;
}
