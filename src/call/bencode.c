#include "call/bencode.h"

#include <string.h>

#include "base/err.h"

/* Longest integer: INT64_MIN has 19 digits and a sign. */
#define INT_MAX_DIGITS 19

struct decoder {
    struct sv in;
    size_t pos;
    struct bencode_doc *doc;
    uint32_t open[BENCODE_MAX_DEPTH];  /* node index of each open container */
    uint32_t items[BENCODE_MAX_DEPTH]; /* values seen in it (a dict: keys and values) */
    size_t depth;
};

static int fail_at(size_t *bad_pos, size_t pos)
{
    if (bad_pos != NULL) {
        *bad_pos = pos;
    }
    return -SW_EBADMSG;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* "i<digits>e": no leading zeros, no "-0", no overflow (the bencode specification). */
static bool decode_int(struct decoder *d, struct bencode_node *node)
{
    size_t p = d->pos + 1;
    bool is_negative = p < d->in.len && d->in.ptr[p] == '-';
    p += is_negative ? 1 : 0;
    size_t first = p;
    uint64_t value = 0;
    while (p < d->in.len && is_digit(d->in.ptr[p]) && p - first < INT_MAX_DIGITS) {
        value = value * 10 + (uint64_t)(d->in.ptr[p] - '0');
        p++;
    }
    size_t digits = p - first;
    if (digits == 0 || p >= d->in.len || d->in.ptr[p] != 'e') {
        d->pos = p;
        return false;
    }
    if ((d->in.ptr[first] == '0' && (digits > 1 || is_negative)) ||
        value > (uint64_t)INT64_MAX + (is_negative ? 1u : 0u)) {
        d->pos = first;
        return false;
    }
    node->type = BENCODE_INTEGER;
    node->integer = is_negative ? (int64_t)(0 - value) : (int64_t)value;
    d->pos = p + 1;
    return true;
}

/* "<length>:<bytes>" */
static bool decode_str(struct decoder *d, struct bencode_node *node)
{
    size_t p = d->pos;
    size_t first = p;
    uint64_t len = 0;
    while (p < d->in.len && is_digit(d->in.ptr[p]) && p - first < INT_MAX_DIGITS) {
        len = len * 10 + (uint64_t)(d->in.ptr[p] - '0');
        p++;
    }
    if (p >= d->in.len || d->in.ptr[p] != ':' || (d->in.ptr[first] == '0' && p - first > 1) ||
        len > d->in.len - p - 1) {
        d->pos = p;
        return false;
    }
    node->type = BENCODE_STRING;
    node->str = sv_make(d->in.ptr + p + 1, (size_t)len);
    d->pos = p + 1 + (size_t)len;
    return true;
}

/* Ends the innermost container at d->pos ('e'). */
static bool close_container(struct decoder *d)
{
    d->depth--;
    struct bencode_node *c = &d->doc->nodes[d->open[d->depth]];
    uint32_t items = d->items[d->depth];
    if (c->type == BENCODE_DICT && items % 2 != 0) {
        return false; /* a key without its value */
    }
    c->count = c->type == BENCODE_DICT ? items / 2 : items;
    c->next = d->doc->count;
    d->pos++;
    return true;
}

/* Decodes the value starting at d->pos into a new node. */
static int decode_value(struct decoder *d)
{
    if (d->doc->count >= d->doc->cap) {
        return -SW_EFULL;
    }
    char c = d->in.ptr[d->pos];
    if (d->depth > 0) {
        const struct bencode_node *parent = &d->doc->nodes[d->open[d->depth - 1]];
        if (parent->type == BENCODE_DICT && d->items[d->depth - 1] % 2 == 0 && !is_digit(c)) {
            return -SW_EBADMSG; /* dictionary keys are strings */
        }
        d->items[d->depth - 1]++;
    }
    uint32_t index = d->doc->count++;
    struct bencode_node *node = &d->doc->nodes[index];
    *node = (struct bencode_node){ .next = index + 1 };
    if (c == 'i') {
        return decode_int(d, node) ? 0 : -SW_EBADMSG;
    }
    if (is_digit(c)) {
        return decode_str(d, node) ? 0 : -SW_EBADMSG;
    }
    if (c != 'd' && c != 'l') {
        return -SW_EBADMSG;
    }
    if (d->depth >= BENCODE_MAX_DEPTH) {
        return -SW_EFULL;
    }
    node->type = c == 'd' ? BENCODE_DICT : BENCODE_LIST;
    d->open[d->depth] = index;
    d->items[d->depth] = 0;
    d->depth++;
    d->pos++;
    return 0;
}

/* Closes a container or decodes one value; on -SW_EBADMSG d->pos is the offending byte. */
static int decode_step(struct decoder *d)
{
    if (d->depth > 0 && d->in.ptr[d->pos] == 'e') {
        return close_container(d) ? 0 : -SW_EBADMSG;
    }
    return decode_value(d);
}

int bencode_decode(struct sv in, struct bencode_doc *doc, size_t *bad_pos)
{
    struct decoder d = { .in = in, .doc = doc };
    doc->count = 0;
    if (in.ptr == NULL || in.len == 0) {
        return fail_at(bad_pos, 0);
    }
    /* Every step consumes at least one byte, so the loop ends within in.len turns. */
    do {
        int rc = decode_step(&d);
        if (rc != 0) {
            return rc == -SW_EBADMSG ? fail_at(bad_pos, d.pos) : rc;
        }
    } while (d.depth > 0 && d.pos < in.len);
    if (d.depth != 0 || d.pos != in.len) {
        return fail_at(bad_pos, d.pos);
    }
    return 0;
}

uint32_t bencode_first(const struct bencode_doc *doc, uint32_t index)
{
    if (index >= doc->count) {
        return BENCODE_NONE;
    }
    const struct bencode_node *node = &doc->nodes[index];
    if ((node->type != BENCODE_LIST && node->type != BENCODE_DICT) || node->count == 0) {
        return BENCODE_NONE;
    }
    return index + 1;
}

uint32_t bencode_dict_get(const struct bencode_doc *doc, uint32_t dict, struct sv key)
{
    if (dict >= doc->count || doc->nodes[dict].type != BENCODE_DICT) {
        return BENCODE_NONE;
    }
    uint32_t end = doc->nodes[dict].next;
    uint32_t k = bencode_first(doc, dict);
    /* Each step moves past one key and its value: bounded by the dict's node range. */
    while (k != BENCODE_NONE && k < end) {
        uint32_t value = doc->nodes[k].next;
        if (sv_eq(doc->nodes[k].str, key)) {
            return value;
        }
        k = doc->nodes[value].next;
    }
    return BENCODE_NONE;
}

struct sv bencode_dict_str(const struct bencode_doc *doc, uint32_t dict, struct sv key)
{
    uint32_t value = bencode_dict_get(doc, dict, key);
    if (value == BENCODE_NONE || doc->nodes[value].type != BENCODE_STRING) {
        return SV_NULL;
    }
    return doc->nodes[value].str;
}

void bencode_put_str(struct sw_buf *buf, struct sv s)
{
    sw_buf_u64(buf, s.len);
    sw_buf_char(buf, ':');
    sw_buf_put(buf, s.ptr, s.len);
}

void bencode_put_int(struct sw_buf *buf, int64_t value)
{
    sw_buf_char(buf, 'i');
    if (value < 0) {
        sw_buf_char(buf, '-');
        sw_buf_u64(buf, 0 - (uint64_t)value);
    } else {
        sw_buf_u64(buf, (uint64_t)value);
    }
    sw_buf_char(buf, 'e');
}

void bencode_put_dict(struct sw_buf *buf)
{
    sw_buf_char(buf, 'd');
}

void bencode_put_list(struct sw_buf *buf)
{
    sw_buf_char(buf, 'l');
}

void bencode_put_end(struct sw_buf *buf)
{
    sw_buf_char(buf, 'e');
}

void bencode_put_pair(struct sw_buf *buf, const char *key, struct sv value)
{
    if (!sv_is_present(value)) {
        return;
    }
    bencode_put_str(buf, sv_from_cstr(key));
    bencode_put_str(buf, value);
}

size_t bencode_str_size(size_t len)
{
    return len + 21; /* at most 20 digits and the colon */
}
