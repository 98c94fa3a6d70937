/*
 * Clocks. Monotonic time drives timers and buckets; wall time goes into logs and records.
 * Thread-safe.
 */
#ifndef SW_BASE_TIME_H
#define SW_BASE_TIME_H

#include <stdint.h>

/* Milliseconds / microseconds of CLOCK_MONOTONIC. */
uint64_t sw_mono_ms(void);
uint64_t sw_mono_us(void);

/* Microseconds / seconds since the Unix epoch (CLOCK_REALTIME). */
uint64_t sw_wall_us(void);
int64_t sw_wall_s(void);

/* The wall clock minus the monotonic clock now, in ms: what turns a monotonic instant into
 * a wall-clock one that still means the same after a restart or a reboot. */
int64_t sw_wall_minus_mono_ms(void);

#endif
