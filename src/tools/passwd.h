/*
 * `sipwarden passwd`: secrets for trunks and accounts.
 *
 *   passwd gen [--length N]    a random secret (default 24, at least 16, at most 256)
 *   passwd check               judges the secret read from stdin (exit 1 when weak)
 *   passwd ha1 --user U --realm R [--algorithm MD5|SHA-256|SHA-512-256]
 *                              the HA1 of the secret read from stdin
 *
 * Secrets are read from stdin only, never from the command line (which other local users
 * can see in /proc); on a terminal echo is turned off while reading. Buffers that held a
 * secret are wiped. Runs on the main thread of the command.
 */
#ifndef SW_TOOLS_PASSWD_H
#define SW_TOOLS_PASSWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PASSWD_DEFAULT_LENGTH 24
#define PASSWD_MIN_LENGTH     16
#define PASSWD_MAX_LENGTH     256
#define PASSWD_MAX_SECRET     1024 /* longest secret accepted on stdin, in bytes */

/* The 70 characters a generated secret is drawn from: letters, digits and !@#$%^&*. */
extern const char passwd_alphabet[];
#define PASSWD_ALPHABET_SIZE 70u

/*
 * Maps one random byte to an alphabet index without modulo bias: bytes below the largest
 * multiple of 70 that fits (210) give byte % 70; the others return false and must be
 * redrawn.
 */
bool passwd_pick(uint8_t byte, unsigned *index);

/*
 * Writes a random secret of `length` characters (PASSWD_MIN_LENGTH..PASSWD_MAX_LENGTH)
 * plus NUL into `out` (`cap` > length). Every character is drawn uniformly from the
 * alphabet with getrandom(2); a draw that lacks one of the four classes (lower, upper,
 * digit, symbol) is thrown away and drawn again, which keeps the result uniform over all
 * secrets that have every class (placing one of each and shuffling would not). Returns 0,
 * -SW_EBADARG for a bad length, or a negative errno when the kernel's CSPRNG fails.
 */
int passwd_generate(size_t length, char *out, size_t cap);

/* The subcommand; argv[0] is "passwd". Exit status: 0 ok, 1 weak secret, 2 error/usage. */
int tools_passwd_main(int argc, char **argv);

#endif
