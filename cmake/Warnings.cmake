# Warning set of STYLE.md §13, applied to every target we compile.
set(SW_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wformat=2
    -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wimplicit-fallthrough -Wcast-qual
    -Wwrite-strings -Wundef)
add_compile_options(${SW_WARNINGS})
if(SW_WERROR)
    add_compile_options(-Werror)
endif()

if(CMAKE_BUILD_TYPE STREQUAL "Release" OR CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo")
    if(NOT SW_SANITIZE AND NOT SW_FUZZ)
        add_compile_options(-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong)
        set(CMAKE_POSITION_INDEPENDENT_CODE ON)
        add_link_options(-pie -Wl,-z,relro,-z,now)
    endif()
endif()

# Strict C17 hides POSIX; ask for POSIX.1-2008 plus the BSD/SVID bits (MAP_ANONYMOUS,
# getrandom). _GNU_SOURCE is added only on the targets that need it (recvmmsg).
add_compile_definitions(_DEFAULT_SOURCE)
