#include "config/value.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/addr.h"
#include "base/alloc.h"
#include "base/assert.h"
#include "base/err.h"

/* Longest list item or string value, and user part; longer ones are refused, not cut. */
#define ITEM_MAX  255
#define USER_MAX  128
/* Most items of one list key (all repetitions together). */
#define LIST_MAX  4096
/* The value quoted in a message is cut here. */
#define QUOTE_MAX 64

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool all_digits(struct sv s)
{
    for (size_t i = 0; i < s.len; i++) {
        if (!is_digit(s.ptr[i])) {
            return false;
        }
    }
    return s.len > 0;
}

bool cfg_value_bool(struct sv text, bool *out)
{
    static const char *const yes[] = { "yes", "true", "on", "1" };
    static const char *const no[] = { "no", "false", "off", "0" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (sv_eq_nocase(text, sv_from_cstr(yes[i]))) {
            *out = true;
            return true;
        }
        if (sv_eq_nocase(text, sv_from_cstr(no[i]))) {
            *out = false;
            return true;
        }
    }
    return false;
}

bool cfg_value_uint(struct sv text, uint32_t min, uint32_t max, uint32_t *out, const char **why)
{
    uint32_t value;
    if (!sv_to_u32(text, &value)) {
        *why = "not a whole number";
        return false;
    }
    if (value < min || value > max) {
        *why = "out of range";
        return false;
    }
    *out = value;
    return true;
}

bool cfg_value_duration(struct sv text, uint32_t min, uint32_t max, uint32_t *out, const char **why)
{
    uint64_t unit = 1;
    struct sv digits = text;
    if (text.len > 1 && !is_digit(text.ptr[text.len - 1])) {
        switch (text.ptr[text.len - 1]) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            *why = "not a duration (a number of seconds, or with s, m, h or d)";
            return false;
        }
        digits.len--;
    }
    uint64_t value;
    if (!sv_to_u64(digits, &value) || value > UINT32_MAX) {
        *why = "not a duration (a number of seconds, or with s, m, h or d)";
        return false;
    }
    value *= unit;
    if (value < min || value > max) {
        *why = "out of range";
        return false;
    }
    *out = (uint32_t)value;
    return true;
}

bool cfg_value_enum(struct sv text, const char *words, unsigned int *out)
{
    struct sv cur = sv_from_cstr(words);
    struct sv word;
    unsigned int index = 0;
    while (cur.len > 0) {
        (void)sv_take_until(&cur, '|', &word); /* the last word has no '|' after it */
        if (sv_eq_nocase(text, word)) {
            *out = index;
            return true;
        }
        index++;
    }
    return false;
}

static bool dns_label_is_valid(struct sv label)
{
    if (label.len == 0 || label.len > 63 || label.ptr[0] == '-' ||
        label.ptr[label.len - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < label.len; i++) {
        char c = label.ptr[i];
        if (!is_alpha(c) && !is_digit(c) && c != '-') {
            return false;
        }
    }
    return true;
}

/* RFC 1123 §2.1 host names; the last label is not all digits (that would be an IP typo). */
static bool dns_name_is_valid(struct sv name)
{
    if (name.len == 0 || name.len > 253) {
        return false;
    }
    struct sv cur = name;
    struct sv label = SV_NULL;
    for (size_t count = 0; count < 128 && cur.len > 0; count++) {
        (void)sv_take_until(&cur, '.', &label); /* the last label has no dot after it */
        if (!dns_label_is_valid(label)) {
            return false;
        }
    }
    return name.ptr[name.len - 1] != '.' && !all_digits(label);
}

bool cfg_value_host(struct sv text, const char **why)
{
    struct sw_ip ip;
    if (text.len > 2 && text.ptr[0] == '[' && text.ptr[text.len - 1] == ']') {
        text = sv_slice(text, 1, text.len - 2);
    }
    if (sw_ip_parse(text, &ip) || dns_name_is_valid(text)) {
        return true;
    }
    *why = "not an IP address or host name";
    return false;
}

bool cfg_value_user(struct sv text, const char **why)
{
    static const char marks[] = "-_.!~*'()&=+$,;?/";
    if (text.len == 0 || text.len > USER_MAX) {
        *why = "not a SIP user name (1 to 128 characters)";
        return false;
    }
    for (size_t i = 0; i < text.len; i++) {
        char c = text.ptr[i];
        if (c == '%' && i + 2 < text.len && is_hex(text.ptr[i + 1]) && is_hex(text.ptr[i + 2])) {
            i += 2;
            continue;
        }
        if (!is_alpha(c) && !is_digit(c) && (c == '\0' || strchr(marks, c) == NULL)) {
            *why = "not a SIP user name (letters, digits, -_.!~*'()&=+$,;?/ and %HH)";
            return false;
        }
    }
    return true;
}

bool cfg_value_number(struct sv text, const char **why)
{
    struct sv digits = text;
    if (digits.len > 0 && digits.ptr[0] == '+') {
        digits = sv_slice(digits, 1, digits.len - 1);
    }
    if (!all_digits(digits) || digits.len > 15) {
        *why = "not a telephone number (an optional + and 1 to 15 digits)";
        return false;
    }
    return true;
}

bool cfg_value_hex(struct sv text, size_t digits, const char **why)
{
    bool is_ok = text.len == digits;
    for (size_t i = 0; is_ok && i < text.len; i++) {
        is_ok = is_hex(text.ptr[i]);
    }
    if (!is_ok) {
        *why = digits == 32 ? "not an MD5 HA1 (32 hexadecimal digits)"
                            : "not a SHA-256 or SHA-512/256 HA1 (64 hexadecimal digits)";
    }
    return is_ok;
}

/* Splits "host[:port]" / "[v6][:port]" into host (brackets removed) and port text. */
static bool split_host_port(struct sv text, struct sv *host, struct sv *port, const char **why)
{
    *port = SV_NULL;
    if (text.len > 0 && text.ptr[0] == '[') {
        long close = sv_find_char(text, ']');
        if (close < 0) {
            *why = "missing ] after the IPv6 address";
            return false;
        }
        *host = sv_slice(text, 1, (size_t)close - 1);
        struct sv rest = sv_slice(text, (size_t)close + 1, text.len);
        if (rest.len > 0 && rest.ptr[0] != ':') {
            *why = "unexpected text after ]";
            return false;
        }
        if (rest.len > 0) {
            *port = sv_slice(rest, 1, rest.len);
        }
        return true;
    }
    long colon = sv_find_char(text, ':');
    if (colon < 0) {
        *host = text;
        return true;
    }
    *host = sv_slice(text, 0, (size_t)colon);
    *port = sv_slice(text, (size_t)colon + 1, text.len);
    if (sv_find_char(*port, ':') >= 0) {
        *why = "an IPv6 address needs brackets, e.g. [2001:db8::1]:5060";
        return false;
    }
    return true;
}

static bool fill_endpoint(struct sv host, struct sv port, uint16_t default_port,
                          struct cfg_endpoint *out, const char **why)
{
    uint32_t port_number = default_port;
    if (sv_is_present(port) && !cfg_value_uint(port, 1, 65535, &port_number, why)) {
        *why = "bad port (1 to 65535)";
        return false;
    }
    if (!cfg_value_host(host, why) || !sv_copy_cstr(host, out->host, sizeof(out->host))) {
        *why = "bad host: not an IP address or host name";
        return false;
    }
    out->is_set = true;
    out->port = (uint16_t)port_number;
    struct sw_ip ip;
    out->is_ip = sw_ip_parse(host, &ip);
    memset(&out->addr, 0, sizeof(out->addr));
    if (out->is_ip) {
        /* sw_sockaddr_parse wants brackets exactly when the text has colons (IPv6). */
        char text[CFG_HOST_CAP + 16];
        if (strchr(out->host, ':') != NULL) {
            (void)snprintf(text, sizeof(text), "[%s]:%u", out->host, (unsigned)out->port);
        } else {
            (void)snprintf(text, sizeof(text), "%s:%u", out->host, (unsigned)out->port);
        }
        if (!sw_sockaddr_parse(sv_from_cstr(text), 0, &out->addr)) {
            *why = "bad host: not an IP address or host name";
            return false;
        }
    }
    return true;
}

bool cfg_value_endpoint(struct sv text, struct cfg_endpoint *out, const char **why)
{
    struct sv cur = text;
    struct sv transport;
    if (!sv_take_until(&cur, ':', &transport)) {
        *why = "expected transport:host[:port], e.g. udp:192.0.2.1:5060";
        return false;
    }
    unsigned int index = 0;
    if (!cfg_value_enum(transport, "udp|tcp|tls", &index) || index > 2) {
        *why = "unknown transport (udp, tcp or tls)";
        return false;
    }

    static const enum sw_transport transports[] = { SW_TRANSPORT_UDP, SW_TRANSPORT_TCP,
                                                    SW_TRANSPORT_TLS };
    struct sv host;
    struct sv port;
    if (!split_host_port(cur, &host, &port, why)) {
        return false;
    }
    struct cfg_endpoint endpoint = { 0 };
    endpoint.transport = transports[index];
    if (!fill_endpoint(host, port, endpoint.transport == SW_TRANSPORT_TLS ? 5061 : 5060, &endpoint,
                       why)) {
        return false;
    }
    *out = endpoint;
    return true;
}

bool cfg_value_hostport(struct sv text, uint16_t default_port, struct cfg_endpoint *out,
                        const char **why)
{
    struct sv host;
    struct sv port;
    if (!split_host_port(text, &host, &port, why)) {
        return false;
    }
    struct cfg_endpoint endpoint = { 0 };
    endpoint.transport = SW_TRANSPORT_TCP;
    if (!fill_endpoint(host, port, default_port, &endpoint, why)) {
        return false;
    }
    *out = endpoint;
    return true;
}

static bool is_e164(struct sv text)
{
    return text.len >= 2 && text.len <= 16 && text.ptr[0] == '+' &&
           all_digits(sv_slice(text, 1, text.len - 1));
}

bool cfg_value_number_pattern(struct sv text, struct cfg_number_pattern *out, const char **why)
{
    struct cfg_number_pattern pattern = { 0 };
    struct sv first = text;
    struct sv last = SV_NULL;
    long dash = sv_find_char(text, '-');
    if (text.len > 0 && text.ptr[text.len - 1] == '*') {
        pattern.kind = CFG_NUMBER_PREFIX;
        first = sv_slice(text, 0, text.len - 1);
    } else if (dash >= 0) {
        pattern.kind = CFG_NUMBER_RANGE;
        first = sv_trim(sv_slice(text, 0, (size_t)dash));
        last = sv_trim(sv_slice(text, (size_t)dash + 1, text.len));
    }
    *why = "not a number pattern (+E.164, +first-+last or +prefix*)";
    if (!is_e164(first) || (pattern.kind == CFG_NUMBER_RANGE && !is_e164(last))) {
        return false;
    }
    if (pattern.kind == CFG_NUMBER_RANGE) {
        if (first.len != last.len || memcmp(first.ptr, last.ptr, first.len) > 0) {
            *why = "a number range needs two numbers of the same length, the first not above "
                   "the last";
            return false;
        }
        (void)sv_copy_cstr(last, pattern.last, sizeof(pattern.last)); /* fits: is_e164 */
    }
    (void)sv_copy_cstr(first, pattern.first, sizeof(pattern.first)); /* fits: is_e164 */
    *out = pattern;
    return true;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t year, unsigned month, unsigned day)
{
    year -= month <= 2 ? 1 : 0;
    int64_t era = year / 400;
    int64_t year_of_era = year - era * 400;
    unsigned shifted_month = month > 2 ? month - 3 : month + 9;
    int64_t day_of_year = (153 * (int64_t)shifted_month + 2) / 5 + (int64_t)day - 1;
    int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + day_of_era - 719468;
}

bool cfg_value_date(struct sv text, int64_t *out, const char **why)
{
    static const unsigned month_days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    uint32_t year;
    uint32_t month;
    uint32_t day;
    *why = "not a date YYYY-MM-DD";
    if (text.len != 10 || text.ptr[4] != '-' || text.ptr[7] != '-' ||
        !sv_to_u32(sv_slice(text, 0, 4), &year) || !sv_to_u32(sv_slice(text, 5, 2), &month) ||
        !sv_to_u32(sv_slice(text, 8, 2), &day)) {
        return false;
    }
    bool is_leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 2000 || year > 2199 || month < 1 || month > 12 || day < 1 ||
        day > month_days[month - 1] || (month == 2 && day == 29 && !is_leap)) {
        *why = "not a real day between 2000-01-01 and 2199-12-31";
        return false;
    }
    *out = days_from_civil(year, month, day) * 86400;
    return true;
}

bool cfg_value_algorithm(struct sv text, enum cfg_digest_algorithm *out)
{
    unsigned int index = 0;
    if (!cfg_value_enum(text, "MD5|SHA-256|SHA-512-256", &index) || index > 2) {
        return false;
    }

    static const enum cfg_digest_algorithm algorithms[] = { CFG_DIGEST_MD5, CFG_DIGEST_SHA256,
                                                            CFG_DIGEST_SHA512_256 };

    *out = algorithms[index];
    return true;
}

void cfg_secret_free(char *secret)
{
    if (secret == NULL) {
        return;
    }
    /* A volatile pointer keeps the compiler from dropping the wipe of memory about to be
     * freed. */
    volatile char *p = secret;
    while (*p != '\0') {
        *p++ = '\0';
    }
    sw_free(secret);
}

/* Moves the cursor past the next comma-separated item; false at the end. */
static bool next_item(struct sv *cur, struct sv *item)
{
    if (cur->len == 0) {
        return false;
    }
    (void)sv_take_until(cur, ',', item); /* the last item has no comma after it */
    *item = sv_trim(*item);
    return true;
}

static size_t count_items(struct sv text)
{
    if (sv_trim(text).len == 0) {
        return 0;
    }
    size_t count = 1;
    for (size_t i = 0; i < text.len; i++) {
        count += text.ptr[i] == ',' ? 1 : 0;
    }
    return count;
}

static void quote_into(char *msg, size_t cap, const char *what, struct sv value, const char *why)
{
    struct sv shown = sv_slice(value, 0, QUOTE_MAX);
    (void)snprintf(msg, cap, "%s \"" SV_FMT "\"%s: %s", what, SV_ARG(shown),
                   value.len > QUOTE_MAX ? "..." : "", why);
}

/* One list item parsed into `element` (of the list's element type): 0, -ENOMEM or
 * -SW_ECONFIG. */
static int parse_item(enum cfg_type type, struct sv item, void *element, const char **why)
{
    switch (type) {
    case CFG_T_LIST: {
        char **string = element;
        if (item.len > ITEM_MAX) {
            *why = "item too long";
            return -SW_ECONFIG;
        }
        *string = sv_dup_cstr(item);
        return *string == NULL ? -ENOMEM : 0;
    }
    case CFG_T_CIDRS: {
        struct sw_cidr *cidr = element;
        struct sw_ip ip;
        long slash = sv_find_char(item, '/');
        struct sv ip_text = slash < 0 ? item : sv_slice(item, 0, (size_t)slash);
        if (!sw_cidr_parse(item, cidr) || !sw_ip_parse(sv_trim(ip_text), &ip)) {
            *why = "not an address range (ip or ip/length)";
            return -SW_ECONFIG;
        }
        if (!sw_ip_eq(&ip, &cidr->ip)) {
            *why = "host bits set after the prefix length (write the network address, or "
                   "/32 and /128 for one host)";
            return -SW_ECONFIG;
        }
        return 0;
    }
    case CFG_T_LISTEN: {
        struct cfg_endpoint *endpoint = element;
        if (!cfg_value_endpoint(item, endpoint, why)) {
            return -SW_ECONFIG;
        }
        if (!endpoint->is_ip) {
            *why = "a listen address must be an IP address";
            return -SW_ECONFIG;
        }
        return 0;
    }
    case CFG_T_NUMBERS:
        return cfg_value_number_pattern(item, element, why) ? 0 : -SW_ECONFIG;
    default:
        SW_ASSERT(cfg_type_is_list(type));
        return -SW_ECONFIG;
    }
}

static size_t element_size(enum cfg_type type)
{
    switch (type) {
    case CFG_T_LIST:
        return sizeof(char *);
    case CFG_T_CIDRS:
        return sizeof(struct sw_cidr);
    case CFG_T_LISTEN:
        return sizeof(struct cfg_endpoint);
    case CFG_T_NUMBERS:
        return sizeof(struct cfg_number_pattern);
    default:
        SW_ASSERT(cfg_type_is_list(type));
        return 0;
    }
}

/*
 * Every list struct is { T *items; size_t count; }: the items pointer is read and written
 * with memcpy so that one function serves the four element types.
 */
static void *list_items(const void *field)
{
    void *items;
    memcpy(&items, field, sizeof(items));
    return items;
}

static size_t *list_count(void *field)
{
    return (size_t *)((char *)field + sizeof(void *));
}

/* Frees the strings of `count` elements at `items` (a LIST); other types own nothing. */
static void list_free_items(enum cfg_type type, void *items, size_t count)
{
    if (type == CFG_T_LIST) {
        char **strings = items;
        for (size_t i = 0; i < count; i++) {
            sw_free(strings[i]);
        }
    }
}

_Static_assert(offsetof(struct cfg_strings, count) == sizeof(void *), "list layout");
_Static_assert(offsetof(struct cfg_cidrs, count) == sizeof(void *), "list layout");
_Static_assert(offsetof(struct cfg_endpoints, count) == sizeof(void *), "list layout");
_Static_assert(offsetof(struct cfg_numbers, count) == sizeof(void *), "list layout");

static int list_set(const struct cfg_key_desc *desc, void *field, struct sv text, bool is_append,
                    char *msg, size_t cap)
{
    size_t size = element_size(desc->type);
    size_t old_count = is_append ? *list_count(field) : 0;
    size_t new_count = count_items(text);
    if (old_count + new_count > LIST_MAX) {
        (void)snprintf(msg, cap, "more than %u items", LIST_MAX);
        return -SW_ECONFIG;
    }
    char *items = sw_calloc(old_count + new_count + 1, size);
    if (items == NULL) {
        return -ENOMEM;
    }
    struct sv cur = text;
    struct sv item;
    for (size_t i = 0; i < new_count && next_item(&cur, &item); i++) {
        const char *why = "empty item (two commas in a row?)";
        int rc = item.len == 0 ? -SW_ECONFIG
                               : parse_item(desc->type, item, items + (old_count + i) * size, &why);
        if (rc != 0) {
            quote_into(msg, cap, "bad item", item, why);
            /* Only the new items are owned here; the old ones still belong to the field. */
            list_free_items(desc->type, items + old_count * size, i);
            sw_free(items);
            return rc;
        }
    }
    void *old_items = list_items(field);
    if (old_count > 0) {
        memcpy(items, old_items, old_count * size);
    } else if (!is_append) {
        list_free_items(desc->type, old_items, *list_count(field));
    }
    sw_free(old_items);
    memcpy(field, &items, sizeof(void *));
    *list_count(field) = old_count + new_count;
    return 0;
}

static bool parse_algorithms(struct sv text, struct cfg_algorithms *out, struct sv *bad,
                             const char **why)
{
    struct cfg_algorithms algorithms = { .count = 0 };
    struct sv cur = text;
    struct sv item;
    while (next_item(&cur, &item)) {
        enum cfg_digest_algorithm algorithm;
        *bad = item;
        if (!cfg_value_algorithm(item, &algorithm)) {
            *why = "not MD5, SHA-256 or SHA-512-256";
            return false;
        }
        for (size_t i = 0; i < algorithms.count; i++) {
            if (algorithms.items[i] == algorithm) {
                *why = "given twice";
                return false;
            }
        }
        algorithms.items[algorithms.count++] = algorithm; /* at most 3: duplicates refused */
    }
    if (algorithms.count == 0) {
        *bad = text;
        *why = "at least one algorithm is needed";
        return false;
    }
    *out = algorithms;
    return true;
}

/* Checks a string-like value; true when valid. */
static bool check_text(const struct cfg_key_desc *desc, struct sv text, const char **why)
{
    switch (desc->type) {
    case CFG_T_HOST:
        return cfg_value_host(text, why);
    case CFG_T_USER:
        return cfg_value_user(text, why);
    case CFG_T_NUMBER:
        return cfg_value_number(text, why);
    case CFG_T_HEX:
        return cfg_value_hex(text, desc->min, why);
    default: /* STRING, PATH, SECRET */
        *why = "longer than 255 characters";
        return text.len <= ITEM_MAX;
    }
}

/* STRING PATH HOST USER SECRET NUMBER HEX: an owned copy, NULL for the empty value. */
static int text_set(const struct cfg_key_desc *desc, char **field, struct sv text, char *msg,
                    size_t cap)
{
    const char *why = "";
    char *copy = NULL;
    if (text.len > 0) {
        if (!check_text(desc, text, &why)) {
            if (cfg_type_is_secret(desc->type)) {
                (void)snprintf(msg, cap, "bad value: %s", why);
            } else {
                quote_into(msg, cap, "bad value", text, why);
            }
            return -SW_ECONFIG;
        }
        copy = sv_dup_cstr(text);
        if (copy == NULL) {
            return -ENOMEM;
        }
        for (char *p = copy; desc->type == CFG_T_HEX && *p != '\0'; p++) {
            *p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
        }
    }
    if (cfg_type_is_secret(desc->type)) {
        cfg_secret_free(*field);
    } else {
        sw_free(*field);
    }
    *field = copy;
    return 0;
}

static bool scalar_parse(const struct cfg_key_desc *desc, void *field, struct sv text,
                         struct sv *bad, const char **why)
{
    *bad = text;
    switch (desc->type) {
    case CFG_T_BOOL:
        *why = "expected yes or no";
        return cfg_value_bool(text, field);
    case CFG_T_UINT:
        return cfg_value_uint(text, desc->min, desc->max, field, why);
    case CFG_T_DURATION:
        return cfg_value_duration(text, desc->min, desc->max, field, why);
    case CFG_T_ENUM:
        *why = "not one of the words allowed";
        return cfg_value_enum(text, desc->words, field);
    case CFG_T_DATE:
        return cfg_value_date(text, field, why);
    case CFG_T_ENDPOINT:
        if (text.len == 0) {
            memset(field, 0, sizeof(struct cfg_endpoint));
            return true;
        }
        return cfg_value_endpoint(text, field, why);
    case CFG_T_HOSTPORT:
        if (text.len == 0) {
            memset(field, 0, sizeof(struct cfg_endpoint));
            return true;
        }
        return cfg_value_hostport(text, (uint16_t)desc->min, field, why);
    case CFG_T_ALGORITHMS:
        return parse_algorithms(text, field, bad, why);
    default:
        SW_ASSERT(false && "not a scalar type");
        return false;
    }
}

/* Scalars are parsed into a copy first so that a bad value leaves the field unchanged. */
union scalar_storage {
    bool is_on;
    uint32_t number;
    unsigned int index;
    int64_t date;
    struct cfg_endpoint endpoint;
    struct cfg_algorithms algorithms;
};

static size_t scalar_size(enum cfg_type type)
{
    switch (type) {
    case CFG_T_BOOL:
        return sizeof(bool);
    case CFG_T_UINT:
    case CFG_T_DURATION:
        return sizeof(uint32_t);
    case CFG_T_ENUM:
        return sizeof(unsigned int);
    case CFG_T_DATE:
        return sizeof(int64_t);
    case CFG_T_ENDPOINT:
    case CFG_T_HOSTPORT:
        return sizeof(struct cfg_endpoint);
    case CFG_T_ALGORITHMS:
        return sizeof(struct cfg_algorithms);
    default:
        SW_ASSERT(false && "not a scalar type");
        return 0;
    }
}

int cfg_value_set(const struct cfg_key_desc *desc, void *base, struct sv text, bool is_append,
                  char *msg, size_t cap)
{
    SW_ASSERT(desc != NULL && base != NULL && cap > 0);
    void *field = (char *)base + desc->offset;
    msg[0] = '\0';
    switch (desc->type) {
    case CFG_T_STRING:
    case CFG_T_PATH:
    case CFG_T_HOST:
    case CFG_T_USER:
    case CFG_T_SECRET:
    case CFG_T_NUMBER:
    case CFG_T_HEX:
        return text_set(desc, field, text, msg, cap);
    case CFG_T_LIST:
    case CFG_T_CIDRS:
    case CFG_T_LISTEN:
    case CFG_T_NUMBERS:
        return list_set(desc, field, text, is_append, msg, cap);
    default:
        break;
    }
    union scalar_storage storage;
    memset(&storage, 0, sizeof(storage));
    struct sv bad = text;
    const char *why = "bad value";
    if (!scalar_parse(desc, &storage, text, &bad, &why)) {
        if (desc->type == CFG_T_ENUM) {
            (void)snprintf(msg, cap, "bad value \"" SV_FMT "\": expected one of %s",
                           SV_ARG(sv_slice(text, 0, QUOTE_MAX)), desc->words);
        } else if (desc->type == CFG_T_UINT || desc->type == CFG_T_DURATION) {
            char range[64];
            (void)snprintf(range, sizeof(range), "%s (%u..%u)", why, (unsigned)desc->min,
                           (unsigned)desc->max);
            quote_into(msg, cap, "bad value", bad, range);
        } else {
            quote_into(msg, cap, "bad value", bad, why);
        }
        return -SW_ECONFIG;
    }
    memcpy(field, &storage, scalar_size(desc->type));
    return 0;
}

void cfg_value_free(const struct cfg_key_desc *desc, void *base)
{
    void *field = (char *)base + desc->offset;
    switch (desc->type) {
    case CFG_T_STRING:
    case CFG_T_PATH:
    case CFG_T_HOST:
    case CFG_T_USER:
    case CFG_T_NUMBER:
        sw_free(*(char **)field);
        *(char **)field = NULL;
        return;
    case CFG_T_SECRET:
    case CFG_T_HEX:
        cfg_secret_free(*(char **)field);
        *(char **)field = NULL;
        return;
    case CFG_T_LIST:
    case CFG_T_CIDRS:
    case CFG_T_LISTEN:
    case CFG_T_NUMBERS: {
        void *items = list_items(field);
        list_free_items(desc->type, items, *list_count(field));
        sw_free(items);
        memset(field, 0, sizeof(void *) + sizeof(size_t));
        return;
    }
    default:
        memset(field, 0, scalar_size(desc->type));
        return;
    }
}
