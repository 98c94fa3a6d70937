# sw_library(<layer> SOURCES ... [LINK ...]): the static library sw_<layer> of src/<layer>.
function(sw_library layer)
    cmake_parse_arguments(ARG "" "" "SOURCES;LINK" ${ARGN})
    add_library(sw_${layer} STATIC ${ARG_SOURCES})
    target_include_directories(sw_${layer} PUBLIC ${CMAKE_SOURCE_DIR}/src)
    if(ARG_LINK)
        target_link_libraries(sw_${layer} PUBLIC ${ARG_LINK})
    endif()
endfunction()
