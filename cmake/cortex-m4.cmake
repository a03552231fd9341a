# Freestanding Cortex-M4 (arm-none-eabi-gcc): the portable core only.
# AMPL_PORT_CORTEX_M selects amplink/port/cortex_m.h: the framework's spinlock sections mask interrupts
# (PRIMASK); a freestanding build without a port does not compile.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m4 -mthumb -mfloat-abi=soft -ffreestanding -ffunction-sections -fdata-sections -DAMPL_PORT_CORTEX_M")
set(AMPL_SIZE_TOOL arm-none-eabi-size)
