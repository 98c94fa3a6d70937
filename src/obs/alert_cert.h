/*
 * Days left of a certificate, for the certificate_expiry alert rule (obs/alert.h): the
 * gateway reads its TLS and STIR certificates at start and once a day. Pure apart from
 * reading the file; any thread.
 */
#ifndef SW_OBS_ALERT_CERT_H
#define SW_OBS_ALERT_CERT_H

#include <stdint.h>

/*
 * Reads the first certificate (PEM) of `path` and sets *days to the whole days from
 * `now_s` to its notAfter (negative once expired). Returns 0, -errno, or -SW_ECRYPTO
 * when the file holds no readable certificate.
 */
int alert_cert_days_left(const char *path, int64_t now_s, int64_t *days);

#endif
