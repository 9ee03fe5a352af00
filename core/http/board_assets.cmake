# cmake -DDIR=<core/http/board> -DOUT=<file.c> -P board_assets.cmake
# Writes OUT: every file of DIR as a C byte array, in the crm_board_assets
# table (http/board.h), with an ETag from its SHA-256. Run at build time, so
# the generated C is never committed.
file(GLOB files RELATIVE ${DIR} ${DIR}/*)
list(SORT files)
set(arrays "")
set(rows "")
set(i 0)
foreach(f IN LISTS files)
  file(READ ${DIR}/${f} hex HEX)
  string(LENGTH "${hex}" digits)
  math(EXPR len "${digits} / 2")
  # 32 bytes a line keeps the generated file readable in a compiler message
  string(REGEX REPLACE "(([0-9a-f][0-9a-f]){32})" "\\1\n" hex "${hex}")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  file(SHA256 ${DIR}/${f} sum)
  string(SUBSTRING ${sum} 0 16 tag)
  string(APPEND arrays "static const unsigned char f${i}[] = {\n${bytes}};\n")
  string(APPEND rows "    {\"/${f}\", f${i}, ${len}, \"\\\"${tag}\\\"\"},\n")
  math(EXPR i "${i} + 1")
endforeach()
file(WRITE ${OUT}.tmp
  "/* Generated from core/http/board/ by core/http/board_assets.cmake: do not edit. */\n"
  "#include <stddef.h>\n\n#include \"http/board.h\"\n\n${arrays}\n"
  "const crm_board_asset crm_board_assets[] = {\n${rows}    {NULL, NULL, 0, NULL},\n};\n")
file(RENAME ${OUT}.tmp ${OUT})
