#include "tools/audit_files.h"

#include <errno.h>
#include <limits.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/err.h"

#define SECONDS_PER_DAY 86400

/* `path` resolved against the folder of the configuration file `where->file`. */
static bool resolve(const struct audit_where *where, struct sv path, char *out, size_t cap)
{
    if (path.len == 0) {
        return false;
    }
    /* Asterisk resolves against its configuration folder, sipwarden against its cwd. */
    const char *slash =
        where->file == NULL || where->is_cwd_relative ? NULL : strrchr(where->file, '/');
    int dir_len = path.ptr[0] == '/' || slash == NULL ? 0 : (int)(slash - where->file) + 1;
    int n = snprintf(out, cap, "%.*s" SV_FMT, dir_len, where->file == NULL ? "" : where->file,
                     SV_ARG(path));
    return n > 0 && (size_t)n < cap;
}

static void check_key_path(struct audit_report *report, const struct audit_where *where,
                           const char *path)
{
    struct stat st;
    if (stat(path, &st) == -1) {
        audit_report_add(report, where, AUDIT_WARN, "files.private-key", NULL,
                         "cannot examine private key '%s': %s", path, sw_strerror(-errno));
        return;
    }
    if ((st.st_mode & 077) != 0) {
        char fix[PATH_MAX + 32];
        (void)snprintf(fix, sizeof(fix), "chmod 600 '%s'", path);
        audit_report_add(report, where, AUDIT_FAIL, "files.private-key", fix,
                         "private key '%s' has mode %04o: readable or writable by %s", path,
                         (unsigned)(st.st_mode & 07777),
                         (st.st_mode & 070) != 0 && (st.st_mode & 07) != 0 ? "group and others"
                         : (st.st_mode & 070) != 0                         ? "its group"
                                                                           : "all users");
        return;
    }
    audit_report_add(report, where, AUDIT_PASS, "files.private-key", NULL,
                     "private key '%s' has mode %04o", path, (unsigned)(st.st_mode & 07777));
}

void audit_files_check_key(struct audit_report *report, const struct audit_where *where,
                           struct sv path)
{
    char resolved[PATH_MAX];
    if (!resolve(where, path, resolved, sizeof(resolved))) {
        audit_report_add(report, where, AUDIT_WARN, "files.private-key", NULL,
                         "private key path is empty or too long");
        return;
    }
    check_key_path(report, where, resolved);
}

/* True when the PEM file holds a private key block (the same file as the certificate). */
static bool has_private_key(FILE *f)
{
    char line[256];
    rewind(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "-----BEGIN ", 11) == 0 && strstr(line, "PRIVATE KEY-----") != NULL) {
            return true;
        }
    }
    return false;
}

static void judge_expiry(struct audit_report *report, const struct audit_where *where,
                         const char *path, const X509 *cert)
{
    const ASN1_TIME *not_after = X509_get0_notAfter(cert);
    struct tm tm;
    if (not_after == NULL || ASN1_TIME_to_tm(not_after, &tm) != 1) {
        audit_report_add(report, where, AUDIT_WARN, "files.certificate", NULL,
                         "certificate '%s' has an unreadable expiry date", path);
        return;
    }
    char date[32];
    (void)strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm);
    int64_t expiry = (int64_t)timegm(&tm);
    int64_t left_s = expiry - report->now;
    char fix[PATH_MAX + 64];
    (void)snprintf(fix, sizeof(fix), "renew the certificate in '%s' and reload", path);
    if (left_s <= 0) {
        audit_report_add(report, where, AUDIT_FAIL, "files.certificate", fix,
                         "certificate '%s' expired on %s", path, date);
    } else if (left_s < (int64_t)AUDIT_CERT_WARN_DAYS * SECONDS_PER_DAY) {
        audit_report_add(report, where, AUDIT_WARN, "files.certificate", fix,
                         "certificate '%s' expires on %s, in %lld days", path, date,
                         (long long)(left_s / SECONDS_PER_DAY));
    } else {
        audit_report_add(report, where, AUDIT_PASS, "files.certificate", NULL,
                         "certificate '%s' valid until %s", path, date);
    }
}

void audit_files_check_certificate(struct audit_report *report, const struct audit_where *where,
                                   struct sv path)
{
    char resolved[PATH_MAX];
    if (!resolve(where, path, resolved, sizeof(resolved))) {
        audit_report_add(report, where, AUDIT_WARN, "files.certificate", NULL,
                         "certificate path is empty or too long");
        return;
    }
    FILE *f = fopen(resolved, "re");
    if (f == NULL) {
        audit_report_add(report, where, AUDIT_WARN, "files.certificate", NULL,
                         "cannot read certificate '%s': %s", resolved, sw_strerror(-errno));
        return;
    }
    X509 *cert = PEM_read_X509(f, NULL, NULL, NULL);
    if (cert == NULL) {
        audit_report_add(report, where, AUDIT_WARN, "files.certificate", NULL,
                         "'%s' holds no PEM certificate", resolved);
    } else {
        judge_expiry(report, where, resolved, cert);
        X509_free(cert);
    }
    bool is_combined = has_private_key(f);
    (void)fclose(f); /* read-only */
    if (is_combined) {
        check_key_path(report, where, resolved);
    }
}
