/*
 * Private to src/gateway: the live dashboard's files (dashboard/dashboard.{html,js,css},
 * embedded at build time by cmake/embed.cmake), which the admin server sends at
 * /dashboard, /dashboard.js and /dashboard.css (docs/dashboard.md). Each function returns
 * the file's bytes (static, followed by a NUL that `len` does not count). Any thread.
 */
#ifndef SW_GATEWAY_GATEWAY_DASHBOARD_H
#define SW_GATEWAY_GATEWAY_DASHBOARD_H

#include <stddef.h>

const unsigned char *gw_dashboard_html(size_t *len);
const unsigned char *gw_dashboard_js(size_t *len);
const unsigned char *gw_dashboard_css(size_t *len);

#endif
