#include <zephyr/devicetree.h>

#define SHARED_RAM_ADDR DT_REG_ADDR(DT_NODELABEL(shared_ram))
#define SHARED_RAM_SIZE DT_REG_SIZE(DT_NODELABEL(shared_ram))

void access_shared(void) {
    volatile uint8_t *shared_ptr = (uint8_t *)SHARED_RAM_ADDR;
    // Perform zero-copy data operations
}
