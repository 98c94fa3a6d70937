#include "stir/verstat.h"

#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"
#include "stir/verify.h"

/* Appends the ';'-separated parameters of `params` (each without its leading ';') except
 * verstat, each preceded by ';'. */
static void put_params_without_verstat(struct sw_buf *buf, struct sv params)
{
    struct sv cur = params;
    struct sv param;
    bool is_more = cur.len > 0;
    /* Each round consumes one segment and its ';', so it ends within params.len rounds. */
    while (is_more) {
        is_more = sv_take_until(&cur, ';', &param);
        struct sv name = param;
        long eq = sv_find_char(param, '=');
        if (eq >= 0) {
            name.len = (size_t)eq;
        }
        if (param.len == 0 || sv_eq_nocase(sv_trim(name), SV("verstat"))) {
            continue;
        }
        sw_buf_char(buf, ';');
        sw_buf_sv(buf, param);
    }
}

/* Splits `s` at the first `c`: head before it, tail after it (absent when no `c`). */
static void split_at(struct sv s, char c, struct sv *head, struct sv *tail)
{
    long at = sv_find_char(s, c);
    if (at < 0) {
        *head = s;
        *tail = SV_NULL;
        return;
    }
    *head = sv_slice(s, 0, (size_t)at);
    *tail = sv_slice(s, (size_t)at + 1, s.len - (size_t)at - 1);
}

static bool put_sip(struct sw_buf *buf, struct sv scheme, struct sv rest, const char *verstat)
{
    struct sv user_part;
    struct sv host_part;
    split_at(rest, '@', &user_part, &host_part);
    if (host_part.ptr == NULL || user_part.len == 0) {
        return false;
    }
    struct sv user;
    struct sv user_params;
    split_at(user_part, ';', &user, &user_params);
    struct sv host_params;
    struct sv headers;
    split_at(host_part, '?', &host_params, &headers);
    struct sv host;
    struct sv uri_params;
    split_at(host_params, ';', &host, &uri_params);
    sw_buf_sv(buf, scheme);
    sw_buf_sv(buf, user);
    put_params_without_verstat(buf, user_params);
    sw_buf_str(buf, ";verstat=");
    sw_buf_str(buf, verstat);
    sw_buf_char(buf, '@');
    sw_buf_sv(buf, host);
    put_params_without_verstat(buf, uri_params);
    if (headers.ptr != NULL) {
        sw_buf_char(buf, '?');
        sw_buf_sv(buf, headers);
    }
    return true;
}

static bool put_tel(struct sw_buf *buf, struct sv scheme, struct sv rest, const char *verstat)
{
    struct sv number;
    struct sv params;
    split_at(rest, ';', &number, &params);
    if (number.len == 0) {
        return false;
    }
    sw_buf_sv(buf, scheme);
    sw_buf_sv(buf, number);
    put_params_without_verstat(buf, params);
    sw_buf_str(buf, ";verstat=");
    sw_buf_str(buf, verstat);
    return true;
}

long stir_verstat_apply(struct sv uri, enum stir_verstat verstat, char *out, size_t cap)
{
    struct sw_buf buf;
    if (cap == 0 || uri.ptr == NULL) {
        return -SW_EBADARG;
    }
    sw_buf_init(&buf, out, cap - 1);
    struct sv u = sv_trim(uri);
    bool is_bracketed = u.len >= 2 && u.ptr[0] == '<' && u.ptr[u.len - 1] == '>';
    if (is_bracketed) {
        u = sv_slice(u, 1, u.len - 2);
        sw_buf_char(&buf, '<');
    }
    const char *text = stir_verstat_text(verstat);
    bool is_ok = false;
    if (sv_starts_with_nocase(u, SV("sip:"))) {
        is_ok = put_sip(&buf, sv_slice(u, 0, 4), sv_slice(u, 4, u.len - 4), text);
    } else if (sv_starts_with_nocase(u, SV("sips:"))) {
        is_ok = put_sip(&buf, sv_slice(u, 0, 5), sv_slice(u, 5, u.len - 5), text);
    } else if (sv_starts_with_nocase(u, SV("tel:"))) {
        is_ok = put_tel(&buf, sv_slice(u, 0, 4), sv_slice(u, 4, u.len - 4), text);
    }
    if (!is_ok) {
        return -SW_EBADARG;
    }
    if (is_bracketed) {
        sw_buf_char(&buf, '>');
    }
    if (buf.is_overflow) {
        return -SW_ETOOBIG;
    }
    out[buf.len] = '\0';
    return (long)buf.len;
}

void stir_verstat_event(const struct stir_result *result, struct sw_event *event)
{
    event->kind = result->reason == STIR_OK ? EV_IDENTITY_VERIFIED : EV_IDENTITY_FAILED;
    SW_EVENT_SET(event, module, SV("identity"));
    struct sw_buf buf;
    sw_buf_init(&buf, event->detail, sizeof(event->detail) - 1);
    sw_buf_fmt(&buf, "%s %d", stir_reason_name(result->reason),
               stir_reason_sip_code(result->reason));
    if (result->has_passport) {
        sw_buf_fmt(&buf, " attest=%s orig=%s x5u=%s", stir_attest_text(result->passport.attest),
                   result->passport.orig.digits, result->passport.x5u);
    }
    /* A truncated detail is still useful; sw_buf keeps what fitted. */
    event->detail[buf.len < sizeof(event->detail) ? buf.len : sizeof(event->detail) - 1] = '\0';
}
