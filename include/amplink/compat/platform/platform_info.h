/*
 * OpenAMP's application machine layer (the platform_info.h an OpenAMP demo includes) for the virtual SoC: the
 * RPMsg device is the IPC service instance of a `zephyr,ipc-openamp-static-vrings` devicetree node of the attached
 * agent, opened, and endpoints are created on it with rpmsg_create_ept() (<openamp/open_amp.h>). Firmware: see the
 * end of this comment.
 *
 * platform_init() attaches the agent named by $AMPLINK_AGENT (default rpu0) on the SoC named by $AMPLINK_SOC;
 * platform_create_rpmsg_vdev() takes the node $AMPLINK_RPMSG (label, name or path; default ipc_rpmsg_AGENT, the
 * default board's label), which must be the agent's and whose role must match @role (VIRTIO_DEV_DEVICE:
 * "remote", VIRTIO_DEV_DRIVER: "host"); callbacks run in the agent's interrupt context, so platform_poll() only
 * sleeps a millisecond.
 * Not covered: @rst_cb (a peer's reset shows as the endpoints' unbind callbacks), @ns_bind_cb (an announcement
 * binds an endpoint of the same name only), a @vdev_index other than 0.
 * In firmware (the QEMU images, firmware/apps/compat/openamp_fw.c) the same calls boot the image and use the
 * devicetree's instance; the program's main() is compiled as ampl_openamp_main() (-Dmain=ampl_openamp_main
 * -DAMPL_OPENAMP_MAIN) and run by that file's main().
 */
#ifndef AMPLINK_COMPAT_PLATFORM_INFO_H
#define AMPLINK_COMPAT_PLATFORM_INFO_H

#include <openamp/open_amp.h>

#ifdef __cplusplus
extern "C" {
#endif

/** platform_init() - attach the agent; *@platform is its handle. Return: 0; or a negative errno (printed). */
int platform_init(int argc, char *argv[], void **platform);

/** platform_create_rpmsg_vdev() - the agent's RPMsg device (see above), or NULL (why is printed). */
struct rpmsg_device *platform_create_rpmsg_vdev(void *platform, unsigned int vdev_index, unsigned int role,
						void (*rst_cb)(void *vdev), rpmsg_ns_bind_cb ns_bind_cb);

/** platform_poll() - wait for something to happen (a millisecond: callbacks run on their own). Return: 0. */
int platform_poll(void *platform);

/** platform_release_rpmsg_vdev() - close the device (the peer sees this side go). */
void platform_release_rpmsg_vdev(struct rpmsg_device *rpdev, void *platform);

/** platform_cleanup() - detach the agent. */
void platform_cleanup(void *platform);

#ifdef AMPL_OPENAMP_MAIN
/* The program's main(), renamed (-Dmain=ampl_openamp_main) so that the firmware's runner runs it. */
int main(int argc, char *argv[]);
#endif

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_COMPAT_PLATFORM_INFO_H */
