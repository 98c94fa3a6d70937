/*
 * Country databases for the unit tests: writes a MaxMind DB file with
 * tests/it/tools/mmdb_write.py (python3, found on PATH; the source tree from
 * SW_SOURCE_DIR), the same writer the integration tests use. Single-threaded.
 */
#ifndef SW_TESTS_MMDB_H
#define SW_TESTS_MMDB_H

/*
 * Writes `path` mapping each "PREFIX=CC" of the NULL-terminated `networks`
 * ("127.0.0.0/28=DE"). Returns 0, or -1 when the writer could not run or failed.
 */
int mmdb_test_write(const char *path, const char *const *networks);

#endif
