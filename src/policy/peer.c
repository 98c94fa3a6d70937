#include "policy/peer.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "sip/msg.h"

#define PEER_MAC_LEN 32

/* HMAC-SHA-256(secret, "<node> <t> <account>"); false when it fails or does not fit. */
static bool mac_of(struct sv secret, struct sv node, struct sv t, struct sv account,
                   uint8_t mac[PEER_MAC_LEN])
{
    char text[PEER_LINE_CAP * 2];
    int n = snprintf(text, sizeof(text), SV_FMT " " SV_FMT " " SV_FMT, SV_ARG(node), SV_ARG(t),
                     SV_ARG(account));
    if (n < 0 || (size_t)n >= sizeof(text) || secret.len == 0 || secret.len > INT32_MAX) {
        return false;
    }
    unsigned len = 0;
    return HMAC(EVP_sha256(), secret.ptr, (int)secret.len, (const uint8_t *)text, (size_t)n, mac,
                &len) != NULL &&
           len == PEER_MAC_LEN;
}

static void hex_of(const uint8_t *bytes, size_t count, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < count; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15u];
    }
}

struct sv peer_sign(struct sv secret, struct sv node, struct sv account, int64_t now_s, char *buf,
                    size_t cap)
{
    char t[24];
    int t_len = snprintf(t, sizeof(t), "%lld", (long long)now_s);
    uint8_t mac[PEER_MAC_LEN];
    if (node.len > 64 || t_len <= 0 ||
        !mac_of(secret, node, sv_make(t, (size_t)t_len), account, mac)) {
        return SV_NULL;
    }
    char hex[2 * PEER_MAC_LEN];
    hex_of(mac, sizeof(mac), hex);
    int n = snprintf(buf, cap, "%s: node=" SV_FMT ";t=%s;mac=%.*s\r\n", PEER_HEADER_NAME,
                     SV_ARG(node), t, (int)sizeof(hex), hex);
    return n > 0 && (size_t)n < cap ? sv_make(buf, (size_t)n) : SV_NULL;
}

/* The value of parameter `name` in "node=..;t=..;mac=.."; SV_NULL when absent. */
static struct sv param_of(struct sv value, struct sv name)
{
    struct sv cur = value;
    struct sv item;
    for (size_t n = 0; n < 8 && cur.len > 0; n++) {
        (void)sv_take_until(&cur, ';', &item); /* the last one: the rest */
        item = sv_trim(item);
        if (item.len > name.len && item.ptr[name.len] == '=' &&
            sv_eq(sv_slice(item, 0, name.len), name)) {
            return sv_slice(item, name.len + 1, item.len - name.len - 1);
        }
    }
    return SV_NULL;
}

bool peer_verify(struct sv secret, const struct sip_msg *msg, struct sv account, int64_t now_s)
{
    const struct sip_hdr *hdr = sip_msg_find_name(msg, SV(PEER_HEADER_NAME), NULL);
    if (hdr == NULL || sip_msg_find_name(msg, SV(PEER_HEADER_NAME), hdr) != NULL) {
        return false; /* none, or two: never guess which one counts */
    }
    struct sv value = sv_trim(hdr->value);
    struct sv node = param_of(value, SV("node"));
    struct sv t = param_of(value, SV("t"));
    struct sv mac_hex = param_of(value, SV("mac"));
    uint64_t t_s = 0;
    if (node.len == 0 || node.len > 64 || !sv_to_u64(t, &t_s) || t_s > INT64_MAX ||
        mac_hex.len != (size_t)2 * PEER_MAC_LEN) {
        return false;
    }
    int64_t age = now_s - (int64_t)t_s;
    uint8_t mac[PEER_MAC_LEN];
    if (age > PEER_MAX_AGE_S || age < -PEER_MAX_AGE_S || !mac_of(secret, node, t, account, mac)) {
        return false;
    }
    char expected[2 * PEER_MAC_LEN];
    hex_of(mac, sizeof(mac), expected);
    return CRYPTO_memcmp(expected, mac_hex.ptr, sizeof(expected)) == 0;
}
