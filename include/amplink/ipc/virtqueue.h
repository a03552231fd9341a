/*
 * virtqueue: one legacy split vring (<amplink/ipc/virtio.h>) in shared memory, seen from either role, with a local
 * shadow of what this side owns. A protocol library: no allocation, no blocking, no threads, no knowledge of RPMsg.
 *
 * Terminology
 *   driver     the side that makes buffers available (writes desc + avail) and takes them back from used
 *   device     the side that takes available buffers and returns them through used
 *   shadow     this side's own free-running u16 indices (next_avail, next_used): the copies in shared memory are
 *              only ever written from them, never read back; slot = idx & (num - 1)
 *   map        a local bitmap of num bits: driver: "made available, not yet returned" (in flight at the device);
 *              device: "taken from avail, not yet returned" (held by us)
 *   window     device only: where desc.addr / desc.len may point (the buffer area of the shared region), as
 *              32-bit device addresses [win_da, win_da + win_len); a desc.addr with a nonzero upper half is out
 *
 * A typical exchange (one buffer, driver D, device V):
 *
 *     D: vq_add_avail(id 3, addr, len, flags)   desc[3] = {addr,len,flags}; avail.ring[i] = 3; barrier; avail.idx++
 *     D: if (vq_must_notify()) kick ------------------------------------------------------------------------>
 *                                                                       V: vq_get_avail(&off, &len) -> 3
 *                                                                       V: ... uses the buffer ...
 *     <------------------------------ kick if vq_must_notify()   V: vq_add_used(3, n): used.ring[j] = {3, n};
 *                                                                                      barrier; used.idx++
 *     D: vq_get_used(&n) -> 3
 *
 * Memory ordering: a producer writes the entry (and the caller the buffer), cleans it, issues ampl_wmb() (release)
 * and only then stores the index (a release store) and cleans it. A consumer invalidates and loads the index (an
 * acquire load), issues ampl_rmb(), then invalidates and reads the entry. Notification: after publishing, ampl_mb()
 * then the peer's suppression flag is read (vq_must_notify()); a side that clears its own flag issues ampl_mb() and
 * re-checks the ring afterwards (vq_set_suppress()), so no kick is lost.
 *
 * Trust: every value the peer wrote is read once into a local and validated before use. The peer's index may move
 * at most num entries past our shadow (else the queue is "broken": -EIO until vq_init() again); an entry naming a
 * descriptor out of range, one not in flight (driver) or already held (device), a chained or indirect descriptor,
 * or a buffer outside the window is consumed and answered -EBADMSG. Nothing the peer writes makes this code access
 * memory outside the vring and the caller's map, or loop.
 *
 * Contexts: any (thread or interrupt); nothing blocks. Calls on one virtqueue must not run concurrently (the caller
 * holds a lock); the two sides of one vring run on two cores at the same time.
 */
#ifndef AMPLINK_IPC_VIRTQUEUE_H
#define AMPLINK_IPC_VIRTQUEUE_H

#include <amplink/errno.h>
#include <amplink/ipc/virtio.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Words of the caller's bitmap for @num descriptors. */
#define VQ_MAP_WORDS(num) (((uint32_t)(num) + 31u) / 32u)

/**
 * struct virtqueue - one side of one vring. All fields private; zero-filled means "not initialised".
 */
struct virtqueue {
	uint8_t *desc;
	uint8_t *avail;
	uint8_t *used;
	uint32_t *map;
	uint32_t win_da;
	uint32_t win_len;
	uint32_t size;
	uint16_t num;
	uint16_t next_avail;
	uint16_t next_used;
	uint16_t peer_idx; /* the peer's index (avail.idx for a device, used.idx for a driver) as last loaded */
	uint8_t driver;
	uint8_t broken;
	uint8_t defer;     /* device: vq_add_used() leaves used.idx to vq_publish_used() */
	uint16_t pub_used; /* device: used.idx as last stored */
};

/**
 * vq_init() - attach to a vring and reset the local shadow (indices 0, map clear). Touches no shared memory.
 * @vq:     the object
 * @ring:   the vring start in this core's address space, 4-byte aligned, vring_size(@num, @align) bytes
 * @num:    descriptors: a power of two, 1..VRING_MAX_NUM
 * @align:  used-ring alignment: a power of two, 4..VRING_MAX_ALIGN
 * @map:    caller storage of VQ_MAP_WORDS(@num) words (outlives @vq)
 * @driver: true for the driver role, false for the device role
 * Return: 0; -EINVAL (NULL pointer, misaligned @ring, bad @num or @align). Context: any.
 */
int vq_init(struct virtqueue *vq, void *ring, uint32_t num, uint32_t align, uint32_t *map, bool driver);

/** vq_attach() - vq_init() without the argument checks, for callers that validated them already. */
void vq_attach(struct virtqueue *vq, void *ring, uint32_t num, uint32_t align, uint32_t *map, bool driver);

/**
 * vq_set_window() - device role: the device addresses a descriptor may cover, [@da, @da + @len).
 * Context: any. Until called, the window is empty and every available buffer is rejected.
 */
void vq_set_window(struct virtqueue *vq, uint32_t da, uint32_t len);

/**
 * vq_ring_reset() - driver role: zero the whole vring in shared memory (indices, flags, entries) and clean it.
 * Call after vq_init(), before the device is told to use the ring. Context: any.
 */
void vq_ring_reset(struct virtqueue *vq);

/**
 * vq_add_avail() - driver: make descriptor @id available with one buffer and publish it.
 * @id:    a descriptor not in flight, < num
 * @addr, @len, @flags: the buffer (32-bit device address), its length and VRING_DESC_F_* flags (no NEXT/INDIRECT)
 * Return: 0; -EINVAL (not a driver, @id out of range or already in flight: a local bug, nothing written).
 * Context: any.
 */
int vq_add_avail(struct virtqueue *vq, uint16_t id, uint32_t addr, uint32_t len, uint16_t flags);

/**
 * vq_get_used() - driver: take the next used element.
 * used.idx is loaded only when the entries its last load covered are all taken (one load per batch).
 * @len: receives used.len as the device wrote it, unchecked (peer-written: the caller validates it before any use)
 * Return: the descriptor id (>= 0), returned to us; -ENODATA (nothing new); -EIO (used.idx moved more than num
 * past our shadow: the queue is broken until vq_init()); -EBADMSG (the element names a descriptor out of range or
 * not in flight: the element is consumed and ignored); -EINVAL (not a driver). Context: any.
 */
int vq_get_used(struct virtqueue *vq, uint32_t *len);

/**
 * vq_get_avail() - device: take the next available buffer.
 * avail.idx is loaded only when the entries its last load covered are all taken (one load per batch).
 * @off: receives desc.addr - win_da (the buffer's offset in the window); @len: desc.len
 * Return: the head descriptor id (>= 0), now held by us; -ENODATA; -EIO (avail.idx moved more than num past our
 * shadow: broken until vq_init()); -EBADMSG (head out of range or already held, NEXT or INDIRECT set, buffer
 * outside the window: the entry is consumed and ignored); -EINVAL (not a device). Context: any.
 */
int vq_get_avail(struct virtqueue *vq, uint32_t *off, uint32_t *len);

/**
 * vq_unget_avail() - device: put back the buffer @id that the last vq_get_avail() returned (it is taken again by
 * the next call). Only directly after that call, under the same lock. Context: any.
 */
void vq_unget_avail(struct virtqueue *vq, uint16_t id);

/**
 * vq_add_used() - device: return held descriptor @id with @len bytes written, and publish it (unless deferred,
 * vq_defer_used()).
 * Return: 0; -EINVAL (not a device, or @id not held: a local bug, nothing written). Context: any.
 */
int vq_add_used(struct virtqueue *vq, uint16_t id, uint32_t len);

/**
 * vq_defer_used() - device: from now on vq_add_used() writes the elements but leaves used.idx as it is, until
 * vq_publish_used(): a batch of returns is published with one store (one cache line handed to the driver once).
 * Context: any.
 */
void vq_defer_used(struct virtqueue *vq);

/**
 * vq_publish_used() - device: end vq_defer_used() and store used.idx for the elements added since it was last
 * stored. Return: true if used.idx moved (then ask vq_must_notify()), false if there was nothing to publish.
 * Context: any.
 */
bool vq_publish_used(struct virtqueue *vq);

/**
 * vq_set_suppress() - set (@on) or clear our notification-suppression flag: driver avail.flags NO_INTERRUPT
 * ("do not interrupt me when you return buffers"), device used.flags NO_NOTIFY ("do not kick me when you add
 * buffers"). Clearing ends with a full barrier, so a re-check of the ring after it is ordered after the store;
 * setting has none (a peer that sees the flag late kicks once more). Context: any.
 */
void vq_set_suppress(struct virtqueue *vq, bool on);

/**
 * vq_must_notify() - after publishing: does the peer want a kick? Driver: used.flags has no NO_NOTIFY; device:
 * avail.flags has no NO_INTERRUPT. Starts with a full barrier (our index store before the flag load).
 * Context: any.
 */
bool vq_must_notify(struct virtqueue *vq);

/**
 * vq_pending() - has the peer published something we have not taken? Driver: used.idx != our shadow; device:
 * avail.idx != our shadow. Context: any.
 */
bool vq_pending(struct virtqueue *vq);

/** vq_is_set() - is descriptor @id in flight (driver) / held (device)? false when out of range. */
bool vq_is_set(const struct virtqueue *vq, uint32_t id);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_VIRTQUEUE_H */
