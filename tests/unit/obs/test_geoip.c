#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/err.h"
#include "config/config.h"
#include "obs/geoip.h"
#include "support/mmdb.h"
#include "support/unit.h"

static char dir[64];
static char db_path[128];

static int setup(void **state)
{
    (void)state;
    (void)snprintf(dir, sizeof(dir), "/tmp/sw-geoip-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    (void)snprintf(db_path, sizeof(db_path), "%s/country.mmdb", dir);
    static const char *const networks[] = { "127.0.0.0/28=DE",  "127.0.0.16/28=NG",
                                            "127.0.0.20/32=FR", "2001:db8::/32=JP",
                                            "192.0.2.0/24=US",  NULL };
    return mmdb_test_write(db_path, networks);
}

static int teardown(void **state)
{
    (void)state;
    (void)unlink(db_path);
    (void)rmdir(dir);
    return 0;
}

static void country_is(const struct geoip *geo, const char *address, const char *expected)
{
    struct sw_ip ip;
    assert_true(sw_ip_parse(sv_from_cstr(address), &ip));
    char country[GEOIP_COUNTRY_CAP];
    geoip_country(geo, &ip, country);
    assert_string_equal(country, expected);
}

static void test_geoip_countries(void **state)
{
    (void)state;
    struct geoip *geo = NULL;
    char error[256] = "";
    assert_int_equal(geoip_open(db_path, &geo, error, sizeof(error)), 0);
    static const char *const cases[][2] = {
        { "127.0.0.1", "DE" },       { "127.0.0.15", "DE" },  { "127.0.0.16", "NG" },
        { "127.0.0.21", "NG" },      { "127.0.0.20", "FR" }, /* the longest prefix */
        { "127.0.0.32", "unknown" },                         /* outside every network */
        { "10.1.2.3", "unknown" },   { "2001:db8::5", "JP" }, { "2001:db9::5", "unknown" },
        { "::1", "unknown" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        country_is(geo, cases[i][0], cases[i][1]);
    }
    geoip_free(geo);
    geoip_free(NULL);
}

static void test_geoip_missing_file(void **state)
{
    (void)state;
    char path[160];
    (void)snprintf(path, sizeof(path), "%s/absent.mmdb", dir);
    struct geoip *geo = NULL;
    char error[256] = "";
    assert_int_equal(geoip_open(path, &geo, error, sizeof(error)), -SW_EIO);
    assert_null(geo);
    assert_non_null(strstr(error, path));
}

static void write_file(const char *path, const unsigned char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Not a MaxMind database at all, and a real one whose search tree was overwritten: both
 * refused at open, with the file named. */
static void test_geoip_corrupt_file(void **state)
{
    (void)state;
    char path[160];
    (void)snprintf(path, sizeof(path), "%s/corrupt.mmdb", dir);
    static const unsigned char text[] = "this is not a database\n";
    write_file(path, text, sizeof(text) - 1);
    struct geoip *geo = NULL;
    char error[256] = "";
    assert_int_equal(geoip_open(path, &geo, error, sizeof(error)), -SW_EIO);
    assert_non_null(strstr(error, path));

    size_t len = 0;
    FILE *f = fopen(db_path, "rb");
    assert_non_null(f);
    static unsigned char image[65536];
    len = fread(image, 1, sizeof(image), f);
    assert_int_equal(fclose(f), 0);
    assert_true(len > 64 && len < sizeof(image));
    memset(image, 0xff, 48); /* the first nodes point far past the data section */
    write_file(path, image, len);
    error[0] = '\0';
    assert_int_equal(geoip_open(path, &geo, error, sizeof(error)), -SW_EIO);
    assert_null(geo);
    assert_non_null(strstr(error, path));
    (void)unlink(path);
}

/* [alerts] geoip_db: unset = no database; a bad file = an error at the key's line. */
static void test_geoip_open_configured(void **state)
{
    (void)state;
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = cfg_load_string("plain.conf", "[general]\nworkers = 1\n", &diag);
    assert_non_null(cfg);
    struct geoip *geo = (struct geoip *)&diag; /* overwritten */
    assert_int_equal(geoip_open_configured(cfg, &geo, &diag), 0);
    assert_null(geo);
    cfg_free(cfg);

    char text[512];
    (void)snprintf(text, sizeof(text),
                   "[general]\nworkers = 1\n[alerts]\ngeoip_db = %s/none.mmdb\n", dir);
    cfg = cfg_load_string("geo.conf", text, &diag);
    assert_non_null(cfg);
    assert_int_equal(geoip_open_configured(cfg, &geo, &diag), -SW_EIO);
    assert_null(geo);
    assert_int_equal(diag.error_count, 1);
    assert_int_equal(diag.entries[0].line, 4);
    assert_string_equal(diag.entries[0].key, "geoip_db");
    assert_non_null(strstr(diag.entries[0].message, "none.mmdb"));
    cfg_free(cfg);
    sw_diag_fini(&diag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geoip_countries),
        cmocka_unit_test(test_geoip_missing_file),
        cmocka_unit_test(test_geoip_corrupt_file),
        cmocka_unit_test(test_geoip_open_configured),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
