sw_add_fuzz_target(tzif LINK sw_number)
