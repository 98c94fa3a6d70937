#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/sv.h"
#include "config/config.h"
#include "support/unit.h"

#define HA1_SHA256 "0b9bbff3b58cd3153d42aeecab885567c7e4f1197297900542d8abe508f4e4e7"

/* Line numbers are those of the physical lines; comments, blank lines and indentation
 * count like any other line. */
static const char sample[] = "; sipwarden with every kind of line\n" /* 1 */
                             "[general]\n"                           /* 2 */
                             "listen = udp:127.0.0.1:5060\n"         /* 3 */
                             "default_trunk = provider\n"            /* 4 */
                             "[ban]\n"                               /* 5 */
                             "; the comment before maxretry\n"       /* 6 */
                             "findtime = 600\n"                      /* 7 */
                             "   maxretry = 20\n"                    /* 8 */
                             "never_ban = 10.0.0.0/8\n"              /* 9 */
                             "never_ban = 192.168.0.0/16\n"          /* 10 */
                             "[log]\n"                               /* 11 */
                             "# a hash comment\n"                    /* 12 */
                             "syslog = yes\n"                        /* 13 */
                             "security_log =\n"                      /* 14 */
                             "[admin]\n"                             /* 15 */
                             "listen = 127.0.0.1:8080\n"             /* 16 */
                             "token = kF8#qL2@wZ9!rT4$yU7^\n"        /* 17 */
                             "\n"                                    /* 18 */
                             "[provider]\n"                          /* 19 */
                             "type = trunk\n"                        /* 20 */
                             "provider = udp:192.0.2.10\n"           /* 21 */
                             "owned_numbers = +15551230000\n"        /* 22 */
                             "default_number = +15551230000\n"       /* 23 */
                             "username = 4930123456\n"               /* 24 */
                             "secret = pV3#nM8@cX1!bZ6$hJ5^\n"       /* 25 */
                             "\n"                                    /* 26 */
                             "[1001]\n"                              /* 27 */
                             "type = account\n"                      /* 28 */
                             "ha1_sha256 = " HA1_SHA256 "\n"         /* 29 */
                             "rotated = 2026-10-01\n"                /* 30 */
                             "[trunk]\n"                             /* 31 */
                             "type = trunk\n"                        /* 32 */
                             "provider = udp:192.0.2.20\n"           /* 33 */
                             "owned_numbers = +15551239999\n"        /* 34 */
                             "default_number = +15551239999\n"       /* 35 */
                             "[general-purpose]\n"                   /* 36 */
                             "type = account\n"                      /* 37 */
                             "ha1_sha256 = " HA1_SHA256 "\n"         /* 38 */
                             "permit = 10.1.0.0/16\n"                /* 39 */
                             "[default]\n"                           /* 40 */
                             "type = account\n"                      /* 41 */
                             "username = 1003\n"                     /* 42 */
                             "secret = rQ7#tY2@uI9!oP4$aS8^\n";      /* 43 */

static struct cfg *load(const char *text)
{
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("t.conf", text, &diag);
    if (cfg == NULL) {
        sw_diag_print(&diag, stderr);
    }
    sw_diag_fini(&diag);
    assert_non_null(cfg);
    return cfg;
}

struct line_case {
    const char *section;
    const char *key; /* NULL: the section header */
    unsigned line;
};

static const struct line_case sample_cases[] = {
    /* Singleton sections and their keys. */
    { "general", NULL, 2 },
    { "general", "listen", 3 },
    { "general", "default_trunk", 4 },
    { "ban", NULL, 5 },
    { "ban", "findtime", 7 },
    { "ban", "maxretry", 8 },  /* indented, after a comment */
    { "ban", "never_ban", 9 }, /* a list key written twice: its first line */
    { "log", NULL, 11 },
    { "log", "syslog", 13 },
    { "log", "security_log", 14 }, /* set to the empty value ("off") */
    { "admin", NULL, 15 },
    { "admin", "listen", 16 }, /* the same key name as [general] listen */
    { "admin", "token", 17 },
    /* Keys that are not written: their default applies. */
    { "ban", "bantime", 0 },
    { "general", "workers", 0 },
    { "log", "format", 0 },
    /* Sections that are absent: every key has its default. */
    { "tls", NULL, 0 },
    { "tls", "verify_server", 0 },
    { "pbx", NULL, 0 },
    { "stir", NULL, 0 },
    /* Trunks and accounts: the key's own line, not the header's. */
    { "provider", NULL, 19 },
    { "provider", "provider", 21 },
    { "provider", "secret", 25 },
    { "provider", "username", 24 },
    { "provider", "permit", 0 }, /* derived from the provider's address */
    { "provider", "register", 0 },
    { "1001", NULL, 27 },
    { "1001", "ha1_sha256", 29 },
    { "1001", "rotated", 30 },
    { "1001", "username", 0 }, /* derived: the section name */
    { "1001", "secret", 0 },
    /* An object may be named like an object kind, or start like a singleton. */
    { "trunk", NULL, 31 },
    { "trunk", "provider", 33 },
    { "general-purpose", NULL, 36 },
    { "general-purpose", "permit", 39 },
    { "default", NULL, 40 },
    { "default", "username", 42 },
    { "default", "secret", 43 },
    /* Keys of another kind, unknown keys and sections, and `type` (not a keys.def key). */
    { "1001", "provider", 0 },
    { "provider", "ha1_sha512_256", 0 },
    { "ban", "nosuchkey", 0 },
    { "ban", "listen", 0 },
    { "nosuchsection", NULL, 0 },
    { "nosuchsection", "secret", 0 },
    { "provider", "type", 0 },
    { "", NULL, 0 },
};

static void test_lines_of_sections_and_keys(void **state)
{
    (void)state;
    struct cfg *cfg = load(sample);
    for (size_t i = 0; i < sizeof(sample_cases) / sizeof(sample_cases[0]); i++) {
        const struct line_case *c = &sample_cases[i];
        unsigned got = c->key == NULL ? cfg_section_line(cfg, c->section)
                                      : cfg_key_line(cfg, c->section, c->key);
        if (got != c->line) {
            (void)fprintf(stderr, "case %zu: [%s] %s: line %u, expected %u\n", i, c->section,
                          c->key != NULL ? c->key : "(header)", got, c->line);
        }
        assert_int_equal(got, c->line);
    }
    /* The object header lines agree with the objects' own `line`. */
    assert_int_equal(cfg_section_line(cfg, "provider"), cfg_trunk_find(cfg, SV("provider"))->line);
    assert_int_equal(cfg_section_line(cfg, "1001"), cfg_account_find(cfg, SV("1001"))->line);
    cfg_free(cfg);
}

static void test_lines_count_crlf_bom_and_include_lines(void **state)
{
    (void)state;
    /* sipwarden's file has no includes: "#include" is a comment (as '#' starts one), so
     * the keys after it keep the lines of this file and nothing is read from the other. */
    struct cfg *cfg = load("\xEF\xBB\xBF; sipwarden.conf\r\n"
                           "#include /etc/sipwarden/ban.conf\r\n"
                           "[ban]\r\n"
                           "\r\n"
                           "maxretry = 4\r\n"
                           "[log]\r\n"
                           "security_log = /var/log/sipwarden/security.log");
    assert_int_equal(cfg_section_line(cfg, "ban"), 3);
    assert_int_equal(cfg_key_line(cfg, "ban", "maxretry"), 5);
    assert_int_equal(cfg_section_line(cfg, "log"), 6);
    /* The last line has no newline. */
    assert_int_equal(cfg_key_line(cfg, "log", "security_log"), 7);
    cfg_free(cfg);
}

/* Every account of many: more than one growth of the per-object line table. */
static void test_lines_of_many_objects(void **state)
{
    (void)state;

    enum { ACCOUNTS = 40 };

    size_t cap = (size_t)ACCOUNTS * 160 + 64;
    char *text = sw_malloc(cap);
    assert_non_null(text);
    size_t len = 0;
    for (unsigned i = 0; i < ACCOUNTS; i++) {
        /* Account i: header at 4i+1, type at 4i+2, a blank line, ha1_sha256 at 4i+4. */
        int n = snprintf(text + len, cap - len, "[a%u]\ntype = account\n\nha1_sha256 = %s\n", i,
                         HA1_SHA256);
        assert_true(n > 0 && (size_t)n < cap - len);
        len += (size_t)n;
    }
    struct cfg *cfg = load(text);
    assert_int_equal(cfg->account_count, ACCOUNTS);
    for (unsigned i = 0; i < ACCOUNTS; i++) {
        char name[16];
        (void)snprintf(name, sizeof(name), "a%u", i);
        assert_int_equal(cfg_section_line(cfg, name), 4 * i + 1);
        assert_int_equal(cfg_key_line(cfg, name, "ha1_sha256"), 4 * i + 4);
        assert_int_equal(cfg_key_line(cfg, name, "permit"), 0);
    }
    cfg_free(cfg);
    sw_free(text);
}

/* The section of a line of the default text, as the test reads it: "[name]" -> name. */
static bool section_of(struct sv line, char *section, size_t cap)
{
    if (line.len < 2 || line.ptr[0] != '[' || line.ptr[line.len - 1] != ']') {
        return false;
    }
    return sv_copy_cstr(sv_slice(line, 1, line.len - 2), section, cap);
}

/*
 * Every key line of the embedded default (examples/loopback.conf) is where cfg_key_line()
 * says, every section header where cfg_section_line() says: the loader's lines are those
 * an editor shows.
 */
static void test_lines_match_the_default_text(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_default(&diag);
    sw_diag_fini(&diag);
    assert_non_null(cfg);
    struct sv rest = sv_from_cstr(cfg_default_text());
    char section[72] = "";
    unsigned line_no = 0;
    size_t keys_seen = 0;
    struct sv line;
    while (rest.len > 0 && line_no < 100000) {
        (void)sv_take_until(&rest, '\n', &line); /* false: the last line, without newline */
        line_no++;
        line = sv_trim(line);
        if (section_of(line, section, sizeof(section))) {
            assert_int_equal(cfg_section_line(cfg, section), line_no);
            continue;
        }
        long eq = sv_find_char(line, '=');
        if (line.len == 0 || line.ptr[0] == ';' || line.ptr[0] == '#' || eq <= 0) {
            continue;
        }
        char key[72];
        assert_true(sv_copy_cstr(sv_trim(sv_slice(line, 0, (size_t)eq)), key, sizeof(key)));
        if (strcmp(key, "type") != 0 && cfg_key_line(cfg, section, key) != line_no) {
            /* A repeated list key keeps its first line. */
            assert_true(cfg_key_line(cfg, section, key) < line_no);
        }
        keys_seen++;
    }
    assert_true(keys_seen >= 10);
    cfg_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_of_sections_and_keys),
        cmocka_unit_test(test_lines_count_crlf_bom_and_include_lines),
        cmocka_unit_test(test_lines_of_many_objects),
        cmocka_unit_test(test_lines_match_the_default_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
