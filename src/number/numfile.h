/*
 * Whole-file reads for the number library's data files (rate decks, zone files), bounded
 * in size. Any thread.
 */
#ifndef SW_NUMBER_NUMFILE_H
#define SW_NUMBER_NUMFILE_H

#include <stddef.h>

/*
 * Reads the regular file at `path` (at most `max_bytes`) into a new buffer *buf (a NUL
 * added, not counted in *len; freed with sw_free). Returns 0, -errno, -EINVAL (not a
 * regular file), -EFBIG (too large) or -ENOMEM; *buf is NULL on failure.
 */
int numfile_read(const char *path, size_t max_bytes, char **buf, size_t *len);

#endif
