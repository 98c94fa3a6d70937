/*
 * Access to tests/data (SW_TESTDATA in the environment, set by CTest) and to
 * the source tree (SW_SOURCE_DIR). Single-threaded test helpers.
 */
#ifndef SW_TESTS_TESTDATA_H
#define SW_TESTS_TESTDATA_H

#include <stddef.h>

/* The test data folder (tests/data), or NULL when SW_TESTDATA is unset or missing. */
const char *testdata_dir(void);

/* The source tree, or NULL when SW_SOURCE_DIR is unset. */
const char *testdata_source_dir(void);

/*
 * Reads a whole file into a new heap buffer (NUL added, not counted in *len). Returns
 * NULL when it cannot be read. The caller frees with free().
 */
char *testdata_read_file(const char *path, size_t *len);

#endif
