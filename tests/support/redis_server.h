/*
 * A redis-server for unit tests: started on a free loopback port in a temporary
 * directory, without persistence, stopped by its PID. One per test process.
 */
#ifndef SW_TESTS_SUPPORT_REDIS_SERVER_H
#define SW_TESTS_SUPPORT_REDIS_SERVER_H

#include <stdbool.h>

/* True when redis-server is installed (tests skip otherwise). */
bool redis_server_is_installed(void);

/* cmocka setup and teardown: a fresh directory and port, the server started / stopped. */
int redis_server_setup(void **state);
int redis_server_teardown(void **state);

/* (Re)starts the server on the same port and directory; true once it answers PING. */
bool redis_server_start(void);

/* Stops the server (SIGTERM, waited for). */
void redis_server_stop(void);

/* Its port. */
int redis_server_port(void);

#endif
