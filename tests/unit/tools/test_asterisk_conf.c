#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "support/unit.h"
#include "tools/asterisk_conf.h"

static char tmp_dir[64];

static int setup_dir(void **state)
{
    (void)state;
    (void)snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/sw-astconf-XXXXXX");
    return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    (void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    /* NOLINTNEXTLINE(concurrency-mt-unsafe,cert-env33-c): removes the test's own folder. */
    return system(cmd) == 0 ? 0 : -1;
}

static const char *write_file(const char *name, const char *text, size_t len)
{
    static char path[256];
    (void)snprintf(path, sizeof(path), "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

#define WRITE(name, text) write_file(name, text, sizeof(text) - 1)

static const struct asterisk_conf_section *nth_section(const struct asterisk_conf *conf, size_t n)
{
    assert_true(n < conf->section_count);
    return &conf->sections[n];
}

static void assert_value(const struct asterisk_conf_section *s, const char *key, const char *value,
                         unsigned line)
{
    const struct asterisk_conf_entry *e = asterisk_conf_section_get(s, sv_from_cstr(key));
    assert_non_null(e);
    if (!sv_eq(e->value, sv_from_cstr(value))) {
        fail_msg("%s = '%.*s', expected '%s'", key, SV_ARG(e->value), value);
    }
    assert_int_equal(e->line, line);
}

static bool diag_has(const struct sw_diag *diag, const char *needle, unsigned line)
{
    for (size_t i = 0; i < diag->count; i++) {
        const struct sw_diag_entry *e = &diag->entries[i];
        if (e->message != NULL && strstr(e->message, needle) != NULL && e->line == line) {
            return true;
        }
    }
    return false;
}

static void test_conf_templates_and_comments(void **state)
{
    (void)state;
    static const char text[] = "; FreePBX style\n"
                               "[general]\n"
                               "allowguest = no ; why not\n"
                               "[trunk-tpl](!)\n"
                               "type=peer\n"
                               "insecure=port,invite\n"
                               "secret=ab\\;cd\n"
                               "[prov](trunk-tpl)\n"
                               "; rotated=2024-01-31\n"
                               "insecure => invite\n"
                               ";-- a block\n"
                               "secret=hidden\n"
                               "--; host=203.0.113.5\n"
                               "[prov](+)\n"
                               "context=from-trunk\r\n";
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct asterisk_conf *conf = NULL;
    assert_int_equal(
        asterisk_conf_parse("sip.conf", sv_make(text, sizeof(text) - 1), 0, &conf, &diag), 0);
    assert_int_equal(diag.count, 0);
    assert_int_equal(conf->section_count, 3);
    const struct asterisk_conf_section *general = nth_section(conf, 0);
    assert_value(general, "allowguest", "no", 3);
    assert_int_equal(general->entries[1].kind, ASTERISK_CONF_COMMENT);
    assert_true(sv_eq(general->entries[1].value, SV("why not")));

    const struct asterisk_conf_section *tpl = nth_section(conf, 1);
    assert_true(tpl->is_template);
    assert_value(tpl, "secret", "ab;cd", 7);

    const struct asterisk_conf_section *prov = asterisk_conf_find(conf, SV("prov"));
    assert_non_null(prov);
    assert_false(prov->is_template);
    assert_int_equal(prov->line, 8);
    assert_value(prov, "type", "peer", 5);
    assert_true(asterisk_conf_section_get(prov, SV("TYPE"))->is_inherited);
    assert_value(prov, "insecure", "invite", 10);
    assert_value(prov, "secret", "ab;cd", 7); /* the block comment hid the override */
    assert_value(prov, "host", "203.0.113.5", 13);
    assert_value(prov, "context", "from-trunk", 15);
    assert_null(asterisk_conf_find(conf, SV("trunk-tpl")));
    asterisk_conf_free(conf);
    sw_diag_fini(&diag);
}

static void test_conf_reports_bad_lines(void **state)
{
    (void)state;
    static const char text[] = "orphan=1\n"
                               "[ok]\n"
                               "novalue\n"
                               "[broken\n"
                               "key=1\n"
                               "[child](missing)\n"
                               "[x] junk\n"
                               "=1\n"
                               "#include \"other.conf\"\n"
                               "#exec /bin/true\n"
                               "#frobnicate\n"
                               "[late]\n"
                               ";-- never closed\n";
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct asterisk_conf *conf = NULL;
    int rc = asterisk_conf_parse("bad.conf", sv_make(text, sizeof(text) - 1),
                                 ASTERISK_CONF_NO_INCLUDE, &conf, &diag);
    assert_int_equal(rc, -SW_ECONFIG);
    assert_non_null(conf);
    assert_true(diag_has(&diag, "outside of any section", 1));
    assert_true(diag_has(&diag, "expected 'name = value'", 3));
    assert_true(diag_has(&diag, "unterminated section header", 4));
    assert_true(diag_has(&diag, "outside of any section", 5));
    assert_true(diag_has(&diag, "template 'missing' is not defined", 6));
    assert_true(diag_has(&diag, "unexpected text after the section header", 7));
    assert_true(diag_has(&diag, "empty variable name", 8));
    assert_true(diag_has(&diag, "not followed", 9));
    assert_true(diag_has(&diag, "not run", 10));
    assert_true(diag_has(&diag, "unknown directive", 11));
    assert_true(diag_has(&diag, "block comment", 13));
    asterisk_conf_free(conf);
    sw_diag_fini(&diag);
}

static void test_conf_rejects_binary(void **state)
{
    (void)state;
    static const char text[] = "[a]\nb=1\n\x7f"
                               "ELF\x01\x00\x00";
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct asterisk_conf *conf = NULL;
    assert_int_equal(asterisk_conf_parse("bin", sv_make(text, sizeof(text) - 1), 0, &conf, &diag),
                     -SW_EIO);
    assert_null(conf);
    assert_true(diag_has(&diag, "binary content (byte 0x01)", 3));
    sw_diag_fini(&diag);
}

/* Templates that copy each other 16 times per level would grow without the entry limit. */
static void test_conf_bounds_template_blowup(void **state)
{
    (void)state;
    static char text[8192];
    size_t len = 0;
    len += (size_t)snprintf(text + len, sizeof(text) - len, "[t0](!)\n");
    for (int i = 0; i < 100; i++) {
        len += (size_t)snprintf(text + len, sizeof(text) - len, "k%d=v\n", i);
    }
    for (int level = 1; level <= 4; level++) {
        len += (size_t)snprintf(text + len, sizeof(text) - len, "[t%d](!", level);
        for (int i = 0; i < 15; i++) {
            len += (size_t)snprintf(text + len, sizeof(text) - len, ",t%d", level - 1);
        }
        len += (size_t)snprintf(text + len, sizeof(text) - len, ")\n");
    }
    assert_true(len < sizeof(text));
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct asterisk_conf *conf = NULL;
    assert_int_equal(asterisk_conf_parse("blowup.conf", sv_make(text, len), 0, &conf, &diag),
                     -SW_ECONFIG);
    assert_true(conf->total_entries <= ASTERISK_CONF_MAX_ENTRIES);
    assert_true(diag_has(&diag, "more than the limit of 200000 entries", 104));
    asterisk_conf_free(conf);
    sw_diag_fini(&diag);
}

static int load(const char *path, struct asterisk_conf **conf, struct sw_diag *diag)
{
    sw_diag_init(diag);
    return asterisk_conf_load(path, 0, conf, diag);
}

static void test_conf_includes(void **state)
{
    (void)state;
    char dir[300];
    (void)snprintf(dir, sizeof(dir), "%s/sub", tmp_dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    (void)snprintf(dir, sizeof(dir), "%s/conf.d", tmp_dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    WRITE("sub/extra.conf", "bindport=5060\n#include \"more.conf\"\n");
    WRITE("sub/more.conf", "tlsenable=yes\n");
    WRITE("conf.d/b.conf", "[b]\nx=2\n");
    WRITE("conf.d/a.conf", "[a]\nx=1\n");
    const char *top = WRITE("main.conf", "[general]\n"
                                         "#include \"sub/extra.conf\"\n"
                                         "#tryinclude \"nothere.conf\"\n"
                                         "#tryinclude \"nothere.d/*.conf\"\n"
                                         "#include <conf.d/*.conf>\n"
                                         "[after]\n"
                                         "y=1\n");
    struct sw_diag diag;
    struct asterisk_conf *conf = NULL;
    assert_int_equal(load(top, &conf, &diag), 0);
    assert_int_equal(diag.count, 0);
    assert_int_equal(conf->section_count, 4);
    const struct asterisk_conf_section *general = nth_section(conf, 0);
    assert_value(general, "bindport", "5060", 1);
    assert_non_null(
        strstr(asterisk_conf_section_get(general, SV("bindport"))->file, "sub/extra.conf"));
    assert_value(general, "tlsenable", "yes", 1);
    assert_true(sv_eq(nth_section(conf, 1)->name, SV("a"))); /* glob results are sorted */
    assert_true(sv_eq(nth_section(conf, 2)->name, SV("b")));
    assert_value(nth_section(conf, 3), "y", "1", 7);
    asterisk_conf_free(conf);
    sw_diag_fini(&diag);
}

static void test_conf_include_errors(void **state)
{
    (void)state;
    struct sw_diag diag;
    struct asterisk_conf *conf = NULL;

    WRITE("loop_b.conf", "\n#include \"loop_a.conf\"\n");
    const char *top = WRITE("loop_a.conf", "[a]\n#include \"loop_b.conf\"\n");
    assert_int_equal(load(top, &conf, &diag), -SW_ECONFIG);
    assert_true(diag_has(&diag, "include loop", 2));
    assert_non_null(strstr(diag.entries[0].file, "loop_b.conf"));
    asterisk_conf_free(conf);
    sw_diag_fini(&diag);

    top = WRITE("missing.conf", "[a]\n\n#include \"gone.conf\"\n");
    assert_int_equal(load(top, &conf, &diag), -SW_ECONFIG);
    assert_true(diag_has(&diag, "cannot open", 3));
    asterisk_conf_free(conf);
    sw_diag_fini(&diag);

    /* d0 includes d1 ... includes d9: deeper than the limit of 8. */
    for (int i = 0; i < 10; i++) {
        char name[32];
        char text[64];
        (void)snprintf(name, sizeof(name), "d%d.conf", i);
        int len = snprintf(text, sizeof(text), "[s%d]\n#include \"d%d.conf\"\n", i, i + 1);
        (void)write_file(name, text, (size_t)len);
    }
    char path[300];
    (void)snprintf(path, sizeof(path), "%s/d0.conf", tmp_dir);
    assert_int_equal(load(path, &conf, &diag), -SW_ECONFIG);
    assert_true(diag_has(&diag, "nested deeper than 8", 2));
    asterisk_conf_free(conf);
    sw_diag_fini(&diag);

    (void)snprintf(path, sizeof(path), "%s/nonexistent.conf", tmp_dir);
    assert_int_equal(load(path, &conf, &diag), -ENOENT);
    assert_null(conf);
    assert_true(diag_has(&diag, "cannot open", 0));
    sw_diag_fini(&diag);

    assert_int_equal(load(tmp_dir, &conf, &diag), -EISDIR);
    assert_null(conf);
    sw_diag_fini(&diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conf_templates_and_comments),
        cmocka_unit_test(test_conf_reports_bad_lines),
        cmocka_unit_test(test_conf_rejects_binary),
        cmocka_unit_test(test_conf_bounds_template_blowup),
        cmocka_unit_test(test_conf_includes),
        cmocka_unit_test(test_conf_include_errors),
    };
    return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
