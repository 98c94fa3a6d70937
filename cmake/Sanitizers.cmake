# SW_SANITIZE=address,undefined or SW_SANITIZE=thread (STYLE.md §13).
if(SW_SANITIZE)
    add_compile_options(-fsanitize=${SW_SANITIZE} -fno-omit-frame-pointer
                        -fno-sanitize-recover=all)
    add_link_options(-fsanitize=${SW_SANITIZE})
endif()
# libFuzzer needs coverage in the libraries under test, not only in the harness.
if(SW_FUZZ)
    add_compile_options(-fsanitize=fuzzer-no-link)
endif()
set(SW_TEST_ENV
    "ASAN_OPTIONS=abort_on_error=1:detect_leaks=1"
    "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
    "TSAN_OPTIONS=halt_on_error=1"
    "SW_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
    "SW_TESTDATA=${CMAKE_SOURCE_DIR}/tests/data")
