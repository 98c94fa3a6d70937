#include "policy/nonce.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>

#include "base/alloc.h"
#include "base/hash.h"
#include "base/settab.h"

#define NONCE_LOCKS        16
#define NONCE_MACS         8  /* keyed HMAC contexts; more than the workers that use them at once */
#define NONCE_ISSUED_SHARE 16 /* one issued nonce remembered per this many counts kept */

struct nc_slot {
    uint64_t nonce_hash; /* 0 = empty */
    uint64_t seen;       /* bit i: count `highest - i` was accepted */
    uint32_t highest;
};

/*
 * One keyed HMAC-SHA-256 context per key, reused: re-initialized without a key, HMAC
 * starts again from the inner and outer pads it derived once, so a nonce costs four
 * SHA-256 compressions instead of a lookup of the digest and the MAC by name, a fresh
 * context and the key's pads each time (EVP_Q_mac: a third of a registration's
 * instructions, by callgrind). A context is used under its lock, by one thread at a time.
 */
struct nonce_mac {
    pthread_mutex_t lock;
    EVP_MAC_CTX *tag;  /* keyed with mac_key */
    EVP_MAC_CTX *hide; /* keyed with hide_key */
};

/* Behind a pointer: a const keeper (nonce_verify) still takes and locks a set. */
struct nonce_macs {
    atomic_uint next; /* spreads the threads over the sets */
    struct nonce_mac set[NONCE_MACS];
};

/*
 * A nonce this keeper made, remembered so that its answer is checked without the two
 * HMACs that decode it: a registration's answer echoes the nonce of the challenge made
 * just before, and those HMACs were a fifth of a registration's instructions (callgrind,
 * #13). Only an exact match of the whole nonce, address and realm is taken; anything
 * else (forged, evicted, another address) is decoded as before, so the answer is the
 * same either way. The tag's first bytes pick the slot: they are HMAC output.
 */
struct issued_slot {
    bool is_used;
    uint8_t raw[32]; /* tag || hidden, as sent */
    uint8_t src[16];
    uint64_t realm_hash;
    int64_t issued_s;
};

struct nonce_keeper {
    uint8_t mac_key[32];
    uint8_t hide_key[32];
    struct nonce_macs *macs;
    atomic_uint_fast64_t counter;
    uint32_t lifetime_s;
    struct settab slots;   /* of struct nc_slot, direct-mapped (one way) */
    struct settab *issued; /* of struct issued_slot, direct-mapped; a pointer: see macs */
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

static EVP_MAC_CTX *keyed_hmac(const uint8_t key[32])
{
    EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
    EVP_MAC_free(hmac); /* the context holds its own reference */
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };
    if (ctx != NULL && EVP_MAC_init(ctx, key, 32, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static bool macs_init(struct nonce_keeper *k)
{
    k->macs = sw_calloc(1, sizeof(*k->macs));
    if (k->macs == NULL) {
        return false;
    }
    atomic_init(&k->macs->next, 0);
    bool ok = true;
    for (size_t i = 0; i < NONCE_MACS; i++) {
        struct nonce_mac *m = &k->macs->set[i];
        ok = ok && pthread_mutex_init(&m->lock, NULL) == 0;
        m->tag = ok ? keyed_hmac(k->mac_key) : NULL;
        m->hide = ok ? keyed_hmac(k->hide_key) : NULL;
        ok = ok && m->tag != NULL && m->hide != NULL;
    }
    return ok;
}

static void macs_fini(struct nonce_keeper *k)
{
    for (size_t i = 0; k->macs != NULL && i < NONCE_MACS; i++) {
        struct nonce_mac *m = &k->macs->set[i];
        if (m->tag != NULL || m->hide != NULL) {
            EVP_MAC_CTX_free(m->tag);
            EVP_MAC_CTX_free(m->hide);
            pthread_mutex_destroy(&m->lock);
        }
    }
    sw_free(k->macs);
    k->macs = NULL;
}

/* A context set of its own, locked: the first free one from a rotating start. */
static struct nonce_mac *mac_take(const struct nonce_keeper *k)
{
    /* The counter only spreads the threads over the sets: a relaxed increment is enough. */
    unsigned start = atomic_fetch_add_explicit(&k->macs->next, 1, memory_order_relaxed);
    for (unsigned i = 0; i < NONCE_MACS; i++) {
        struct nonce_mac *m = &k->macs->set[(start + i) % NONCE_MACS];
        if (pthread_mutex_trylock(&m->lock) == 0) {
            return m;
        }
    }
    struct nonce_mac *m = &k->macs->set[start % NONCE_MACS];
    pthread_mutex_lock(&m->lock);
    return m;
}

/* HMAC-SHA-256 of `in` under the key `ctx` was made with, into out[32]. */
static void hmac_with(EVP_MAC_CTX *ctx, const uint8_t *in, size_t len, uint8_t out[32])
{
    size_t out_len = 0;
    /* Cannot fail with SHA-256 and a key set at creation; a failure would leave `out`
       zero, and a zero tag or pad only makes the nonce fail its check. */
    if (EVP_MAC_init(ctx, NULL, 0, NULL) != 1 || EVP_MAC_update(ctx, in, len) != 1 ||
        EVP_MAC_final(ctx, out, &out_len, 32) != 1) {
        memset(out, 0, 32);
    }
}

struct nonce_keeper *nonce_keeper_new(uint32_t lifetime_s, size_t replay_slots)
{
    struct nonce_keeper *k = sw_calloc(1, sizeof(*k));
    if (k == NULL) {
        return NULL;
    }
    k->lifetime_s = lifetime_s == 0 ? 300 : lifetime_s;
    size_t slots_per_lock = replay_slots / NONCE_LOCKS + 1;
    k->issued = sw_calloc(1, sizeof(*k->issued));
    /* Challenges answered within their lifetime are far fewer than the counts kept. */
    size_t issued_per_lock = replay_slots / NONCE_ISSUED_SHARE / NONCE_LOCKS + 1;
    bool ok = k->issued != NULL && derive_keys(k) && macs_init(k) &&
              settab_init(&k->slots, sizeof(struct nc_slot), slots_per_lock * NONCE_LOCKS, 1,
                          NONCE_LOCKS) == 0 &&
              settab_init(k->issued, sizeof(struct issued_slot), issued_per_lock * NONCE_LOCKS, 1,
                          NONCE_LOCKS) == 0;
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
    settab_fini(&k->slots);
    if (k->issued != NULL) {
        settab_fini(k->issued);
        sw_free(k->issued);
    }
    macs_fini(k);
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
static void nonce_tag(struct nonce_mac *m, const struct sw_ip *src, struct sv realm,
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
    hmac_with(m->tag, input, 32 + realm_len, full);
    memcpy(tag, full, 16);
}

/* XORs the pad that the tag selects into `block` (hides or reveals time and counter). */
static void nonce_mask(struct nonce_mac *m, const uint8_t tag[16], uint8_t block[16])
{
    uint8_t pad[32];
    hmac_with(m->hide, tag, 16, pad);
    for (size_t i = 0; i < 16; i++) {
        block[i] ^= pad[i];
    }
}

static uint64_t slot_hash(const uint8_t raw[32])
{
    uint64_t h = 0;
    memcpy(&h, raw, sizeof(h));
    return h;
}

static void remember(struct nonce_keeper *k, const uint8_t raw[32], const struct sw_ip *src,
                     struct sv realm, int64_t issued_s)
{
    uint64_t where = slot_hash(raw);
    struct issued_slot *slot = settab_lock(k->issued, where);
    slot->is_used = true;
    memcpy(slot->raw, raw, sizeof(slot->raw));
    memcpy(slot->src, src->bytes, sizeof(slot->src));
    slot->realm_hash = sw_hash_sv(realm);
    slot->issued_s = issued_s;
    settab_unlock(k->issued, where);
}

/* The issue time of a nonce this keeper made and still remembers, for `src` and `realm`;
 * false when it does not remember it (then the nonce is decoded). */
static bool recall(const struct nonce_keeper *k, const uint8_t raw[32], const struct sw_ip *src,
                   struct sv realm, int64_t *issued_s)
{
    uint64_t where = slot_hash(raw);
    const struct issued_slot *slot = settab_lock(k->issued, where);
    bool is_known = slot->is_used && CRYPTO_memcmp(slot->raw, raw, sizeof(slot->raw)) == 0 &&
                    memcmp(slot->src, src->bytes, sizeof(slot->src)) == 0 &&
                    slot->realm_hash == sw_hash_sv(realm);
    *issued_s = slot->issued_s;
    settab_unlock(k->issued, where);
    return is_known;
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
    struct nonce_mac *m = mac_take(k);
    nonce_tag(m, src, realm, plain, raw);
    memcpy(raw + 16, plain, 16);
    nonce_mask(m, raw, raw + 16);
    pthread_mutex_unlock(&m->lock);
    remember(k, raw, src, realm, now_s);
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

/* The issue time sealed in a nonce, when its tag is ours for `src` and `realm`. */
static bool decode(const struct nonce_keeper *k, const uint8_t raw[32], const struct sw_ip *src,
                   struct sv realm, int64_t *issued_s)
{
    uint8_t plain[16];
    memcpy(plain, raw + 16, 16);
    uint8_t tag[16];
    struct nonce_mac *m = mac_take(k);
    nonce_mask(m, raw, plain);
    nonce_tag(m, src, realm, plain, tag);
    pthread_mutex_unlock(&m->lock);
    if (CRYPTO_memcmp(tag, raw, sizeof(tag)) != 0) {
        return false;
    }
    uint64_t issued = 0;
    for (int i = 0; i < 8; i++) {
        issued = (issued << 8) | plain[i];
    }
    *issued_s = (int64_t)issued;
    return true;
}

enum nonce_check nonce_verify(const struct nonce_keeper *k, const struct sw_ip *src,
                              struct sv realm, struct sv nonce, int64_t now_s)
{
    uint8_t raw[32];
    if (!hex_decode(nonce, raw, sizeof(raw))) {
        return NONCE_FORGED;
    }
    int64_t issued = 0;
    if (!recall(k, raw, src, realm, &issued) && !decode(k, raw, src, realm, &issued)) {
        return NONCE_FORGED;
    }
    /* A nonce from the future is not ours either (clock steps aside, by one second). */
    if (issued > now_s + 1) {
        return NONCE_FORGED;
    }
    return now_s - issued > (int64_t)k->lifetime_s ? NONCE_STALE : NONCE_OK;
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

/* The window rule of nonce.h on one slot that holds the nonce. Under the slot's lock. */
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
    uint64_t where = sw_hash_sv(nonce);
    uint64_t h = where | 1u; /* never 0: 0 marks an empty slot */
    struct nc_slot *slot = settab_lock(&k->slots, where);
    bool is_fresh = true;
    if (slot->nonce_hash == h) {
        is_fresh = window_accept(slot, value);
    } else {
        /* Evicts whatever nonce was there: bounded memory; an evicted nonce may then be
         * replayed once within its lifetime (nonce.h). */
        slot->nonce_hash = h;
        slot->highest = value;
        slot->seen = 1u;
    }
    settab_unlock(&k->slots, where);
    return is_fresh;
}
