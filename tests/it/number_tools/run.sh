#!/usr/bin/env bash
# `sipwarden number` and `sipwarden ratedeck check` from the command line: normalized form,
# country, class, high-risk list, rate, refusals with their SIP code, and a deck's problems
# as FILE:LINE: reason with exit 1. No network.
source "${SW_IT_LIB:?}"

deck=$IT_DIR/deck.csv
bad=$IT_DIR/bad-deck.csv

run() { # run NAME EXPECTED_RC ARGS... : output in NAME.out / NAME.err
    local name=$1 want=$2 rc=0
    shift 2
    timeout 20 "$SIPWARDEN" "$@" >"$name.out" 2>"$name.err" || rc=$?
    [ "$rc" = "$want" ] || it_fail "$name: exit $rc, expected $want ($(cat "$name.err"))"
}
expect() { # expect NAME REGEX
    grep -qE -- "$2" "$1.out" || it_fail "$1: no line matching '$2' in: $(cat "$1.out")"
}

run national 0 number 030123456 --country DE
expect national '^number: +\+4930123456 \(dialled in national form\)$'
expect national '^country: +DE Germany \(\+49\)$'
expect national '^class: +fixed$'
expect national '^high-risk: no$'

run mobile 0 number 0049-151-23456789 --country 49 --ratedeck "$deck"
expect mobile '^number: +\+4915123456789$'
expect mobile '^class: +mobile$'
expect mobile '^rate: +0\.09 EUR/min, connect 0\.00, increments 1/1 s, prefix \+4915 Germany mobile$'

run nanp 0 number 011-1-876-523-0123 --country US --ratedeck "$deck"
expect nanp '^country: +JM Jamaica \(\+1\)$'
expect nanp '^high-risk: yes, prefix \+1876 \(Jamaica\) lists FTC-ONE-RING$'
expect nanp '^rate: +0\.35 EUR/min, connect 0\.10, increments 60/6 s'

run iprs 0 number +979123456789 --ratedeck "$deck"
expect iprs '^class: +premium-rate$'
expect iprs 'lists DERIVED-ITU-NONGEO'

run unrated 0 number +442071234567 --ratedeck "$deck"
expect unrated '^rate: +unrated'

run letters 1 number alice --country DE
expect letters '^refused: +not a number \(the gateway answers 404\)$'
run service 1 number '*21#' --country DE
expect service 'answers 404'
run long 1 number +4930123456789012
expect long '^refused: +more than 15 digits'
run nocountry 1 number 030123456
expect nocountry 'answers 484'

run usage 2 number
run usage_country 2 number 030 --country XX
run usage_deck 2 number +4930123456 --ratedeck "$bad"

run check_ok 0 ratedeck check "$deck"
expect check_ok "deck\.csv: 4 rates in EUR$"
run check_bad 1 ratedeck check "$bad"
for want in "bad-deck.csv:3: error: rate_per_minute: '-0.01': negative amount" \
            "bad-deck.csv:4: error: prefix: '4a' is not 1 to 15 digits" \
            "bad-deck.csv:5: error: rate_per_minute: '0.0000001': more than 6 decimals" \
            "bad-deck.csv:6: error: first_increment_s: '0' is not" \
            "bad-deck.csv:8: error: prefix 33 already priced on line 7"; do
    grep -qF -- "$want" check_bad.err || it_fail "check_bad: missing '$want' in: $(cat check_bad.err)"
done
run check_missing 1 ratedeck check "$IT_LOGS/no-such-deck.csv"
grep -q 'cannot read' check_missing.err || it_fail "check_missing: $(cat check_missing.err)"
run check_usage 2 ratedeck verify "$deck"
it_log "ok"
