#include "obs/geoip.h"

#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/diag.h"
#include "base/err.h"
#include "config/config.h"

struct geoip {
    MMDB_s db;
};

static const char unknown[] = "unknown";

/* Copies a two-letter code of `data` into `out`; false when it is not one. */
static bool take_code(const MMDB_entry_data_s *data, char out[GEOIP_COUNTRY_CAP])
{
    if (!data->has_data || data->type != MMDB_DATA_TYPE_UTF8_STRING || data->data_size != 2) {
        return false;
    }
    for (size_t i = 0; i < 2; i++) {
        char c = data->utf8_string[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
            return false; /* a code reaches alerts and logs: letters only */
        }
        out[i] = c;
    }
    out[2] = '\0';
    return true;
}

/* Looks `ip` up; returns an MMDB status (MMDB_SUCCESS, found or not) and the code. */
static int lookup(const struct geoip *geo, const struct sw_ip *ip, char out[GEOIP_COUNTRY_CAP])
{
    struct sockaddr_storage ss;
    sw_ip_to_sockaddr(ip, &ss); /* IPv4 as AF_INET: where an IPv6 database keeps it */
    int mmdb_error = MMDB_SUCCESS;
    MMDB_lookup_result_s result =
        MMDB_lookup_sockaddr(&geo->db, (const struct sockaddr *)&ss, &mmdb_error);
    (void)snprintf(out, GEOIP_COUNTRY_CAP, "%s", unknown);
    if (mmdb_error != MMDB_SUCCESS || !result.found_entry) {
        return mmdb_error;
    }
    /* A casting database leaves country out for anonymous proxies and satellites: the
     * registered country is the next best answer. */
    MMDB_entry_data_s data;
    int rc = MMDB_get_value(&result.entry, &data, "country", "iso_code", NULL);
    if (rc == MMDB_SUCCESS && take_code(&data, out)) {
        return MMDB_SUCCESS;
    }
    rc = MMDB_get_value(&result.entry, &data, "registered_country", "iso_code", NULL);
    if (rc == MMDB_SUCCESS && take_code(&data, out)) {
        return MMDB_SUCCESS;
    }
    return rc == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ? MMDB_SUCCESS : rc;
}

int geoip_open(const char *path, struct geoip **out, char *error, size_t cap)
{
    struct geoip *geo = sw_calloc(1, sizeof(*geo));
    if (geo == NULL) {
        return -ENOMEM;
    }
    int rc = MMDB_open(path, MMDB_MODE_MMAP, &geo->db);
    if (rc != MMDB_SUCCESS) {
        bool is_io = rc == MMDB_IO_ERROR || rc == MMDB_FILE_OPEN_ERROR;
        (void)snprintf(error, cap, "%s: %s%s%s", path, MMDB_strerror(rc), is_io ? ": " : "",
                       is_io ? strerror(errno) : ""); /* NOLINT(concurrency-mt-unsafe) */
        sw_free(geo);
        return rc == MMDB_OUT_OF_MEMORY_ERROR ? -ENOMEM : -SW_EIO;
    }
    /* The metadata can be right and the tree broken: walk it once now rather than
     * learn it from the first alert. */
    struct sw_ip probe;
    char country[GEOIP_COUNTRY_CAP];
    if (!sw_ip_parse(SV("192.0.2.1"), &probe) || (rc = lookup(geo, &probe, country)) != 0) {
        (void)snprintf(error, cap, "%s: %s", path, MMDB_strerror(rc));
        geoip_free(geo);
        return -SW_EIO;
    }
    *out = geo;
    return 0;
}

int geoip_open_configured(const struct cfg *cfg, struct geoip **out, struct sw_diag *diag)
{
    *out = NULL;
    if (cfg->alerts.geoip_db == NULL) {
        return 0;
    }
    char error[512];
    int rc = geoip_open(cfg->alerts.geoip_db, out, error, sizeof(error));
    if (rc != 0) {
        sw_diag_add(diag, DIAG_ERROR, cfg->source, cfg_key_line(cfg, "alerts", "geoip_db"),
                    "geoip_db", "%s", rc == -ENOMEM ? sw_strerror(rc) : error);
    }
    return rc;
}

void geoip_free(struct geoip *geo)
{
    if (geo == NULL) {
        return;
    }
    MMDB_close(&geo->db);
    sw_free(geo);
}

void geoip_country(const struct geoip *geo, const struct sw_ip *ip, char out[GEOIP_COUNTRY_CAP])
{
    (void)lookup(geo, ip, out); /* an error leaves "unknown": never an error to the rule */
}
