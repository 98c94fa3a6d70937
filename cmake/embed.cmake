# cmake -DINPUT=<file> -DOUTPUT=<file.c> -DHEADER=<a/b.h> -DFUNCTION=<name> [-DBINARY=ON]
#       -P cmake/embed.cmake
# Writes the bytes of INPUT into a C file, so that what the binary carries and the source
# file can never differ. Text (the default): `const char *FUNCTION(void)` returns them
# NUL-terminated. BINARY: `const unsigned char *FUNCTION(size_t *len)` returns them and
# their length (a NUL follows, not counted). HEADER declares FUNCTION.
foreach(arg INPUT OUTPUT HEADER FUNCTION)
    if(NOT DEFINED ${arg})
        message(FATAL_ERROR "embed.cmake: -D${arg}= is required")
    endif()
endforeach()
file(READ "${INPUT}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1, " bytes "${hex}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f], ){12})" "\\1\n    " bytes "${bytes}")
get_filename_component(input_name "${INPUT}" NAME)
if(BINARY)
    set(accessor "const unsigned char *${FUNCTION}(size_t *len)
{
    *len = sizeof(embedded) - 1;
    return embedded;
}")
else()
    set(accessor "const char *${FUNCTION}(void)
{
    return (const char *)embedded;
}")
endif()
file(WRITE "${OUTPUT}.tmp"
"/* Generated from ${input_name} by cmake/embed.cmake: do not edit. */
#include \"${HEADER}\"

static const unsigned char embedded[] = {
    ${bytes}0x00
};

${accessor}
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
