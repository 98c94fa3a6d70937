#include "support/guarded.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct mapping {
    void *base;
    size_t len;
};

static struct mapping mappings[4096];
static size_t mapping_count;

struct sv guarded_copy(const void *data, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data_pages = (len + page - 1) / page;
    if (data_pages == 0) {
        data_pages = 1;
    }
    size_t total = (data_pages + 1) * page;
    unsigned char *base =
        mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mapping_count == sizeof(mappings) / sizeof(mappings[0])) {
        (void)fprintf(stderr, "guarded_copy: cannot map %zu bytes\n", total);
        abort();
    }
    unsigned char *guard = base + data_pages * page;
    if (mprotect(guard, page, PROT_NONE) != 0) {
        abort();
    }
    unsigned char *start = guard - len;
    if (len > 0) {
        memcpy(start, data, len);
    }
    mappings[mapping_count++] = (struct mapping){ .base = base, .len = total };
    return sv_make((const char *)start, len);
}

struct sv guarded_sv(const char *text)
{
    return guarded_copy(text, strlen(text));
}

void guarded_release_all(void)
{
    for (size_t i = 0; i < mapping_count; i++) {
        (void)munmap(mappings[i].base, mappings[i].len);
    }
    mapping_count = 0;
}
