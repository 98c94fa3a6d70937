sw_add_fuzz_target(sip_msg LINK sw_sip)
# libFuzzer needs coverage feedback from the parser itself, not only from the harness:
# instrument the library that holds it (the harness gets -fsanitize=fuzzer already).
if(SW_FUZZ AND TARGET sw_sip)
    target_compile_options(sw_sip PRIVATE -fsanitize=fuzzer-no-link)
endif()
