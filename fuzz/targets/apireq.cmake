sw_add_fuzz_target(apireq LINK sw_obs)
