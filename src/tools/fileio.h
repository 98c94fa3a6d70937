/*
 * Whole-file reading and replacing for the offline tools that edit files
 * (`sipwarden account rotate`). Main thread of the command.
 */
#ifndef SW_TOOLS_FILEIO_H
#define SW_TOOLS_FILEIO_H

#include <stddef.h>

/*
 * Reads the regular file at `path` (at most `max_len` bytes) into a new NUL-terminated
 * buffer (sw_free) and its length into *len. Returns 0, -errno, -SW_EBADARG (not a
 * regular file) or -SW_ETOOBIG.
 */
int tools_fileio_read(const char *path, size_t max_len, char **out, size_t *len);

/*
 * Replaces the file at `path` with `len` bytes of `data` atomically: a temporary file in
 * the same folder takes the old file's mode and owner, is synced, then renamed over it
 * (a symbolic link is followed, so the link stays). A crash leaves the old or the new
 * file, never half of one. Returns 0 or -errno (the old file is then untouched).
 */
int tools_fileio_replace(const char *path, const char *data, size_t len);

#endif
