sw_add_fuzz_target(asterisk_conf LINK sw_tools)
# Coverage feedback from the reader itself, not only from the harness.
if(SW_FUZZ AND TARGET sw_tools)
    target_compile_options(sw_tools PRIVATE -fsanitize=fuzzer-no-link)
endif()
