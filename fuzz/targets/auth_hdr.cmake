sw_add_fuzz_target(auth_hdr LINK sw_sip)
