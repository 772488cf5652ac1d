# Turns a text file into a C string constant: embedded_config_yaml.
file(READ ${INPUT} content HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)"
	"\\1\n\t" bytes "${bytes}")
file(WRITE ${OUTPUT} "/* Generated from the example configuration. */\n"
	"#include <stddef.h>\n"
	"const char embedded_config_yaml[] = {\n\t${bytes}0x00\n};\n"
	"const size_t embedded_config_yaml_len = sizeof(embedded_config_yaml) - 1;\n")
