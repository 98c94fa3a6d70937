# sw_add_unit_test(<layer>/<file> [LINK libs...] [TIMEOUT s]) builds tests/unit/<layer>/test_<file>.c
# into its own executable, registered as CTest unit.<layer>.<file> with the label "unit".
function(sw_add_unit_test spec)
    cmake_parse_arguments(ARG "" "TIMEOUT" "LINK" ${ARGN})
    string(REPLACE "/" ";" parts ${spec})
    list(GET parts 0 layer)
    list(GET parts 1 file)
    set(exe test_${layer}_${file})
    add_executable(${exe} ${CMAKE_SOURCE_DIR}/tests/unit/${layer}/test_${file}.c)
    target_link_libraries(${exe} PRIVATE sw_test_support PkgConfig::CMOCKA sw_${layer} ${ARG_LINK})
    add_test(NAME unit.${layer}.${file} COMMAND ${exe})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 60)
    endif()
    set_tests_properties(unit.${layer}.${file} PROPERTIES LABELS unit TIMEOUT ${ARG_TIMEOUT}
                         ENVIRONMENT "${SW_TEST_ENV}")
endfunction()

# sw_add_it_test(<name> [TIMEOUT s]): tests/it/<name>/run.sh with the built binary and a log folder.
function(sw_add_it_test name)
    cmake_parse_arguments(ARG "" "TIMEOUT" "" ${ARGN})
    if(NOT ARG_TIMEOUT)
        set(ARG_TIMEOUT 300)
    endif()
    add_test(NAME it.${name}
             COMMAND bash ${CMAKE_SOURCE_DIR}/tests/it/${name}/run.sh
             WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}/tests/it/${name})
    # Two integration tests may run at once (most wait on timers and peers); a test whose
    # folder holds a file SERIAL (load, rates or timing windows) runs alone.
    set(serial FALSE)
    if(EXISTS ${CMAKE_SOURCE_DIR}/tests/it/${name}/SERIAL)
        set(serial TRUE)
    endif()
    # A file VOLUME marks a test whose point is load at full speed (label "volume"): the
    # full CI run gives it the optimized build as well as the sanitized one.
    set(labels it)
    if(EXISTS ${CMAKE_SOURCE_DIR}/tests/it/${name}/VOLUME)
        list(APPEND labels volume)
    endif()
    set_tests_properties(it.${name} PROPERTIES LABELS "${labels}" TIMEOUT ${ARG_TIMEOUT} RUN_SERIAL ${serial}
        ENVIRONMENT "${SW_TEST_ENV};SIPWARDEN=$<TARGET_FILE:sipwarden>;SW_IT_LOGS=${CMAKE_BINARY_DIR}/it-logs/${name};SW_IT_LIB=${CMAKE_SOURCE_DIR}/tests/it/lib.sh")
endfunction()

# Registers every tests/unit/<layer>/test_*.c of the calling folder (see sw_add_unit_test).
function(sw_add_unit_tests_glob layer)
    cmake_parse_arguments(ARG "" "" "LINK" ${ARGN})
    if(NOT TARGET sw_${layer})
        return()
    endif()
    file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_*.c)
    foreach(t IN LISTS tests)
        get_filename_component(name ${t} NAME_WE)
        string(REGEX REPLACE "^test_" "" name ${name})
        sw_add_unit_test(${layer}/${name} LINK ${ARG_LINK})
    endforeach()
endfunction()
