sw_add_fuzz_target(bencode LINK sw_call)
