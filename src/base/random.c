#include "base/random.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "base/assert.h"

#define RANDOM_BLOCK 512

struct random_pool {
    uint8_t bytes[RANDOM_BLOCK];
    size_t used; /* bytes handed out (and wiped) from the front */
};

/* Starts empty (used == 0 would mean full): filled on first use in each thread. */
static _Thread_local struct random_pool pool = { .used = RANDOM_BLOCK };

static void refill(void)
{
    size_t got = 0;
    while (got < RANDOM_BLOCK) {
        ssize_t n = getrandom(pool.bytes + got, RANDOM_BLOCK - got, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        /* Without the kernel's generator every tag and branch would be guessable: a
         * gateway that cannot draw random bytes must not run. */
        SW_ASSERT(n > 0);
        got += (size_t)n;
    }
    pool.used = 0;
}

void sw_random_bytes(void *out, size_t len)
{
    uint8_t *dst = out;
    while (len > 0) {
        if (pool.used == RANDOM_BLOCK) {
            refill();
        }
        size_t take = RANDOM_BLOCK - pool.used;
        take = take < len ? take : len;
        memcpy(dst, pool.bytes + pool.used, take);
        /* Handed-out bytes leave the buffer: a later dump shows nothing already used. */
        memset(pool.bytes + pool.used, 0, take);
        pool.used += take;
        dst += take;
        len -= take;
    }
}

void sw_random_hex(char *out, size_t digits)
{
    static const char hex[] = "0123456789abcdef";
    uint8_t bytes[32] = { 0 }; /* the analyzer cannot see that every digit gets a byte */
    while (digits > 0) {
        size_t chunk = digits < 2 * sizeof(bytes) ? digits : 2 * sizeof(bytes);
        sw_random_bytes(bytes, (chunk + 1) / 2);
        for (size_t i = 0; i < chunk; i++) {
            uint8_t byte = bytes[i / 2];
            out[i] = hex[(i % 2 == 0) ? (byte >> 4) : (byte & 15)];
        }
        out += chunk;
        digits -= chunk;
    }
}
