#include "base/bpf_embed.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"

/* libbpf's own messages: its warnings say why a load failed, the rest is noise. */
__attribute__((format(printf, 2, 0))) static int libbpf_say(enum libbpf_print_level level,
                                                            const char *fmt, va_list args)
{
    if (level != LIBBPF_WARN) {
        return 0;
    }
    char line[256];
    int n = vsnprintf(line, sizeof(line), fmt, args);
    size_t len = n > 0 ? strnlen(line, sizeof(line)) : 0;
    while (len > 0 && line[len - 1] == '\n') {
        line[--len] = '\0';
    }
    log_debug(NULL, "libbpf: %s", line);
    return n;
}

int sw_bpf_open_embedded(const unsigned char *image, size_t len, const char *name,
                         struct bpf_object **out, char *why, size_t cap)
{
    (void)libbpf_set_print(libbpf_say);
    /* LIBBPF_OPTS would do this with a GNU statement expression (not ISO C). */
    struct bpf_object_open_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.sz = sizeof(opts);
    opts.object_name = name;
    *out = bpf_object__open_mem(image, len, &opts);
    if (*out == NULL) {
        int err = -errno;
        (void)snprintf(why, cap, "cannot open the embedded %s: %s", name, sw_strerror(err));
        return err;
    }
    return 0;
}

int sw_bpf_load(struct bpf_object *obj, const char *program, const char *what, char *why,
                size_t cap)
{
    int rc = bpf_object__load(obj);
    if (rc != 0) {
        (void)snprintf(why, cap, "the kernel refused the %s: %s", what, sw_strerror(rc));
        return rc;
    }
    struct bpf_program *prog = bpf_object__find_program_by_name(obj, program);
    int fd = prog != NULL ? bpf_program__fd(prog) : -1;
    if (fd < 0) {
        (void)snprintf(why, cap, "the embedded %s has no program %s", what, program);
        return -SW_EBADARG;
    }
    return fd;
}

int sw_bpf_map_fd(struct bpf_object *obj, const char *name, char *why, size_t cap)
{
    int fd = bpf_object__find_map_fd_by_name(obj, name);
    if (fd < 0) {
        (void)snprintf(why, cap, "the embedded program has no map %s", name);
        return -SW_EBADARG;
    }
    return fd;
}

void sw_bpf_sum_percpu(int map_fd, unsigned count, uint64_t *out)
{
    memset(out, 0, count * sizeof(out[0]));
    int cpus = libbpf_num_possible_cpus();
    uint64_t *values = cpus > 0 ? sw_calloc((size_t)cpus, sizeof(*values)) : NULL;
    if (values == NULL) {
        return;
    }
    for (uint32_t index = 0; index < count; index++) {
        if (bpf_map_lookup_elem(map_fd, &index, values) != 0) {
            continue;
        }
        for (int cpu = 0; cpu < cpus; cpu++) {
            out[index] += values[cpu];
        }
    }
    sw_free(values);
}
