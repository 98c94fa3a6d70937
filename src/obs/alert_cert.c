#include "obs/alert_cert.h"

#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>

#include "base/err.h"
#include "stir/cert.h"

#define DAY_S 86400

int alert_cert_days_left(const char *path, int64_t now_s, int64_t *days)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return -errno;
    }
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    (void)fclose(f); /* read-only */
    int64_t not_after = 0;
    bool is_ok = cert != NULL && stir_cert_time_to_epoch(X509_get0_notAfter(cert), &not_after);
    X509_free(cert);
    if (!is_ok) {
        return -SW_ECRYPTO;
    }
    int64_t left = not_after - now_s;
    *days = left >= 0 ? left / DAY_S : -((-left + DAY_S - 1) / DAY_S);
    return 0;
}
