sw_add_fuzz_target(sip_uri LINK sw_sip)
