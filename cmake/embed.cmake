# Turn a binary file IN into a C source OUT defining ampl_default_board_dtb[] and its size.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR size "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n  " body "${body}")
file(WRITE ${OUT} "/* Generated from the default board's devicetree; do not edit. */\n"
  "const unsigned char ampl_default_board_dtb[] __attribute__((aligned(8))) = {\n  ${body}\n};\n"
  "const unsigned int ampl_default_board_dtb_size = ${size};\n")
