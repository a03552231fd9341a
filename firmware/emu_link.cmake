# The emulator link's devicetree (dts/emu-link.dts): the one source of the shared window's layout for the
# emulator-link images (firmware/CMakeLists.txt generates their configuration from it with `amplink dt gen --agent
# rpu0 --map AMPL_FW_LINK_MAP_<board>`) and for their host end (bench/firmware/fw_layout.c loads it at run time;
# tests/firmware/test_fw_layout compares the two). The map puts the devicetree's window (its emu_boot region, at
# AMPL_EMU_DEFAULT_BOARD_BASE 0x3ecf0000) at the board's .shm: the SHM origin and length of the board's linker
# script, read from it here, so the board's window address is written only there.
get_filename_component(_ampl_fw_link_root ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
set(AMPL_FW_LINK_DTS ${_ampl_fw_link_root}/dts/emu-link.dts)
set(AMPL_FW_LINK_AGENT rpu0)
set(AMPL_FW_LINK_BASE 0x3ecf0000)
foreach(_board mps2-an386 riscv-virt)
  set(_ld ${_ampl_fw_link_root}/firmware/boards/${_board}/${_board}.ld)
  set(_shm_re "ORIGIN[ \t]*=[ \t]*(0x[0-9a-fA-F]+),[ \t]*LENGTH[ \t]*=[ \t]*([0-9]+)M")
  file(STRINGS ${_ld} _shm REGEX "^[ \t]*SHM[ \t]*\\(rw\\)[ \t]*:[ \t]*${_shm_re}")
  if(NOT _shm MATCHES "${_shm_re}")
    message(FATAL_ERROR "emu_link.cmake: no 'SHM (rw) : ORIGIN = 0x..., LENGTH = <n>M' line in ${_ld}")
  endif()
  set(_origin ${CMAKE_MATCH_1})
  math(EXPR _length "${CMAKE_MATCH_2} * 0x100000" OUTPUT_FORMAT HEXADECIMAL)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_ld})
  set(AMPL_FW_LINK_MAP_${_board} ${AMPL_FW_LINK_BASE}=${_origin},${_length})
endforeach()
