sw_add_fuzz_target(identity LINK sw_stir)
