#include "policy/nonce.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>

#include "base/alloc.h"
#include "base/hash.h"

#define NONCE_SHARDS 16

struct nc_slot {
    uint64_t nonce_hash; /* 0 = empty */
    uint64_t seen;       /* bit i: count `highest - i` was accepted */
    uint32_t highest;
};

struct nc_shard {
    pthread_mutex_t lock;
    struct nc_slot *slots;
};

struct nonce_keeper {
    uint8_t mac_key[32];
    uint8_t hide_key[32];
    atomic_uint_fast64_t counter;
    uint32_t lifetime_s;
    size_t slots_per_shard;
    struct nc_shard shards[NONCE_SHARDS];
};

/* Derives the two keys from a fresh random master; false when no randomness. */
static bool derive_keys(struct nonce_keeper *k)
{
    uint8_t master[32];
    if (getrandom(master, sizeof(master), 0) != (ssize_t)sizeof(master)) {
        return false;
    }
    unsigned len = sizeof(k->mac_key);
    bool ok = HMAC(EVP_sha256(), master, sizeof(master), (const uint8_t *)"nonce mac", 9,
                   k->mac_key, &len) != NULL;
    len = sizeof(k->hide_key);
    ok = ok && HMAC(EVP_sha256(), master, sizeof(master), (const uint8_t *)"nonce hide", 10,
                    k->hide_key, &len) != NULL;
    OPENSSL_cleanse(master, sizeof(master));
    return ok;
}

struct nonce_keeper *nonce_keeper_new(uint32_t lifetime_s, size_t replay_slots)
{
    struct nonce_keeper *k = sw_calloc(1, sizeof(*k));
    if (k == NULL) {
        return NULL;
    }
    k->lifetime_s = lifetime_s == 0 ? 300 : lifetime_s;
    k->slots_per_shard = replay_slots / NONCE_SHARDS + 1;
    bool ok = derive_keys(k);
    for (size_t i = 0; i < NONCE_SHARDS; i++) {
        k->shards[i].slots = sw_calloc(k->slots_per_shard, sizeof(struct nc_slot));
        ok = ok && k->shards[i].slots != NULL && pthread_mutex_init(&k->shards[i].lock, NULL) == 0;
    }
    if (!ok) {
        nonce_keeper_free(k);
        return NULL;
    }
    return k;
}

void nonce_keeper_free(struct nonce_keeper *k)
{
    if (k == NULL) {
        return;
    }
    for (size_t i = 0; i < NONCE_SHARDS; i++) {
        if (k->shards[i].slots != NULL) {
            sw_free(k->shards[i].slots);
            pthread_mutex_destroy(&k->shards[i].lock);
        }
    }
    OPENSSL_cleanse(k->mac_key, sizeof(k->mac_key));
    OPENSSL_cleanse(k->hide_key, sizeof(k->hide_key));
    sw_free(k);
}

static void hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
}

/* The tag: HMAC over time || counter || address || realm, first 16 bytes. */
static void nonce_tag(const struct nonce_keeper *k, const struct sw_ip *src, struct sv realm,
                      const uint8_t plain[16], uint8_t tag[16])
{
    uint8_t input[16 + 16 + 256];
    size_t realm_len = realm.len < 256 ? realm.len : 256;
    memcpy(input, plain, 16);
    memcpy(input + 16, src->bytes, 16);
    if (realm_len > 0) {
        memcpy(input + 32, realm.ptr, realm_len);
    }
    uint8_t full[32];
    unsigned full_len = sizeof(full);
    (void)HMAC(EVP_sha256(), k->mac_key, sizeof(k->mac_key), input, 32 + realm_len, full,
               &full_len); /* cannot fail with SHA-256 and a fixed key */
    memcpy(tag, full, 16);
}

/* XORs the pad that the tag selects into `block` (hides or reveals time and counter). */
static void nonce_mask(const struct nonce_keeper *k, const uint8_t tag[16], uint8_t block[16])
{
    uint8_t pad[32];
    unsigned pad_len = sizeof(pad);
    (void)HMAC(EVP_sha256(), k->hide_key, sizeof(k->hide_key), tag, 16, pad,
               &pad_len); /* cannot fail, as above */
    for (size_t i = 0; i < 16; i++) {
        block[i] ^= pad[i];
    }
}

void nonce_make(struct nonce_keeper *k, const struct sw_ip *src, struct sv realm, int64_t now_s,
                char *out)
{
    uint64_t issued = (uint64_t)now_s;
    uint64_t count = atomic_fetch_add(&k->counter, 1);
    uint8_t plain[16];
    for (int i = 0; i < 8; i++) {
        plain[i] = (uint8_t)(issued >> (56 - 8 * i));
        plain[8 + i] = (uint8_t)(count >> (56 - 8 * i));
    }
    uint8_t raw[32];
    nonce_tag(k, src, realm, plain, raw);
    memcpy(raw + 16, plain, 16);
    nonce_mask(k, raw, raw + 16);
    hex_encode(raw, sizeof(raw), out);
    out[NONCE_HEX_LEN] = '\0';
}

/* Our nonces are written in lower case: one spelling per nonce, so upper case is refused. */
static bool hex_decode(struct sv in, uint8_t *out, size_t len)
{
    if (in.len != 2 * len) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        int byte = sv_hex_byte(in.ptr + 2 * i);
        bool is_upper = (in.ptr[2 * i] >= 'A' && in.ptr[2 * i] <= 'F') ||
                        (in.ptr[2 * i + 1] >= 'A' && in.ptr[2 * i + 1] <= 'F');
        if (byte < 0 || is_upper) {
            return false;
        }
        out[i] = (uint8_t)byte;
    }
    return true;
}

enum nonce_check nonce_verify(const struct nonce_keeper *k, const struct sw_ip *src,
                              struct sv realm, struct sv nonce, int64_t now_s)
{
    uint8_t raw[32];
    if (!hex_decode(nonce, raw, sizeof(raw))) {
        return NONCE_FORGED;
    }
    uint8_t plain[16];
    memcpy(plain, raw + 16, 16);
    nonce_mask(k, raw, plain);
    uint8_t tag[16];
    nonce_tag(k, src, realm, plain, tag);
    if (CRYPTO_memcmp(tag, raw, sizeof(tag)) != 0) {
        return NONCE_FORGED;
    }
    uint64_t issued = 0;
    for (int i = 0; i < 8; i++) {
        issued = (issued << 8) | plain[i];
    }
    /* A nonce from the future is not ours either (clock steps aside, by one second). */
    if ((int64_t)issued > now_s + 1) {
        return NONCE_FORGED;
    }
    return now_s - (int64_t)issued > (int64_t)k->lifetime_s ? NONCE_STALE : NONCE_OK;
}

static bool parse_nc(struct sv nc, uint32_t *out)
{
    if (nc.len != 8) {
        return false;
    }
    uint32_t value = 0;
    for (size_t i = 0; i < 8; i++) {
        int digit = sv_hex_digit(nc.ptr[i]); /* RFC 7616: LHEX; upper case accepted too */
        if (digit < 0) {
            return false;
        }
        value = value * 16 + (uint32_t)digit;
    }
    *out = value;
    return value != 0;
}

/* The window rule of nonce.h on one slot that holds the nonce. Under the shard lock. */
static bool window_accept(struct nc_slot *slot, uint32_t value)
{
    if (value > slot->highest) {
        uint32_t shift = value - slot->highest;
        slot->seen = shift >= NONCE_NC_WINDOW ? 0 : slot->seen << shift;
        slot->seen |= 1u;
        slot->highest = value;
        return true;
    }
    uint32_t below = slot->highest - value;
    if (below >= NONCE_NC_WINDOW || (slot->seen & ((uint64_t)1 << below)) != 0) {
        return false;
    }
    slot->seen |= (uint64_t)1 << below;
    return true;
}

bool nonce_accept_nc(struct nonce_keeper *k, struct sv nonce, struct sv nc)
{
    uint32_t value = 0;
    if (!parse_nc(nc, &value)) {
        return false;
    }
    uint64_t h = sw_hash_sv(nonce) | 1u; /* never 0: 0 marks an empty slot */
    struct nc_shard *shard = &k->shards[h % NONCE_SHARDS];
    struct nc_slot *slot = &shard->slots[(h / NONCE_SHARDS) % k->slots_per_shard];
    bool is_fresh = true;
    pthread_mutex_lock(&shard->lock);
    if (slot->nonce_hash == h) {
        is_fresh = window_accept(slot, value);
    } else {
        /* Evicts whatever nonce was there: bounded memory; an evicted nonce may then be
         * replayed once within its lifetime (nonce.h). */
        slot->nonce_hash = h;
        slot->highest = value;
        slot->seen = 1u;
    }
    pthread_mutex_unlock(&shard->lock);
    return is_fresh;
}
