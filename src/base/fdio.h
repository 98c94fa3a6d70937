/*
 * Writing a whole buffer to a file descriptor, for the writers of files and logs
 * (obs/seclog.c, tools/fileio.c). Any thread; the caller owns the descriptor.
 */
#ifndef SW_BASE_FDIO_H
#define SW_BASE_FDIO_H

#include <stddef.h>

/*
 * Writes the `len` bytes of `data` to `fd`, completing short writes and retrying after
 * EINTR, in at most `max_writes` calls of write(2) (a bound, so that a descriptor that
 * keeps accepting one byte at a time cannot hold the caller). Returns 0, the -errno of
 * the write that failed, or -EIO when max_writes calls did not write it all.
 */
int sw_write_all(int fd, const void *data, size_t len, unsigned max_writes);

#endif
