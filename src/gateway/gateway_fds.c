/*
 * Descriptors and connection limits (#9 item 10): under a 1,024-descriptor soft limit,
 * 1,010 silent connections from one address used every descriptor, and the TCP/TLS
 * listeners, the connections to the PBX and the admin server all failed with EMFILE.
 * So the soft limit is raised to the hard limit at start, and the connection tables are
 * sized to what that limit leaves after a reserve, so that they fill before the process
 * runs out of descriptors.
 */
#include <stdint.h>
#include <sys/resource.h>

#include "base/addr.h"
#include "base/log.h"
#include "config/config.h"
#include "gateway/gateway_int.h"
#include "net/worker.h"
#include "policy/classify.h"

/* Files, logs, the ban database and its WAL/SHM, Redis, the control socket and its
   clients, the pid file, the event threads' descriptors, curl and spare. */
#define FDS_RESERVE_FIXED      192
/* Per worker: epoll, its wake-up descriptor, a UDP socket and a TCP/TLS listener per
   listen address, a Redis connection. */
#define FDS_RESERVE_PER_WORKER 8
/* The cap of the soft limit we ask for: tables stay a sane size under "unlimited". */
#define FDS_MAX                ((rlim_t)1 << 20)

static rlim_t raise_nofile(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == -1) {
        return 1024; /* cannot happen on Linux; assume the usual default */
    }
    rlim_t before = lim.rlim_cur;
    rlim_t want = lim.rlim_max < FDS_MAX ? lim.rlim_max : FDS_MAX;
    if (want > lim.rlim_cur) {
        lim.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &lim) == -1) {
            log_warn(NULL, "sipwarden: cannot raise the descriptor limit to %llu",
                     (unsigned long long)want);
            return before;
        }
        log_info(NULL, "sipwarden: descriptor limit raised from %llu to %llu",
                 (unsigned long long)before, (unsigned long long)want);
    }
    return lim.rlim_cur;
}

size_t gw_fds_connection_budget(const struct cfg *cfg)
{
    rlim_t nofile = raise_nofile();
    size_t workers = net_worker_count(cfg->general.workers);
    size_t listeners = cfg->general.listen.count;
    size_t reserve = FDS_RESERVE_FIXED + GW_ADMIN_MAX_CONNECTIONS + 1 +
                     workers * (FDS_RESERVE_PER_WORKER + 2 * listeners);
    size_t budget = nofile > reserve ? (size_t)(nofile - reserve) : 0;
    size_t wanted = cfg->general.max_connections;
    if (wanted != 0 && wanted > budget) {
        log_warn(NULL,
                 "sipwarden: max_connections %zu lowered to %zu: the descriptor limit is %llu "
                 "and %zu are reserved",
                 wanted, budget, (unsigned long long)nofile, reserve);
    }
    if (wanted != 0 && wanted < budget) {
        budget = wanted;
    }
    if (budget < workers * 16) {
        log_warn(NULL,
                 "sipwarden: only %zu TCP/TLS connections fit under the descriptor limit %llu; "
                 "raise it (LimitNOFILE=)",
                 budget, (unsigned long long)nofile);
        budget = budget < workers ? workers : budget;
    }
    log_notice(NULL, "sipwarden: up to %zu TCP/TLS connections (descriptor limit %llu)", budget,
               (unsigned long long)nofile);
    return budget;
}

bool gw_source_is_known(void *app, struct worker *worker, const struct sockaddr_storage *src)
{
    struct gateway *gw = app;
    struct sw_ip ip;
    if (!sw_ip_from_sockaddr(src, &ip)) {
        return false;
    }
    unsigned reader = worker_index(worker);
    const struct gw_gen *gen = gw_gen_enter(gw, reader);
    size_t trunk = 0;
    enum side side = classify_source(gen->cfg, &ip, sw_sockaddr_port(src), &trunk);
    gw_gen_leave(gw, reader);
    return side == SIDE_PBX || side == SIDE_PROVIDER;
}
