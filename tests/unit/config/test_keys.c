#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "config/config.h"
#include "config/keys.h"
#include "config/value.h"
#include "support/testdata.h"
#include "support/unit.h"

/* Room for the largest section struct. */
union any_section {
    struct cfg_general general;
    struct cfg_tls tls;
    struct cfg_pbx pbx;
    struct cfg_acl acl;
    struct cfg_auth auth;
    struct cfg_ban ban;
    struct cfg_ratelimit ratelimit;
    struct cfg_scanner scanner;
    struct cfg_log log;
    struct cfg_admin admin;
    struct cfg_state state;
    struct cfg_stir stir;
    struct cfg_media media;
    struct cfg_trunk trunk;
    struct cfg_account account;
};

static void test_keys_every_default_parses(void **state)
{
    (void)state;
    size_t count;
    const struct cfg_key_desc *keys = cfg_keys_table(&count);
    assert_int_equal(count, cfg_key_count());
    assert_true(count > 90);
    for (size_t i = 0; i < count; i++) {
        const struct cfg_key_info *info = cfg_key_at(i);
        assert_ptr_equal(info, &keys[i].info);
        enum cfg_section_kind kind;
        assert_true(cfg_section_kind_find(sv_from_cstr(info->section), &kind));
        assert_ptr_equal(cfg_keys_find(kind, sv_from_cstr(info->name)), &keys[i]);
        assert_non_null(info->help);
        assert_true(strlen(info->help) > 10);
        if (info->default_value == NULL) {
            continue;
        }
        union any_section section;
        memset(&section, 0, sizeof(section));
        char msg[256];
        int rc = cfg_value_set(&keys[i], &section, sv_from_cstr(info->default_value), false, msg,
                               sizeof(msg));
        if (rc != 0) {
            (void)fprintf(stderr, "%s.%s: default: %s\n", info->section, info->name, msg);
        }
        assert_int_equal(rc, 0);
        cfg_value_free(&keys[i], &section);
    }
}

static void test_keys_names_are_unique_per_section(void **state)
{
    (void)state;
    size_t count = cfg_key_count();
    for (size_t i = 0; i < count; i++) {
        for (size_t j = 0; j < i; j++) {
            const struct cfg_key_info *a = cfg_key_at(i);
            const struct cfg_key_info *b = cfg_key_at(j);
            assert_false(strcmp(a->section, b->section) == 0 && strcmp(a->name, b->name) == 0);
        }
        /* `type` is the object kind, handled by the loader before the keys. */
        assert_string_not_equal(cfg_key_at(i)->name, "type");
    }
}

/* The man page heading of a section kind. */
static void heading_of(const char *section, char *buf, size_t cap)
{
    if (strcmp(section, "trunk") == 0 || strcmp(section, "account") == 0 ||
        strcmp(section, "alert") == 0 || strcmp(section, "sink") == 0) {
        (void)snprintf(buf, cap, "## [NAME] with type = %s\n", section);
    } else {
        (void)snprintf(buf, cap, "## [%s]\n", section);
    }
}

/* The man page text without scdoc's escapes of '*' and '_'. */
static void unescape(char *text)
{
    char *out = text;
    for (const char *in = text; *in != '\0'; in++) {
        if (*in == '\\' && (in[1] == '*' || in[1] == '_')) {
            in++;
        }
        *out++ = *in;
    }
    *out = '\0';
}

/* The line "*name* = _type_, default: X" (or ", no default") expected for a key. */
static void entry_of(const struct cfg_key_info *info, char *buf, size_t cap)
{
    if (info->default_value == NULL) {
        (void)snprintf(buf, cap, "\n*%s* = _%s_, no default\n", info->name, info->type);
    } else {
        (void)snprintf(buf, cap, "\n*%s* = _%s_, default: %s\n", info->name, info->type,
                       info->default_value);
    }
}

static char *read_man_page(void)
{
    const char *source = testdata_source_dir();
    assert_non_null(source);
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/docs/man/sipwarden.conf.5.scd", source);
    size_t len = 0;
    char *text = testdata_read_file(path, &len);
    assert_non_null(text);
    unescape(text);
    return text;
}

static void test_keys_are_documented_in_the_man_page(void **state)
{
    (void)state;
    char *text = read_man_page();
    size_t missing = 0;
    for (size_t i = 0; i < cfg_key_count(); i++) {
        const struct cfg_key_info *info = cfg_key_at(i);
        char heading[128];
        heading_of(info->section, heading, sizeof(heading));
        const char *start = strstr(text, heading);
        if (start == NULL) {
            (void)fprintf(stderr, "sipwarden.conf.5.scd: no heading %s", heading);
            missing++;
            continue;
        }
        const char *end = strstr(start + 1, "\n#");
        char entry[512];
        entry_of(info, entry, sizeof(entry));
        const char *found = strstr(start, entry);
        if (found == NULL || (end != NULL && found > end)) {
            (void)fprintf(stderr, "sipwarden.conf.5.scd: under %.*s expected the line:%s",
                          (int)strlen(heading) - 1, heading, entry);
            missing++;
        }
    }
    free(text);
    assert_int_equal(missing, 0);
}

static void test_man_page_documents_no_unknown_key(void **state)
{
    (void)state;
    char *text = read_man_page();
    const char *keys_start = strstr(text, "\n# KEYS\n");
    assert_non_null(keys_start);
    const char *keys_end = strstr(keys_start + 1, "\n# ");
    assert_non_null(keys_end);
    size_t documented = 0;
    enum cfg_section_kind kind = CFG_SECTION_COUNT;
    for (const char *line = keys_start; line != NULL && line < keys_end;
         line = strchr(line + 1, '\n')) {
        const char *p = line + 1;
        if (strncmp(p, "## [NAME] with type = trunk", 27) == 0) {
            kind = CFG_SECTION_TRUNK;
        } else if (strncmp(p, "## [NAME] with type = account", 29) == 0) {
            kind = CFG_SECTION_ACCOUNT;
        } else if (strncmp(p, "## [NAME] with type = alert", 27) == 0) {
            kind = CFG_SECTION_ALERT;
        } else if (strncmp(p, "## [NAME] with type = sink", 26) == 0) {
            kind = CFG_SECTION_SINK;
        } else if (strncmp(p, "## [", 4) == 0) {
            const char *close = strchr(p + 4, ']');
            assert_non_null(close);
            assert_true(cfg_section_kind_find(sv_make(p + 4, (size_t)(close - p - 4)), &kind));
        } else if (p[0] == '*') {
            const char *close = strchr(p + 1, '*');
            assert_non_null(close);
            struct sv name = sv_make(p + 1, (size_t)(close - p - 1));
            if (cfg_keys_find(kind, name) == NULL) {
                (void)fprintf(stderr, "documented but unknown: %.*s\n", SV_ARG(name));
            }
            assert_non_null(cfg_keys_find(kind, name));
            documented++;
        }
    }
    free(text);
    assert_int_equal(documented, cfg_key_count());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_every_default_parses),
        cmocka_unit_test(test_keys_names_are_unique_per_section),
        cmocka_unit_test(test_keys_are_documented_in_the_man_page),
        cmocka_unit_test(test_man_page_documents_no_unknown_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
