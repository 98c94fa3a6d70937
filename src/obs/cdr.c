#include "obs/cdr.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/assert.h"
#include "base/sv.h"
#include "config/value.h"

/* X(constant, name, type). Asterisk's Master.csv columns first, in cdr_csv's order. */
#define CDR_COLUMN_MAP(X)                              \
    X(ACCOUNTCODE, "accountcode", CDR_TEXT)            \
    X(SRC, "src", CDR_TEXT)                            \
    X(DST, "dst", CDR_TEXT)                            \
    X(DCONTEXT, "dcontext", CDR_TEXT)                  \
    X(CLID, "clid", CDR_TEXT)                          \
    X(CHANNEL, "channel", CDR_TEXT)                    \
    X(DSTCHANNEL, "dstchannel", CDR_TEXT)              \
    X(LASTAPP, "lastapp", CDR_TEXT)                    \
    X(LASTDATA, "lastdata", CDR_TEXT)                  \
    X(START, "start", CDR_TEXT)                        \
    X(ANSWER, "answer", CDR_TEXT)                      \
    X(END, "end", CDR_TEXT)                            \
    X(DURATION, "duration", CDR_INT)                   \
    X(BILLSEC, "billsec", CDR_INT)                     \
    X(DISPOSITION, "disposition", CDR_TEXT)            \
    X(AMAFLAGS, "amaflags", CDR_TEXT)                  \
    X(UNIQUEID, "uniqueid", CDR_TEXT)                  \
    X(USERFIELD, "userfield", CDR_TEXT)                \
    X(SRC_ADDR, "src_addr", CDR_TEXT)                  \
    X(TRANSPORT, "transport", CDR_TEXT)                \
    X(USER_AGENT, "user_agent", CDR_TEXT)              \
    X(ACCOUNT, "account", CDR_TEXT)                    \
    X(TRUNK, "trunk", CDR_TEXT)                        \
    X(CID_RECEIVED, "cid_received", CDR_TEXT)          \
    X(CID_SENT, "cid_sent", CDR_TEXT)                  \
    X(ATTESTATION, "attestation", CDR_TEXT)            \
    X(VERSTAT, "verstat", CDR_TEXT)                    \
    X(DIALLED, "dialled", CDR_TEXT)                    \
    X(DIALLED_E164, "dialled_e164", CDR_TEXT)          \
    X(COUNTRY, "country", CDR_TEXT)                    \
    X(NUMBER_CLASS, "number_class", CDR_TEXT)          \
    X(RATE_MICRO, "rate_micro", CDR_INT)               \
    X(COST_MICRO, "cost_micro", CDR_INT)               \
    X(SETUP_MS, "setup_ms", CDR_INT)                   \
    X(ANSWER_MS, "answer_ms", CDR_INT)                 \
    X(END_MS, "end_ms", CDR_INT)                       \
    X(PDD_MS, "pdd_ms", CDR_INT)                       \
    X(FINAL_CODE, "final_code", CDR_INT)               \
    X(HANGUP_SIDE, "hangup_side", CDR_TEXT)            \
    X(POLICY_RULE, "policy_rule", CDR_TEXT)            \
    X(POLICY_ACTION, "policy_action", CDR_TEXT)        \
    X(A_CALL_ID, "a_call_id", CDR_TEXT)                \
    X(B_CALL_ID, "b_call_id", CDR_TEXT)                \
    X(NODE, "node", CDR_TEXT)                          \
    X(STATE, "state", CDR_TEXT)                        \
    X(CONNECT_FEE_MICRO, "connect_fee_micro", CDR_INT) \
    X(FIRST_INCREMENT_S, "first_increment_s", CDR_INT) \
    X(NEXT_INCREMENT_S, "next_increment_s", CDR_INT)

enum cdr_column {

#define CDR_COLUMN_ENUM(constant, name, type) CDR_COL_##constant,
    CDR_COLUMN_MAP(CDR_COLUMN_ENUM)
#undef CDR_COLUMN_ENUM
        CDR_COL_COUNT
};

_Static_assert(CDR_COL_COUNT <= CDR_COLUMNS_MAX, "CDR_COLUMNS_MAX too small");
_Static_assert(CDR_COL_USERFIELD + 1 == CDR_MASTER_COLUMNS, "Master.csv has 18 columns");

struct column_desc {
    const char *name;
    enum cdr_type type;
};

static const struct column_desc columns[CDR_COL_COUNT] = {
#define CDR_COLUMN_DESC(constant, name, type) [CDR_COL_##constant] = { name, type },
    CDR_COLUMN_MAP(CDR_COLUMN_DESC)
#undef CDR_COLUMN_DESC
};

size_t cdr_column_count(void)
{
    return CDR_COL_COUNT;
}

const char *cdr_column_name(size_t index)
{
    SW_ASSERT(index < CDR_COL_COUNT);
    return columns[index].name;
}

enum cdr_type cdr_column_type(size_t index)
{
    SW_ASSERT(index < CDR_COL_COUNT);
    return columns[index].type;
}

size_t cdr_column_find(const char *name)
{
    for (size_t i = 0; i < CDR_COL_COUNT; i++) {
        if (strcmp(columns[i].name, name) == 0) {
            return i;
        }
    }
    return SIZE_MAX;
}

const char *cdr_disposition(const struct call_record *rec)
{
    if (rec->answer_us != 0) {
        return "ANSWERED";
    }
    switch (rec->final_code) {
    case 486:
    case 600:
        return "BUSY";
    case 0:
    case 408:
    case 480:
    case 487:
        return "NO ANSWER";
    case 503:
        return "CONGESTION";
    default:
        return "FAILED";
    }
}

const char *cdr_state_name(enum callrec_state state)
{
    switch (state) {
    case CALLREC_STATE_OPEN:
        return "open";
    case CALLREC_STATE_COMPLETE:
        return "complete";
    case CALLREC_STATE_INTERRUPTED:
        return "interrupted";
    }
    return "?";
}

const char *cdr_side_name(enum callrec_side side)
{
    switch (side) {
    case CALLREC_SIDE_NONE:
        return "";
    case CALLREC_SIDE_CALLER:
        return "caller";
    case CALLREC_SIDE_CALLEE:
        return "callee";
    case CALLREC_SIDE_GATEWAY:
        return "gateway";
    }
    return "?";
}

static const char *transport_name(enum sw_transport transport)
{
    static const char *const names[] = { "udp", "tcp", "tls", "ws", "wss" };
    return (size_t)transport < sizeof(names) / sizeof(names[0]) ? names[transport] : "?";
}

void cdr_format_time(uint64_t wall_us, char *out, size_t cap)
{
    SW_ASSERT(cap > 0);
    out[0] = '\0';
    if (wall_us == 0) {
        return;
    }
    time_t seconds = (time_t)(wall_us / 1000000u);
    struct tm tm;
    if (gmtime_r(&seconds, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900 ||
        cap < sizeof("YYYY-MM-DD HH:MM:SS")) {
        return;
    }
    /* "%Y-%m-%d %H:%M:%S" by hand: strftime was a tenth of a call record's cost. */
    const int fields[] = { tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                           tm.tm_hour,        tm.tm_min,     tm.tm_sec };
    static const char separators[] = "-- ::";
    char *at = out;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        int value = fields[i];
        if (i == 0) {
            *at++ = (char)('0' + value / 1000);
            *at++ = (char)('0' + value / 100 % 10);
        }
        *at++ = (char)('0' + value / 10 % 10);
        *at++ = (char)('0' + value % 10);
        if (i + 1 < sizeof(fields) / sizeof(fields[0])) {
            *at++ = separators[i];
        }
    }
    *at = '\0';
}

/* Whole seconds between two times in microseconds, rounded to the nearest (Asterisk's). */
static int64_t seconds_between(uint64_t from_us, uint64_t to_us)
{
    if (from_us == 0 || to_us <= from_us) {
        return 0;
    }
    return (int64_t)((to_us - from_us + 500000u) / 1000000u);
}

/* Bump allocator over row->store for the derived texts. */
struct row_store {
    struct cdr_row *row;
    size_t used;
};

static const char *store_fmt(struct row_store *st, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *store_fmt(struct row_store *st, const char *fmt, ...)
{
    size_t cap = sizeof(st->row->store) - st->used;
    char *at = st->row->store + st->used;
    struct sw_buf buf;
    sw_buf_init(&buf, at, cap);
    va_list ap;
    va_start(ap, fmt);
    /* va_start() ran above; the analyzer reports a false positive on the next line. */
    /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    sw_buf_vfmt(&buf, fmt, ap);
    va_end(ap);
    if (buf.is_overflow) {
        /* The store is full: an empty text rather than a cut one. */
        buf.len = 0;
        at[0] = '\0';
    }
    st->used += buf.len + 1;
    return at;
}

static const char *store_time(struct row_store *st, uint64_t wall_us)
{
    char text[32];
    cdr_format_time(wall_us, text, sizeof(text));
    return store_fmt(st, "%s", text);
}

static void put_text(struct cdr_row *row, enum cdr_column col, const char *text)
{
    SW_ASSERT(columns[col].type == CDR_TEXT);
    row->values[col].text = text;
}

static void put_int(struct cdr_row *row, enum cdr_column col, int64_t num)
{
    SW_ASSERT(columns[col].type == CDR_INT);
    row->values[col].text = "";
    row->values[col].num = num;
}

static int64_t ms_of(uint64_t wall_us)
{
    return (int64_t)(wall_us / 1000u);
}

/* The 18 columns of Master.csv. */
static void row_master(const struct call_record *rec, struct cdr_row *row, struct row_store *st)
{
    const struct callrec_policy *p = &rec->policy;
    put_text(row, CDR_COL_ACCOUNTCODE, p->account[0] != '\0' ? p->account : p->trunk);
    put_text(row, CDR_COL_SRC, rec->cid_received);
    put_text(row, CDR_COL_DST, rec->dialled);
    put_text(row, CDR_COL_DCONTEXT, rec->direction);
    put_text(row, CDR_COL_CLID, store_fmt(st, "\"%s\" <%s>", rec->cid_name, rec->cid_sent));
    put_text(row, CDR_COL_CHANNEL, store_fmt(st, "SIP/%s", rec->src_addr));
    put_text(row, CDR_COL_DSTCHANNEL, store_fmt(st, "SIP/%s", rec->dst_addr));
    put_text(row, CDR_COL_LASTAPP, "Dial");
    put_text(row, CDR_COL_LASTDATA, store_fmt(st, "SIP/%s@%s", rec->dialled_sent, rec->dst_addr));
    put_text(row, CDR_COL_START, store_time(st, rec->setup_us));
    put_text(row, CDR_COL_ANSWER, store_time(st, rec->answer_us));
    put_text(row, CDR_COL_END, store_time(st, rec->end_us));
    put_int(row, CDR_COL_DURATION, seconds_between(rec->setup_us, rec->end_us));
    put_int(row, CDR_COL_BILLSEC, seconds_between(rec->answer_us, rec->end_us));
    put_text(row, CDR_COL_DISPOSITION, cdr_disposition(rec));
    put_text(row, CDR_COL_AMAFLAGS, "DOCUMENTATION");
    put_text(row, CDR_COL_UNIQUEID, rec->uniqueid);
    put_text(row, CDR_COL_USERFIELD, rec->end_reason);
}

void cdr_row_from_record(const struct call_record *rec, struct cdr_row *row)
{
    memset(row, 0, sizeof(*row));
    struct row_store st = { .row = row, .used = 0 };
    row_master(rec, row, &st);
    const struct callrec_policy *p = &rec->policy;
    put_text(row, CDR_COL_SRC_ADDR, rec->src_addr);
    put_text(row, CDR_COL_TRANSPORT, transport_name(rec->transport));
    put_text(row, CDR_COL_USER_AGENT, rec->user_agent);
    put_text(row, CDR_COL_ACCOUNT, p->account);
    put_text(row, CDR_COL_TRUNK, p->trunk);
    put_text(row, CDR_COL_CID_RECEIVED, rec->cid_received);
    put_text(row, CDR_COL_CID_SENT, rec->cid_sent);
    put_text(row, CDR_COL_ATTESTATION, p->attestation);
    put_text(row, CDR_COL_VERSTAT, p->verstat);
    put_text(row, CDR_COL_DIALLED, rec->dialled);
    put_text(row, CDR_COL_DIALLED_E164, p->dialled_e164);
    put_text(row, CDR_COL_COUNTRY, p->country);
    put_text(row, CDR_COL_NUMBER_CLASS, p->number_class);
    put_int(row, CDR_COL_RATE_MICRO, p->rate_micro);
    put_int(row, CDR_COL_COST_MICRO, p->cost_micro);
    put_int(row, CDR_COL_SETUP_MS, ms_of(rec->setup_us));
    put_int(row, CDR_COL_ANSWER_MS, ms_of(rec->answer_us));
    put_int(row, CDR_COL_END_MS, ms_of(rec->end_us));
    uint64_t progress_us = rec->ring_us != 0 ? rec->ring_us : rec->answer_us;
    put_int(row, CDR_COL_PDD_MS,
            progress_us > rec->setup_us ? ms_of(progress_us) - ms_of(rec->setup_us) : 0);
    put_int(row, CDR_COL_FINAL_CODE, rec->final_code);
    put_text(row, CDR_COL_HANGUP_SIDE, cdr_side_name(rec->hangup_side));
    put_text(row, CDR_COL_POLICY_RULE, p->rule);
    put_text(row, CDR_COL_POLICY_ACTION, p->action);
    put_text(row, CDR_COL_A_CALL_ID, rec->a_call_id);
    put_text(row, CDR_COL_B_CALL_ID, rec->b_call_id);
    put_text(row, CDR_COL_NODE, rec->node);
    put_text(row, CDR_COL_STATE, cdr_state_name(rec->state));
    put_int(row, CDR_COL_CONNECT_FEE_MICRO, p->connect_fee_micro);
    put_int(row, CDR_COL_FIRST_INCREMENT_S, p->first_increment_s);
    put_int(row, CDR_COL_NEXT_INCREMENT_S, p->next_increment_s);
}

static void csv_text(struct sw_buf *out, const char *text)
{
    sw_buf_char(out, '"');
    /* Runs between the bytes to change, appended whole (a call a byte was most of it). */
    for (const char *c = text; *c != '\0';) {
        size_t run = strcspn(c, "\"\r\n");
        sw_buf_put(out, c, run);
        c += run;
        if (*c == '"') {
            sw_buf_str(out, "\"\"");
            c++;
        } else if (*c != '\0') {
            sw_buf_char(out, ' ');
            c++;
        }
    }
    sw_buf_char(out, '"');
}

void cdr_row_csv(const struct cdr_row *row, struct sw_buf *out)
{
    for (size_t i = 0; i < CDR_COL_COUNT; i++) {
        if (i > 0) {
            sw_buf_char(out, ',');
        }
        if (columns[i].type == CDR_INT) {
            sw_buf_fmt(out, "%lld", (long long)row->values[i].num);
        } else {
            csv_text(out, row->values[i].text != NULL ? row->values[i].text : "");
        }
    }
    sw_buf_char(out, '\n');
}

/* A JSON string of `text`; bytes that are not valid UTF-8 become '?'. */
static json_t *json_text(const char *text)
{
    json_t *value = json_string(text);
    if (value != NULL) {
        return value;
    }
    char ascii[512];
    size_t len = 0;
    for (const char *c = text; *c != '\0' && len + 1 < sizeof(ascii); c++) {
        ascii[len] = *c;
        if ((unsigned char)*c >= 0x80) {
            ascii[len] = '?';
        }
        len++;
    }
    ascii[len] = '\0';
    return json_string(ascii);
}

void cdr_row_json(const struct cdr_row *row, struct sw_buf *out)
{
    json_t *object = json_object();
    for (size_t i = 0; object != NULL && i < CDR_COL_COUNT; i++) {
        const struct cdr_value *v = &row->values[i];
        json_t *value = columns[i].type == CDR_INT ? json_integer((json_int_t)v->num)
                                                   : json_text(v->text != NULL ? v->text : "");
        /* A failed set leaves the key out; the object is still valid JSON. */
        (void)json_object_set_new(object, columns[i].name, value);
    }
    char *text = object != NULL ? json_dumps(object, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(object);
    sw_buf_str(out, text != NULL ? text : "{}");
    sw_buf_char(out, '\n');
    free(text);
}

/* "HH:MM" or "HH:MM:SS" into seconds of the day. */
static bool parse_clock(struct sv text, int64_t *out)
{
    uint32_t hours = 0;
    uint32_t minutes = 0;
    uint32_t seconds = 0;
    if ((text.len != 5 && text.len != 8) || text.ptr[2] != ':' ||
        !sv_to_u32(sv_slice(text, 0, 2), &hours) || !sv_to_u32(sv_slice(text, 3, 2), &minutes) ||
        hours > 23 || minutes > 59) {
        return false;
    }
    if (text.len == 8 &&
        (text.ptr[5] != ':' || !sv_to_u32(sv_slice(text, 6, 2), &seconds) || seconds > 59)) {
        return false;
    }
    *out = (int64_t)hours * 3600 + (int64_t)minutes * 60 + (int64_t)seconds;
    return true;
}

bool cdr_parse_time(const char *text, int64_t *out_ms)
{
    struct sv s = sv_from_cstr(text);
    uint64_t epoch_s = 0;
    if (sv_to_u64(s, &epoch_s)) {
        if (epoch_s > (uint64_t)INT64_MAX / 1000u) {
            return false;
        }
        *out_ms = (int64_t)epoch_s * 1000;
        return true;
    }
    const char *why = NULL;
    int64_t day_s = 0;
    if (s.len < 10 || !cfg_value_date(sv_slice(s, 0, 10), &day_s, &why)) {
        return false;
    }
    int64_t clock_s = 0;
    if (s.len > 10) {
        struct sv rest = sv_slice(s, 11, s.len - 11);
        if (rest.len > 0 && rest.ptr[rest.len - 1] == 'Z') {
            rest.len--;
        }
        if ((s.ptr[10] != 'T' && s.ptr[10] != ' ') || !parse_clock(rest, &clock_s)) {
            return false;
        }
    }
    *out_ms = (day_s + clock_s) * 1000;
    return true;
}
