/*
 * The SHA-256 of a file's contents, for evidence: the configuration hash the gateway
 * keeps at each load (gateway_alerts.c) and the hashes of an incident bundle
 * (`sipwarden incident report`). Any thread.
 */
#ifndef SW_OBS_FILEHASH_H
#define SW_OBS_FILEHASH_H

#include <stdbool.h>

#define FILEHASH_HEX_CAP 65 /* 64 hex digits and a NUL */

/* Writes the SHA-256 of the file at `path` in lower-case hex into `hex`
 * (FILEHASH_HEX_CAP bytes). False (and `hex` empty) when it cannot be read. */
bool filehash_sha256(const char *path, char *hex);

#endif
