/*
 * The country of an address, from a MaxMind-format database (GeoLite2-Country, DB-IP
 * country lite, or a City database: any whose records hold country.iso_code), for the
 * new-country alert rule (obs/alert.h). Read with libmaxminddb; the file is mapped into
 * memory at open, so a lookup is a walk of at most 128 tree nodes and never waits for
 * anything but a page of the mapping. Nothing is cached.
 *
 * Threads: open and free from one thread; lookups from any thread (the mapping is
 * read-only), but the gateway makes them on the alert thread only, never on a worker.
 */
#ifndef SW_OBS_GEOIP_H
#define SW_OBS_GEOIP_H

#include <stddef.h>

#include "base/addr.h"

/* Room for a country: an ISO 3166 code, or "unknown", and the NUL. */
#define GEOIP_COUNTRY_CAP 8

struct cfg;
struct geoip;
struct sw_diag;

/*
 * Opens the database at `path` and checks that it can be searched (its metadata, and one
 * lookup through its tree). Returns 0, -ENOMEM, or -SW_EIO with a reason (the file
 * missing, not a MaxMind database, corrupt) in `error`.
 */
int geoip_open(const char *path, struct geoip **out, char *error, size_t cap);

/*
 * Opens the database of `cfg`'s [alerts] geoip_db into *out, or sets *out to NULL when
 * the key is unset. Returns 0, or the error of geoip_open with a diag entry at the key's
 * line (file:line: geoip_db: reason). For the start, a reload and check-config alike.
 */
int geoip_open_configured(const struct cfg *cfg, struct geoip **out, struct sw_diag *diag);

/* Unmaps and frees; NULL is a no-op. */
void geoip_free(struct geoip *geo);

/*
 * Writes the ISO code of the country of `ip` ("DE") into `out`, or "unknown" when the
 * database does not know the address, has no country for it, or cannot be read there.
 */
void geoip_country(const struct geoip *geo, const struct sw_ip *ip, char out[GEOIP_COUNTRY_CAP]);

#endif
