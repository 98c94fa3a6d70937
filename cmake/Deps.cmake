# Every dependency is a Debian package listed in DESIGN.md; scripts/deps.sh installs them.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(OPENSSL REQUIRED IMPORTED_TARGET openssl>=3.0)
pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)
pkg_check_modules(JANSSON REQUIRED IMPORTED_TARGET jansson)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(CURL REQUIRED IMPORTED_TARGET libcurl)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
# [alerts] geoip_db: the country of a source address, from a MaxMind-format database.
pkg_check_modules(MAXMINDDB REQUIRED IMPORTED_TARGET libmaxminddb)
pkg_check_modules(CMOCKA IMPORTED_TARGET cmocka)
find_library(ZXCVBN_LIB NAMES zxcvbn REQUIRED)
find_path(ZXCVBN_INCLUDE NAMES zxcvbn.h REQUIRED)
add_library(sw_dep_zxcvbn INTERFACE)
target_link_libraries(sw_dep_zxcvbn INTERFACE ${ZXCVBN_LIB} m)
target_include_directories(sw_dep_zxcvbn SYSTEM INTERFACE ${ZXCVBN_INCLUDE})
# The workers' io_uring (net/uring.h): one system call per wake-up waits and receives.
pkg_check_modules(LIBURING REQUIRED IMPORTED_TARGET liburing)
# [ban] kernel_drop: libbpf loads the socket filter, clang compiles it for the BPF target.
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf)
find_program(SW_BPF_CLANG NAMES clang clang-14 REQUIRED)
