/* The client side of the control socket, shared by `sipwarden ban` and `sipwarden calls`. */
#include "tools/ctl_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/diag.h"
#include "base/err.h"
#include "config/config.h"

#define CTL_CLIENT_TIMEOUT_S 5

static int connect_socket(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) {
        return -ENAMETOOLONG;
    }
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        return -errno;
    }
    struct timeval timeout = { .tv_sec = CTL_CLIENT_TIMEOUT_S, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) == -1) {
        int err = -errno;
        (void)close(fd);
        return err;
    }
    return fd;
}

int tools_ctl_exchange(const char *path, const char *request, char *reply, size_t cap)
{
    int fd = connect_socket(path);
    if (fd < 0) {
        return fd;
    }
    size_t len = strlen(request);
    if (send(fd, request, len, MSG_NOSIGNAL) != (ssize_t)len) {
        int err = -errno;
        (void)close(fd);
        return err != 0 ? err : -EIO;
    }
    (void)shutdown(fd, SHUT_WR);
    size_t got = 0;
    while (got < cap - 1) {
        ssize_t n = recv(fd, reply + got, cap - 1 - got, 0);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (size_t)n;
    }
    reply[got] = '\0';
    (void)close(fd);
    return got > 0 ? 0 : -EIO;
}

char *tools_ctl_socket_path(const char *config, const char *socket, const char *command)
{
    if (socket != NULL) {
        return sw_strdup(socket);
    }
    struct sw_diag diag;
    sw_diag_init(&diag);
    struct cfg *cfg = config != NULL ? cfg_load_file(config, &diag) : cfg_load_default(&diag);
    if (cfg == NULL) {
        sw_diag_print(&diag, stderr);
    }
    sw_diag_fini(&diag);
    char *path = NULL;
    if (cfg != NULL && cfg->general.control_socket != NULL) {
        path = sw_strdup(cfg->general.control_socket);
    } else if (cfg != NULL) {
        (void)fprintf(stderr, "sipwarden %s: [general] control_socket is off in %s\n", command,
                      cfg->source);
    }
    cfg_free(cfg);
    return path;
}

size_t tools_ctl_print_rows(const char *reply, ctl_row_fn *row, FILE *out)
{
    size_t count = 0;
    const char *line = reply;
    while (line != NULL && *line != '\0') {
        const char *nl = strchr(line, '\n');
        size_t len = nl != NULL ? (size_t)(nl - line) : strlen(line);
        char buf[512];
        if (len < sizeof(buf)) {
            memcpy(buf, line, len);
            buf[len] = '\0';
            count += row(buf, out) ? 1 : 0;
            if (strncmp(buf, "more ", 5) == 0) {
                (void)fprintf(out, "(%s not shown)\n", buf + 5);
            }
        }
        line = nl != NULL ? nl + 1 : NULL;
    }
    return count;
}

char *tools_ctl_request(const char *command, const char *path, const char *request, size_t cap,
                        bool *is_ok)
{
    *is_ok = false;
    char *reply = sw_malloc(cap);
    if (reply == NULL) {
        return NULL;
    }
    int rc = tools_ctl_exchange(path, request, reply, cap);
    if (rc != 0) {
        (void)fprintf(stderr, "sipwarden %s: %s: %s (is the daemon running?)\n", command, path,
                      sw_strerror(rc));
        sw_free(reply);
        return NULL;
    }
    const char *error = strstr(reply, "error: ");
    *is_ok = error == NULL && strstr(reply, "ok\n") != NULL;
    if (!*is_ok) {
        (void)fprintf(stderr, "sipwarden %s: %s", command, error != NULL ? error : "no answer\n");
    }
    return reply;
}
