#include "stir/resolve.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"

/* Lookups started and not yet finished, whoever waits for them. */
static atomic_uint pending;

/* Shared by the waiter and the lookup thread; the last of the two to let go frees it. */
struct lookup_job {
    pthread_mutex_t lock;
    pthread_cond_t done;
    unsigned refs;
    bool is_done;
    int gai;
    struct addrinfo *result;
    struct addrinfo hints;
    stir_resolve_fn *lookup;
    char *host;
    char *service;
};

static void job_release(struct lookup_job *job)
{
    pthread_mutex_lock(&job->lock);
    bool is_last = --job->refs == 0;
    pthread_mutex_unlock(&job->lock);
    if (!is_last) {
        return;
    }
    if (job->result != NULL) {
        freeaddrinfo(job->result); /* nobody took it: the waiter gave up */
    }
    pthread_cond_destroy(&job->done);
    pthread_mutex_destroy(&job->lock);
    sw_free(job->host);
    sw_free(job->service);
    sw_free(job);
}

static void *lookup_thread(void *arg)
{
    struct lookup_job *job = arg;
    struct addrinfo *result = NULL;
    int gai = job->lookup(job->host, job->service, &job->hints, &result);
    pthread_mutex_lock(&job->lock);
    job->gai = gai;
    job->result = gai == 0 ? result : NULL;
    job->is_done = true;
    pthread_cond_signal(&job->done);
    pthread_mutex_unlock(&job->lock);
    atomic_fetch_sub(&pending, 1);
    job_release(job);
    return NULL;
}

static struct lookup_job *job_new(stir_resolve_fn *lookup, const char *host, const char *service,
                                  const struct addrinfo *hints)
{
    struct lookup_job *job = sw_calloc(1, sizeof(*job));
    if (job == NULL) {
        return NULL;
    }
    job->host = sw_strdup(host);
    job->service = sw_strdup(service);
    if (job->host == NULL || job->service == NULL) {
        sw_free(job->host);
        sw_free(job->service);
        sw_free(job);
        return NULL;
    }
    pthread_mutex_init(&job->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&job->done, &attr);
    pthread_condattr_destroy(&attr);
    job->hints = *hints;
    job->lookup = lookup != NULL ? lookup : getaddrinfo;
    job->refs = 2; /* the waiter and the lookup thread */
    return job;
}

static bool start_thread(struct lookup_job *job)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    int rc = pthread_create(&thread, &attr, lookup_thread, job);
    pthread_attr_destroy(&attr);
    return rc == 0;
}

int stir_resolve(stir_resolve_fn *lookup, const char *host, const char *service,
                 const struct addrinfo *hints, uint32_t timeout_ms, struct addrinfo **out)
{
    *out = NULL;
    if (atomic_fetch_add(&pending, 1) >= STIR_RESOLVE_MAX_PENDING) {
        atomic_fetch_sub(&pending, 1);
        return EAI_AGAIN;
    }
    struct lookup_job *job = job_new(lookup, host, service, hints);
    if (job == NULL || !start_thread(job)) {
        atomic_fetch_sub(&pending, 1);
        if (job != NULL) {
            job->refs = 1;
            job_release(job);
        }
        return EAI_MEMORY;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)(timeout_ms / 1000u);
    deadline.tv_nsec += (long)(timeout_ms % 1000u) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&job->lock);
    int wait_rc = 0;
    while (!job->is_done && wait_rc != ETIMEDOUT) {
        wait_rc = pthread_cond_timedwait(&job->done, &job->lock, &deadline);
    }
    int gai = job->is_done ? job->gai : EAI_AGAIN;
    if (job->is_done) {
        *out = job->result;
        job->result = NULL; /* the caller's now */
    }
    pthread_mutex_unlock(&job->lock);
    job_release(job);
    return gai;
}
