#include <zephyr/drivers/ipm.h>

void send_signal(void) {
    const struct device *ipm_dev = DEVICE_DT_GET(DT_NODELABEL(mailbox0));
    
    // Send a 32-bit value to the remote core
    ipm_send(ipm_dev, 0, 0x12345678, NULL, 0);
}
