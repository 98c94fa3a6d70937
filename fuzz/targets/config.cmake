sw_add_fuzz_target(config LINK sw_config)
# Coverage feedback from the loader itself, not only from the harness.
if(SW_FUZZ AND TARGET sw_config)
    target_compile_options(sw_config PRIVATE -fsanitize=fuzzer-no-link)
endif()
