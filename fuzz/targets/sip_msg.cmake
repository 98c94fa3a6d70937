sw_add_fuzz_target(sip_msg LINK sw_sip)
