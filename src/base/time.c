#include "base/time.h"

#include <time.h>

static uint64_t clock_us(clockid_t id)
{
    struct timespec ts;
    /* clock_gettime cannot fail for these clock ids. */
    (void)clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t sw_mono_ms(void)
{
    return clock_us(CLOCK_MONOTONIC) / 1000u;
}

uint64_t sw_mono_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

uint64_t sw_wall_us(void)
{
    return clock_us(CLOCK_REALTIME);
}

int64_t sw_wall_s(void)
{
    return (int64_t)(clock_us(CLOCK_REALTIME) / 1000000u);
}

int64_t sw_wall_minus_mono_ms(void)
{
    return (int64_t)(sw_wall_us() / 1000u) - (int64_t)sw_mono_ms();
}
