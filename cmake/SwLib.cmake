# sw_library(<layer> [LINK ...] [DEFINITIONS ...]): the static library sw_<layer> built from
# every src/<layer>/*.c, so that adding a module never touches a CMakeLists.txt.
function(sw_library layer)
    cmake_parse_arguments(ARG "" "" "LINK;DEFINITIONS" ${ARGN})
    file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.c)
    if(NOT sources)
        return()
    endif()
    add_library(sw_${layer} STATIC ${sources})
    target_include_directories(sw_${layer} PUBLIC ${CMAKE_SOURCE_DIR}/src)
    set(link)
    foreach(dep IN LISTS ARG_LINK)
        if(dep MATCHES "^sw_" AND NOT TARGET ${dep})
            continue()
        endif()
        list(APPEND link ${dep})
    endforeach()
    if(link)
        target_link_libraries(sw_${layer} PUBLIC ${link})
    endif()
    if(ARG_DEFINITIONS)
        target_compile_definitions(sw_${layer} PRIVATE ${ARG_DEFINITIONS})
    endif()
endfunction()

# sw_bpf_object(<layer> <name> <header> <function> [DEPENDS ...]): compiles
# src/<layer>/bpf/<name>.bpf.c for the BPF target with clang (whatever compiles the rest)
# and embeds the object in sw_<layer> as bytes returned by <function>() (declared in
# <header>), so the binary needs no file beside it.
function(sw_bpf_object layer name header function)
    cmake_parse_arguments(ARG "" "" "DEPENDS" ${ARGN})
    set(src ${CMAKE_CURRENT_SOURCE_DIR}/bpf/${name}.bpf.c)
    set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.bpf.o)
    set(obj_c ${CMAKE_CURRENT_BINARY_DIR}/${name}_bpf_object.c)
    add_custom_command(OUTPUT ${obj}
        COMMAND ${SW_BPF_CLANG} -target bpf -O2 -g -Wall -Wextra -Werror
                -I${CMAKE_SOURCE_DIR}/src -I/usr/include/${CMAKE_LIBRARY_ARCHITECTURE}
                -c ${src} -o ${obj}
        DEPENDS ${src} ${ARG_DEPENDS}
        COMMENT "Compiling the BPF program ${name}"
        VERBATIM)
    add_custom_command(OUTPUT ${obj_c}
        COMMAND ${CMAKE_COMMAND} -DINPUT=${obj} -DOUTPUT=${obj_c}
                -DHEADER=${header} -DFUNCTION=${function} -DBINARY=ON
                -P ${CMAKE_SOURCE_DIR}/cmake/embed.cmake
        DEPENDS ${obj} ${CMAKE_SOURCE_DIR}/cmake/embed.cmake
        COMMENT "Embedding the BPF program ${name}"
        VERBATIM)
    target_sources(sw_${layer} PRIVATE ${obj_c})
endfunction()
