sw_add_fuzz_target(tnauth LINK sw_stir)
