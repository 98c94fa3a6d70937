sw_add_fuzz_target(sdp LINK sw_sip)
