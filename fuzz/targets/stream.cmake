sw_add_fuzz_target(stream LINK sw_net)
if(SW_FUZZ AND TARGET sw_net)
    target_compile_options(sw_net PRIVATE -fsanitize=fuzzer-no-link)
endif()
