sw_add_fuzz_target(number LINK sw_number)
# Coverage feedback from the library itself, not only from the harness.
if(SW_FUZZ AND TARGET sw_number)
    target_compile_options(sw_number PRIVATE -fsanitize=fuzzer-no-link)
endif()
