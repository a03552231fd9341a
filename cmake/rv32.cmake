# Freestanding RV32IMAC (riscv64-unknown-elf-gcc, no C library): the portable core only.
# AMPL_PORT_RISCV selects amplink/port/riscv.h: the framework's spinlock sections mask interrupts
# (mstatus.MIE); a freestanding build without a port does not compile.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-march=rv32imac -mabi=ilp32 -ffreestanding -ffunction-sections -fdata-sections -DAMPL_PORT_RISCV")
