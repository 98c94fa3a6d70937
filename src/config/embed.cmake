# cmake -DINPUT=<file> -DOUTPUT=<file.c> -P embed.cmake
# Writes the bytes of INPUT as the C string returned by cfg_default_text(), so that the
# embedded default and examples/loopback.conf can never differ.
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1, " bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f], ){12})" "\\1\n    " bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
"/* Generated from examples/loopback.conf by src/config/embed.cmake: do not edit. */
#include \"config/config.h\"

static const char default_text[] = {
    ${bytes}0x00
};

const char *cfg_default_text(void)
{
    return default_text;
}
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
