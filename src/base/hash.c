#include "base/hash.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/random.h>

static uint64_t key0 = 0x736f6d6570736575ULL;
static uint64_t key1 = 0x646f72616e646f6dULL;
static atomic_bool seeded;

int sw_hash_init(void)
{
    if (atomic_load(&seeded)) {
        return 0;
    }
    uint64_t key[2];
    if (getrandom(key, sizeof(key), 0) != (ssize_t)sizeof(key)) {
        return errno != 0 ? -errno : -EIO;
    }
    key0 = key[0];
    key1 = key[1];
    atomic_store(&seeded, true);
    return 0;
}

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND           \
    do {                   \
        v0 += v1;          \
        v1 = rotl(v1, 13); \
        v1 ^= v0;          \
        v0 = rotl(v0, 32); \
        v2 += v3;          \
        v3 = rotl(v3, 16); \
        v3 ^= v2;          \
        v0 += v3;          \
        v3 = rotl(v3, 21); \
        v3 ^= v0;          \
        v2 += v1;          \
        v1 = rotl(v1, 17); \
        v1 ^= v2;          \
        v2 = rotl(v2, 32); \
    } while (0)

/* SipHash-1-3 (one compression round, three finalization rounds), as Rust and Python use. */
/* NOLINTNEXTLINE(readability-function-size): the SipHash rounds are macros, one loop. */
uint64_t sw_hash_bytes(const void *data, size_t len)
{
    const unsigned char *in = data;
    uint64_t v0 = key0 ^ 0x736f6d6570736575ULL;
    uint64_t v1 = key1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = key0 ^ 0x6c7967656e657261ULL;
    uint64_t v3 = key1 ^ 0x7465646279746573ULL;
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m;
        memcpy(&m, in + i, 8);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t last = (uint64_t)len << 56;
    for (size_t i = 0; i < (len & 7); i++) {
        last |= (uint64_t)in[full + i] << (8 * i);
    }
    v3 ^= last;
    SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t sw_hash_sv(struct sv s)
{
    return sw_hash_bytes(s.ptr == NULL ? "" : s.ptr, s.len);
}

uint64_t sw_hash_sv_nocase(struct sv s)
{
    unsigned char lower[1024];
    size_t len = s.len < sizeof(lower) ? s.len : sizeof(lower);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        lower[i] = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
    }
    return sw_hash_bytes(lower, len);
}
