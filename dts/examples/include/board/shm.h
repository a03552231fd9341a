/* The shared-memory window of dts/examples/board.dts (README, Devicetree: #include and -I DIR). */
#define SHM_BASE 0x3ed00000
#define SHM_SIZE 0x8000
