# Turn the files FILES (a |-separated list of paths relative to ROOT) into a C source OUT defining ampl_dt_bindings[]
# (struct ampl_dt_embedded_file of src/dt/dt_bindings.h: relative path, bytes, size) and ampl_dt_num_bindings.
string(REPLACE "|" ";" FILES "${FILES}")
set(decls "")
set(table "")
set(i 0)
foreach(f ${FILES})
  file(READ ${ROOT}/${f} hex HEX)
  string(LENGTH "${hex}" n)
  math(EXPR size "${n} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
  string(REGEX REPLACE "((0x..,){16})" "\\1\n  " body "${body}")
  string(APPEND decls "static const unsigned char file${i}[] = {\n  ${body}\n};\n")
  string(APPEND table "  { \"${f}\", file${i}, ${size} },\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE ${OUT} "/* Generated from dts/include; do not edit. */\n#include \"dt/dt_bindings.h\"\n\n${decls}\n"
  "const struct ampl_dt_embedded_file ampl_dt_bindings[] = {\n${table}};\n"
  "const unsigned int ampl_dt_num_bindings = ${i};\n")
