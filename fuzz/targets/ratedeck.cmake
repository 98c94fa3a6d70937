sw_add_fuzz_target(ratedeck LINK sw_number)
