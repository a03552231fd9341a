#include <zephyr/ipc/ipc_service.h>

void endpoint_cb(const void *data, size_t len, void *priv) {
    // Handle received data
}

void init_ipc_service(void) {
    const struct device *ipc_dev = DEVICE_DT_GET(DT_NODELABEL(ipc0));
    struct ipc_ept_cfg cfg = {
        .name = "my_endpoint",
        .cb = { .recv = endpoint_cb },
    };
    
    ipc_service_register_endpoint(ipc_dev, &ept, &cfg);
}
