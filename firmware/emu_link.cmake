# The emulator link's devicetree (dts/emu-link.dts): the one source of the shared window's layout for the
# emulator-link images (firmware/CMakeLists.txt generates their configuration from it with `amplink dt gen --agent
# rpu0 --map AMPL_FW_LINK_MAP_<board>`) and for their host end (bench/firmware/fw_layout.c loads it at run time;
# tests/firmware/test_fw_layout compares the two). The map puts the devicetree's window (AMPL_EMU_DEFAULT_BOARD_BASE,
# 0x3ecf0000) at the board's .shm (its linker script's SHM origin and length).
get_filename_component(_ampl_fw_link_root ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
set(AMPL_FW_LINK_DTS ${_ampl_fw_link_root}/dts/emu-link.dts)
set(AMPL_FW_LINK_AGENT rpu0)
set(AMPL_FW_LINK_MAP_mps2-an386 0x3ecf0000=0x21000000,0x1000000)
set(AMPL_FW_LINK_MAP_riscv-virt 0x3ecf0000=0x80000000,0xe00000)
