#include <zephyr/drivers/ipm.h>

#define IPM_NODE DT_NODELABEL(ipm0)

static const struct device *ipm_dev = DEVICE_DT_GET(IPM_NODE);

static void ipm_callback(const struct device *dev, void *user_data,
                         uint32_t id, volatile void *data)
{
    printk("IPM message received - ID: %u\n", id);
    
    /* Echo the message back */
    uint32_t *msg = (uint32_t *)data;
    ipm_send(dev, 1, id, msg, sizeof(uint32_t));
}

void setup_ipm(void)
{
    int ret;

    if (!device_is_ready(ipm_dev)) {
        printk("IPM device not ready\n");
        return;
    }

    /* Set maximum ID for messages (hardware-dependent) */
    ret = ipm_set_enabled(ipm_dev, 1);
    if (ret < 0) {
        printk("Failed to enable IPM: %d\n", ret);
        return;
    }

    /* Register callback for incoming messages */
    ipm_register_callback(ipm_dev, ipm_callback, NULL);

    /* Send a message to remote core */
    uint32_t message = 0x12345678;
    ret = ipm_send(ipm_dev, 0, 0, &message, sizeof(message));
    if (ret < 0) {
        printk("Failed to send IPM message: %d\n", ret);
    }
}

