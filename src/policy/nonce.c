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
    uint32_t nc;
};

struct nc_shard {
    pthread_mutex_t lock;
    struct nc_slot *slots;
};

struct nonce_keeper {
    uint8_t master[32];
    atomic_uint_fast64_t counter;
    uint32_t lifetime_s;
    size_t slots_per_shard;
    struct nc_shard shards[NONCE_SHARDS];
};

struct nonce_keeper *nonce_keeper_new(uint32_t lifetime_s, size_t replay_slots)
{
    struct nonce_keeper *k = sw_calloc(1, sizeof(*k));
    if (k == NULL) {
        return NULL;
    }
    k->lifetime_s = lifetime_s == 0 ? 300 : lifetime_s;
    k->slots_per_shard = replay_slots / NONCE_SHARDS + 1;
    bool ok = getrandom(k->master, sizeof(k->master), 0) == (ssize_t)sizeof(k->master);
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
    OPENSSL_cleanse(k->master, sizeof(k->master));
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

/* MAC over time || counter || ip || realm with the key of the time's epoch. */
static void nonce_mac(const struct nonce_keeper *k, const struct sw_ip *src, struct sv realm,
                      uint64_t issued, const uint8_t counter[8], uint8_t mac[16])
{
    uint64_t epoch = issued / k->lifetime_s;
    uint8_t epoch_key[32];
    unsigned key_len = sizeof(epoch_key);
    uint8_t epoch_bytes[8];
    for (int i = 0; i < 8; i++) {
        epoch_bytes[i] = (uint8_t)(epoch >> (56 - 8 * i));
    }
    (void)HMAC(EVP_sha256(), k->master, sizeof(k->master), epoch_bytes, sizeof(epoch_bytes),
               epoch_key, &key_len);
    uint8_t input[8 + 8 + 16 + 256];
    size_t realm_len = realm.len < 256 ? realm.len : 256;
    for (int i = 0; i < 8; i++) {
        input[i] = (uint8_t)(issued >> (56 - 8 * i));
    }
    memcpy(input + 8, counter, 8);
    memcpy(input + 16, src->bytes, 16);
    if (realm_len > 0) {
        memcpy(input + 32, realm.ptr, realm_len);
    }
    uint8_t full[32];
    unsigned full_len = sizeof(full);
    (void)HMAC(EVP_sha256(), epoch_key, (int)key_len, input, 32 + realm_len, full, &full_len);
    memcpy(mac, full, 16);
    OPENSSL_cleanse(epoch_key, sizeof(epoch_key));
}

void nonce_make(struct nonce_keeper *k, const struct sw_ip *src, struct sv realm, int64_t now_s,
                char *out)
{
    uint64_t issued = (uint64_t)now_s;
    uint64_t count = atomic_fetch_add(&k->counter, 1);
    uint8_t raw[32];
    for (int i = 0; i < 8; i++) {
        raw[i] = (uint8_t)(issued >> (56 - 8 * i));
        raw[8 + i] = (uint8_t)(count >> (56 - 8 * i));
    }
    nonce_mac(k, src, realm, issued, raw + 8, raw + 16);
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
    uint64_t issued = 0;
    for (int i = 0; i < 8; i++) {
        issued = (issued << 8) | raw[i];
    }
    uint8_t mac[16];
    nonce_mac(k, src, realm, issued, raw + 8, mac);
    if (CRYPTO_memcmp(mac, raw + 16, sizeof(mac)) != 0) {
        return NONCE_FORGED;
    }
    /* A nonce from the future is not ours either (clock steps aside, by one second). */
    if ((int64_t)issued > now_s + 1) {
        return NONCE_FORGED;
    }
    return now_s - (int64_t)issued > (int64_t)k->lifetime_s ? NONCE_STALE : NONCE_OK;
}

bool nonce_accept_nc(struct nonce_keeper *k, struct sv nonce, struct sv nc)
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
    if (value == 0) {
        return false;
    }
    uint64_t h = sw_hash_sv(nonce) | 1u; /* never 0: 0 marks an empty slot */
    struct nc_shard *shard = &k->shards[h % NONCE_SHARDS];
    struct nc_slot *slot = &shard->slots[(h / NONCE_SHARDS) % k->slots_per_shard];
    bool is_fresh;
    pthread_mutex_lock(&shard->lock);
    if (slot->nonce_hash == h) {
        is_fresh = value > slot->nc;
        if (is_fresh) {
            slot->nc = value;
        }
    } else {
        /* Evicts whatever nonce was there: bounded memory; an evicted nonce may then be
         * replayed once within its lifetime, documented in nonce.h's table size choice. */
        slot->nonce_hash = h;
        slot->nc = value;
        is_fresh = true;
    }
    pthread_mutex_unlock(&shard->lock);
    return is_fresh;
}
