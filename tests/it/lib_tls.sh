# A TLS trunk for the tests whose peers speak TCP only (sourced after lib.sh): Debian's sipp
# has no TLS, so each sipp talks TCP to a relay (it_start_tls_relay, lib.sh) and the
# gateway sees real TLS.

# it_tls_trunk: the test CA and certificates (certs/), a gateway on TLS between a PBX
# (127.0.0.1) and a provider trunk (127.0.0.2) also on TLS, both with srtp = optional
# (sipp offers plain RTP), the four relays that let sipp reach them, and gw.conf. Sets
# gw_port, pbx_tcp and prov_tcp (where the sipp callees listen) and pbx_in and prov_in
# (where the sipp callers send).
it_tls_trunk() {
    bash "$IT_DIR/../tools/make_certs.sh" certs
    gw_port=$(it_free_port)
    local pbx_tls prov_tls
    pbx_tls=$(it_free_port)
    pbx_tcp=$(it_free_port)
    prov_tls=$(it_free_port)
    prov_tcp=$(it_free_port)
    pbx_in=$(it_free_port)
    prov_in=$(it_free_port)
    it_start_tls_relay server 127.0.0.1 "$pbx_tls" certs/127.0.0.1.pem certs/127.0.0.1.key 127.0.0.1 "$pbx_tcp"
    it_start_tls_relay server 127.0.0.2 "$prov_tls" certs/127.0.0.2.pem certs/127.0.0.2.key 127.0.0.2 "$prov_tcp"
    it_start_tls_relay client 127.0.0.2 "$prov_in" certs/ca.pem 127.0.0.1 "$gw_port" 127.0.0.2
    it_start_tls_relay client 127.0.0.1 "$pbx_in" certs/ca.pem 127.0.0.1 "$gw_port" 127.0.0.1
    cat > gw.conf <<CONF
[general]
listen = tls:127.0.0.1:$gw_port
workers = 2
[tls]
certificate = certs/127.0.0.1.pem
private_key = certs/127.0.0.1.key
ca_file = certs/ca.pem
[pbx]
address = tls:127.0.0.1:$pbx_tls
srtp = optional
[provider]
type = trunk
max_call_rate = 1000
max_calls = 1000
provider = tls:127.0.0.2:$prov_tls
permit = 127.0.0.2/32
owned_numbers = +15551230000-+15551230099
default_number = +15551230000
srtp = optional
CONF
}
