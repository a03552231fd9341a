/*
 * virtio wire structures used by RPMsg: the remoteproc resource table, the rpmsg virtio device entry, the legacy
 * (virtio 0.9) split vring, the status byte and the feature bits, as Linux (remoteproc, virtio_ring,
 * virtio_rpmsg_bus) and OpenAMP (remoteproc.h, virtio_ring.h) lay them out. Freestanding: types, constants and
 * inline layout arithmetic only.
 *
 * Terminology
 *   driver   the virtio driver side: the RPMsg host (Linux, or amplink's RPMSG_HOST). It owns the buffers, writes
 *            the descriptor table and the avail ring, reads the used ring
 *   device   the virtio device side: the RPMsg remote (firmware). It reads desc + avail, writes the used ring
 *   da       device address: a 32-bit address as the remote sees the shared memory (resource table, desc.addr;
 *            desc.addr is 64 bits on the wire, amplink requires its upper half to be 0)
 *   num      the number of descriptors of one vring, a power of two (amplink: at most 32768)
 *   align    the alignment of the used ring inside a vring (from the resource table; 0x1000 for Linux peers)
 *
 * Byte order: every field is little-endian, fixed width, and naturally aligned in its structure. The structures
 * below document the layout and are checked against hand-computed offsets at compile time; code accesses the
 * fields through the vio_get / vio_put helpers at the end of this header, which convert byte order and make each
 * access one single-copy-atomic load or store (a field the peer writes concurrently is never torn).
 *
 * Resource table (offsets from the table start; amplink's remote writes exactly this at offset 0 of the region):
 *
 *     +0    ver = 1         +4  num           +8  reserved[2] = 0
 *     +16   offset[num]     each: from the table start to one entry (fw_rsc_hdr: u32 type, then its data)
 *     entry RSC_VDEV (3):   fw_rsc_vdev (28 B) + num_of_vrings * fw_rsc_vdev_vring (20 B) + config_len bytes
 *
 * Split vring (offsets from the vring start, legacy layout, see vring_size()):
 *
 *     +0                 desc[num]        16 B each: u64 addr, u32 len, u16 flags, u16 next      (driver writes)
 *     +16*num            avail            u16 flags, u16 idx, u16 ring[num], u16 used_event     (driver writes)
 *     +used_off          used             u16 flags, u16 idx, {u32 id, u32 len}[num], u16 avail_event (device)
 *     used_off = align_up(16*num + 6 + 2*num, align)
 *
 * EVENT_IDX is never negotiated by amplink, so used_event and avail_event are neither written nor read.
 */
#ifndef AMPLINK_IPC_VIRTIO_H
#define AMPLINK_IPC_VIRTIO_H

#include <amplink/bytes.h>
#include <amplink/port.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- resource table (Linux include/linux/remoteproc.h, OpenAMP remoteproc.h) ---- */

/** Resource entry types. Vendor-specific types are RSC_VENDOR_START..RSC_VENDOR_END inclusive. */
enum fw_resource_type {
	RSC_CARVEOUT = 0,
	RSC_DEVMEM = 1,
	RSC_TRACE = 2,
	RSC_VDEV = 3,
	RSC_LAST = 4,
	RSC_VENDOR_START = 128,
	RSC_VENDOR_END = 512,
};

/** "Any address": a vring da the host must choose (and write back). */
#define FW_RSC_U32_ADDR_ANY 0xFFFFFFFFu
/** Virtio device id of RPMsg. */
#define VIRTIO_ID_RPMSG 7u
/** The only resource table version. */
#define RSC_TABLE_VERSION 1u

/** struct resource_table - the table header; @offset has @num entries. */
struct resource_table {
	uint32_t ver;
	uint32_t num;
	uint32_t reserved[2];
	uint32_t offset[];
};
AMPL_STATIC_ASSERT(sizeof(struct resource_table) == 16, "resource_table header is 16 bytes");
AMPL_STATIC_ASSERT(offsetof(struct resource_table, num) == 4, "resource_table.num at +4");
AMPL_STATIC_ASSERT(offsetof(struct resource_table, reserved) == 8, "resource_table.reserved at +8");
AMPL_STATIC_ASSERT(offsetof(struct resource_table, offset) == 16, "resource_table.offset at +16");

/** struct fw_rsc_hdr - the start of every entry. */
struct fw_rsc_hdr {
	uint32_t type;
	uint8_t data[];
};
AMPL_STATIC_ASSERT(sizeof(struct fw_rsc_hdr) == 4, "fw_rsc_hdr is 4 bytes");

/** struct fw_rsc_vdev_vring - one vring of a vdev entry (20 B). */
struct fw_rsc_vdev_vring {
	uint32_t da;
	uint32_t align;
	uint32_t num;
	uint32_t notifyid;
	uint32_t reserved;
};
AMPL_STATIC_ASSERT(sizeof(struct fw_rsc_vdev_vring) == 20, "fw_rsc_vdev_vring is 20 bytes");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev_vring, align) == 4, "vring.align at +4");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev_vring, num) == 8, "vring.num at +8");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev_vring, notifyid) == 12, "vring.notifyid at +12");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev_vring, reserved) == 16, "vring.reserved at +16");

/**
 * struct fw_rsc_vdev - a virtio device entry (28 B, then the vrings, then config_len bytes of config space).
 * @dfeatures: device (remote) features; @gfeatures: the features the host accepted (written by the host);
 * @status: the virtio status byte (written by the host).
 */
struct fw_rsc_vdev {
	uint32_t type;
	uint32_t id;
	uint32_t notifyid;
	uint32_t dfeatures;
	uint32_t gfeatures;
	uint32_t config_len;
	uint8_t status;
	uint8_t num_of_vrings;
	uint8_t reserved[2];
	struct fw_rsc_vdev_vring vring[];
};
AMPL_STATIC_ASSERT(sizeof(struct fw_rsc_vdev) == 28, "fw_rsc_vdev is 28 bytes");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev, id) == 4, "vdev.id at +4");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev, notifyid) == 8, "vdev.notifyid at +8");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev, dfeatures) == 12, "vdev.dfeatures at +12");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev, gfeatures) == 16, "vdev.gfeatures at +16");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev, config_len) == 20, "vdev.config_len at +20");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev, status) == 24, "vdev.status at +24");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev, num_of_vrings) == 25, "vdev.num_of_vrings at +25");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev, reserved) == 26, "vdev.reserved at +26");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_vdev, vring) == 28, "vdev.vring at +28");

/** struct fw_rsc_vendor - the header of a vendor entry (OpenAMP); @len counts the bytes that follow it. */
struct fw_rsc_vendor {
	uint32_t type;
	uint32_t len;
};
AMPL_STATIC_ASSERT(sizeof(struct fw_rsc_vendor) == 8, "fw_rsc_vendor is 8 bytes");

/* ---- virtio status byte and features ---- */

#define VIRTIO_CONFIG_S_RESET 0x00u
#define VIRTIO_CONFIG_S_ACKNOWLEDGE 0x01u
#define VIRTIO_CONFIG_S_DRIVER 0x02u
#define VIRTIO_CONFIG_S_DRIVER_OK 0x04u
#define VIRTIO_CONFIG_S_FEATURES_OK 0x08u
#define VIRTIO_CONFIG_S_NEEDS_RESET 0x40u
#define VIRTIO_CONFIG_S_FAILED 0x80u

/** RPMsg feature bit: the name service is supported (bit number, in dfeatures / gfeatures). */
#define VIRTIO_RPMSG_F_NS 0
/** Ring feature bits (never advertised by amplink). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29

/* ---- split vring ---- */

#define VRING_DESC_F_NEXT 1u
#define VRING_DESC_F_WRITE 2u
#define VRING_DESC_F_INDIRECT 4u
/** used.flags: the device asks the driver not to kick it. */
#define VRING_USED_F_NO_NOTIFY 1u
/** avail.flags: the driver asks the device not to interrupt it. */
#define VRING_AVAIL_F_NO_INTERRUPT 1u
/** The largest num amplink accepts (indices are u16 and free-running). */
#define VRING_MAX_NUM 32768u

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
AMPL_STATIC_ASSERT(sizeof(struct vring_desc) == 16, "vring_desc is 16 bytes");
AMPL_STATIC_ASSERT(offsetof(struct vring_desc, len) == 8, "desc.len at +8");
AMPL_STATIC_ASSERT(offsetof(struct vring_desc, flags) == 12, "desc.flags at +12");
AMPL_STATIC_ASSERT(offsetof(struct vring_desc, next) == 14, "desc.next at +14");

/** struct vring_avail - then u16 used_event after ring[num]. */
struct vring_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};
AMPL_STATIC_ASSERT(sizeof(struct vring_avail) == 4, "vring_avail header is 4 bytes");
AMPL_STATIC_ASSERT(offsetof(struct vring_avail, idx) == 2, "avail.idx at +2");
AMPL_STATIC_ASSERT(offsetof(struct vring_avail, ring) == 4, "avail.ring at +4");

struct vring_used_elem {
	uint32_t id;
	uint32_t len;
};
AMPL_STATIC_ASSERT(sizeof(struct vring_used_elem) == 8, "vring_used_elem is 8 bytes");
AMPL_STATIC_ASSERT(offsetof(struct vring_used_elem, len) == 4, "used_elem.len at +4");

/** struct vring_used - then u16 avail_event after ring[num]. */
struct vring_used {
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};
AMPL_STATIC_ASSERT(sizeof(struct vring_used) == 4, "vring_used header is 4 bytes");
AMPL_STATIC_ASSERT(offsetof(struct vring_used, idx) == 2, "used.idx at +2");
AMPL_STATIC_ASSERT(offsetof(struct vring_used, ring) == 4, "used.ring at +4");

/*
 * Layout arithmetic, in 32 bits: valid for num <= VRING_MAX_NUM and align a power of two <= VRING_MAX_ALIGN
 * (then vring_size() < 2^20). Check a peer's values against those limits before calling these.
 */
#define VRING_MAX_ALIGN 0x10000u

/** vring_align_up() - @v rounded up to @align (a power of two). */
static inline uint32_t vring_align_up(uint32_t v, uint32_t align)
{
	return (v + align - 1u) & ~(align - 1u);
}

/** vring_avail_off() - offset of the avail ring from the vring start. */
static inline uint32_t vring_avail_off(uint32_t num)
{
	return 16u * num;
}

/** vring_used_off() - offset of the used ring: after avail's used_event, aligned to @align. */
static inline uint32_t vring_used_off(uint32_t num, uint32_t align)
{
	return vring_align_up(18u * num + 6u, align);
}

/**
 * vring_size() - bytes of a legacy split vring: align_up(16*num + 6 + 2*num, align) + 6 + 8*num.
 * vring_size(256, 0x1000) = 10246; vring_size(16, 16) = 438.
 */
static inline uint32_t vring_size(uint32_t num, uint32_t align)
{
	return vring_used_off(num, align) + 6u + 8u * num;
}

/* ---- little-endian single-copy accessors for shared memory ---- */

/* One relaxed load / store of a naturally aligned field (ordering comes from the callers' barriers). */
static inline uint16_t vio_get16(const void *p)
{
	return ampl_le16(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}

static inline uint32_t vio_get32(const void *p)
{
	return ampl_le32(__atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED));
}

static inline uint8_t vio_get8(const void *p)
{
	return __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED);
}

static inline void vio_put16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, ampl_le16(v), __ATOMIC_RELAXED);
}

static inline void vio_put32(void *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, ampl_le32(v), __ATOMIC_RELAXED);
}

static inline void vio_put8(void *p, uint8_t v)
{
	__atomic_store_n((uint8_t *)p, v, __ATOMIC_RELAXED);
}

/* Byte-array forms, for fields without alignment guarantee (message headers in peer-chosen buffers). */
static inline uint32_t vio_ld32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint16_t vio_ld16(const uint8_t *b)
{
	return (uint16_t)(b[0] | b[1] << 8);
}

static inline void vio_st32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static inline void vio_st16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_VIRTIO_H */
