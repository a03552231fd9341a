/*
 * virtio / RPMsg wire layout, byte by byte, against hand-computed values: the size and every field offset of each
 * wire structure, vring_size() and the avail / used placement for several (num, align) pairs, the resource table
 * the remote writes (exact bytes at exact offsets), what the host's handshake writes into it and into vring0, the
 * little-endian encoding of a message header, and name-service messages (zero-filled names; a peer's name with
 * garbage after the NUL binds all the same).
 *
 * No threads here: the two devices share one region, their notify hooks only count, and the test calls
 * rpmsg_virtio_notified() itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <amplink/ipc/rpmsg.h>

#define DA_BASE 0x10000000u
#define SHM_SIZE 0x10000u

static void hexdump_diff(const uint8_t *got, const uint8_t *want, size_t n, size_t base)
{
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			print_error("  +0x%03zx: got %02x want %02x\n", base + i, got[i], want[i]);
}

static void assert_bytes(const void *got, const void *want, size_t n, size_t base)
{
	if (memcmp(got, want, n) != 0) {
		hexdump_diff(got, want, n, base);
		fail_msg("bytes differ at region offset 0x%zx (+%zu)", base, n);
	}
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* ---- structures ---- */

static void test_struct_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct resource_table), 16);
	assert_int_equal(offsetof(struct resource_table, ver), 0);
	assert_int_equal(offsetof(struct resource_table, num), 4);
	assert_int_equal(offsetof(struct resource_table, reserved), 8);
	assert_int_equal(offsetof(struct resource_table, offset), 16);
	assert_int_equal(sizeof(struct fw_rsc_hdr), 4);
	assert_int_equal(sizeof(struct fw_rsc_vdev), 28);
	assert_int_equal(offsetof(struct fw_rsc_vdev, id), 4);
	assert_int_equal(offsetof(struct fw_rsc_vdev, notifyid), 8);
	assert_int_equal(offsetof(struct fw_rsc_vdev, dfeatures), 12);
	assert_int_equal(offsetof(struct fw_rsc_vdev, gfeatures), 16);
	assert_int_equal(offsetof(struct fw_rsc_vdev, config_len), 20);
	assert_int_equal(offsetof(struct fw_rsc_vdev, status), 24);
	assert_int_equal(offsetof(struct fw_rsc_vdev, num_of_vrings), 25);
	assert_int_equal(offsetof(struct fw_rsc_vdev, reserved), 26);
	assert_int_equal(offsetof(struct fw_rsc_vdev, vring), 28);
	assert_int_equal(sizeof(struct fw_rsc_vdev_vring), 20);
	assert_int_equal(offsetof(struct fw_rsc_vdev_vring, da), 0);
	assert_int_equal(offsetof(struct fw_rsc_vdev_vring, align), 4);
	assert_int_equal(offsetof(struct fw_rsc_vdev_vring, num), 8);
	assert_int_equal(offsetof(struct fw_rsc_vdev_vring, notifyid), 12);
	assert_int_equal(offsetof(struct fw_rsc_vdev_vring, reserved), 16);
	assert_int_equal(sizeof(struct fw_rsc_vendor), 8);
	assert_int_equal(sizeof(struct fw_rsc_ampl_session), 24);
	assert_int_equal(offsetof(struct fw_rsc_ampl_session, magic), 8);
	assert_int_equal(offsetof(struct fw_rsc_ampl_session, remote_sid), 12);
	assert_int_equal(offsetof(struct fw_rsc_ampl_session, host_sid), 16);
	assert_int_equal(offsetof(struct fw_rsc_ampl_session, host_ack), 20);
	assert_int_equal(sizeof(struct vring_desc), 16);
	assert_int_equal(offsetof(struct vring_desc, len), 8);
	assert_int_equal(offsetof(struct vring_desc, flags), 12);
	assert_int_equal(offsetof(struct vring_desc, next), 14);
	assert_int_equal(sizeof(struct vring_avail), 4);
	assert_int_equal(offsetof(struct vring_avail, idx), 2);
	assert_int_equal(offsetof(struct vring_avail, ring), 4);
	assert_int_equal(sizeof(struct vring_used_elem), 8);
	assert_int_equal(offsetof(struct vring_used_elem, len), 4);
	assert_int_equal(sizeof(struct vring_used), 4);
	assert_int_equal(offsetof(struct vring_used, idx), 2);
	assert_int_equal(offsetof(struct vring_used, ring), 4);
	assert_int_equal(sizeof(struct rpmsg_hdr), 16);
	assert_int_equal(offsetof(struct rpmsg_hdr, dst), 4);
	assert_int_equal(offsetof(struct rpmsg_hdr, reserved), 8);
	assert_int_equal(offsetof(struct rpmsg_hdr, len), 12);
	assert_int_equal(offsetof(struct rpmsg_hdr, flags), 14);
	assert_int_equal(sizeof(struct rpmsg_ns_msg), 40);
	assert_int_equal(offsetof(struct rpmsg_ns_msg, addr), 32);
	assert_int_equal(offsetof(struct rpmsg_ns_msg, flags), 36);
	/* Constants of the wire. */
	assert_int_equal(RSC_VDEV, 3);
	assert_int_equal(RSC_VENDOR_START, 128);
	assert_int_equal(RSC_VENDOR_END, 512);
	assert_int_equal(RPMSG_AMPL_RSC_TYPE, 193);
	assert_int_equal(VIRTIO_ID_RPMSG, 7);
	assert_int_equal(VIRTIO_CONFIG_S_DRIVER_OK, 4);
	assert_int_equal(VIRTIO_CONFIG_S_NEEDS_RESET, 0x40);
	assert_int_equal(VIRTIO_CONFIG_S_FAILED, 0x80);
	assert_int_equal(VIRTIO_RING_F_EVENT_IDX, 29);
	assert_int_equal(FW_RSC_U32_ADDR_ANY, 0xFFFFFFFFu);
	assert_int_equal(RPMSG_RSC_VDEV_OFF, 0x18);
	assert_int_equal(RPMSG_RSC_SESSION_OFF, 0x5c);
	assert_int_equal(RPMSG_RSC_TABLE_SIZE, 0x74);
}

/* ---- vring placement ---- */

struct vring_case {
	uint32_t num, align, avail, used, size;
};

static void test_vring_layout(void **state)
{
	(void)state;
	/* Hand-computed: avail = 16*num; used = align_up(18*num + 6, align); size = used + 6 + 8*num. */
	static const struct vring_case cases[] = {
		{ 1, 4, 16, 24, 38 },
		{ 16, 16, 256, 304, 438 },
		{ 64, 64, 1024, 1216, 1734 },
		{ 256, 0x1000, 4096, 8192, 10246 },
		{ 32768, 4, 524288, 589832, 851982 },
		{ 32, 16, 512, 592, 854 },
		{ 256, 16, 4096, 4624, 6678 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct vring_case *c = &cases[i];
		if (vring_avail_off(c->num) != c->avail || vring_used_off(c->num, c->align) != c->used ||
		    vring_size(c->num, c->align) != c->size)
			fail_msg("vring(%u, %u): avail %u used %u size %u, want %u %u %u", c->num, c->align,
				 vring_avail_off(c->num), vring_used_off(c->num, c->align), vring_size(c->num, c->align),
				 c->avail, c->used, c->size);
		/* used_event sits right after avail.ring[num]; the used ring starts at or after it. */
		assert_true(c->avail + 4 + 2 * c->num + 2 <= c->used);
	}
	assert_int_equal(vring_size(256, 0x1000), 10246);
	assert_int_equal(vring_size(16, 16), 438);

	/* A virtqueue places its parts the same way (checked through the bytes it writes). */
	static uint8_t ring[1734] __attribute__((aligned(64)));
	uint32_t map[VQ_MAP_WORDS(64)];
	struct virtqueue vq;
	assert_int_equal(vq_init(&vq, ring, 64, 64, map, true), 0);
	memset(ring, 0xEE, sizeof(ring));
	vq_ring_reset(&vq);
	for (size_t i = 0; i < sizeof(ring); i++)
		assert_int_equal(ring[i], 0);
	assert_int_equal(vq_add_avail(&vq, 5, 0x12345678u, 0x200, VRING_DESC_F_WRITE), 0);
	static const uint8_t desc5[16] = { 0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0x00, 0x02, 0, 0, 0x02, 0, 0, 0 };
	assert_bytes(ring + 5 * 16, desc5, 16, 5 * 16);
	assert_int_equal(le16(ring + 1024 + 2), 1);  /* avail.idx */
	assert_int_equal(le16(ring + 1024 + 4), 5);  /* avail.ring[0] */
	vq_set_suppress(&vq, true);
	assert_int_equal(le16(ring + 1024), VRING_AVAIL_F_NO_INTERRUPT);
	assert_true(vq_must_notify(&vq));
	ring[1216] = VRING_USED_F_NO_NOTIFY; /* the device's flag, at the used ring */
	assert_false(vq_must_notify(&vq));
	/* The device returns descriptor 5: used.ring[0] = {5, 7} at used + 4, then used.idx = 1 at used + 2. */
	ring[1216 + 4] = 5;
	ring[1216 + 8] = 7;
	ring[1216 + 2] = 1;
	uint32_t len = 0;
	assert_int_equal(vq_get_used(&vq, &len), 5);
	assert_int_equal(len, 7);
	assert_int_equal(vq_get_used(&vq, &len), -ENODATA);

	/* Bad arguments. */
	assert_int_equal(vq_init(&vq, ring, 3, 16, map, true), -EINVAL);
	assert_int_equal(vq_init(&vq, ring, 65536, 16, map, true), -EINVAL);
	assert_int_equal(vq_init(&vq, ring, 16, 2, map, true), -EINVAL);
	assert_int_equal(vq_init(&vq, ring, 16, 24, map, true), -EINVAL);
	assert_int_equal(vq_init(&vq, ring + 2, 16, 16, map, true), -EINVAL);
	assert_int_equal(vq_init(&vq, NULL, 16, 16, map, true), -EINVAL);
}

/* Both sides of one 16-entry vring (align 16: used ring at 304) in @ring, zeroed, buffers in [0x1000, 0x2000). */
struct vq_pair {
	struct virtqueue drv, dev;
	uint32_t dmap[VQ_MAP_WORDS(16)], hmap[VQ_MAP_WORDS(16)];
};

static void vq_pair_init(struct vq_pair *p, uint8_t *ring)
{
	assert_int_equal(vq_init(&p->drv, ring, 16, 16, p->hmap, true), 0);
	assert_int_equal(vq_init(&p->dev, ring, 16, 16, p->dmap, false), 0);
	vq_ring_reset(&p->drv);
	vq_set_window(&p->dev, 0x1000u, 0x1000u);
}

/*
 * A device that is behind takes the entries one load of avail.idx showed without loading it again (one transfer of
 * the shared word per batch): a value written there meanwhile is seen only once those entries are taken. Here it
 * is a corrupt one (more than num ahead), so the get that loads it reports the vring broken.
 */
static void test_vq_index_batch(void **state)
{
	(void)state;
	static uint8_t ring[438] __attribute__((aligned(64)));
	struct vq_pair p;
	vq_pair_init(&p, ring);
	struct virtqueue *drv = &p.drv, *dev = &p.dev;
	for (uint16_t i = 0; i < 3; i++)
		assert_int_equal(vq_add_avail(drv, i, 0x1000u + 0x100u * i, 0x100u, 0), 0);
	uint32_t off, len;
	assert_int_equal(vq_get_avail(dev, &off, &len), 0);
	ring[256 + 2] = 3 + 100; /* avail.idx, 100 ahead of a 16-entry ring */
	assert_int_equal(vq_get_avail(dev, &off, &len), 1);
	assert_int_equal(off, 0x100u);
	assert_true(vq_pending(dev));
	assert_int_equal(vq_get_avail(dev, &off, &len), 2);
	assert_int_equal(vq_get_avail(dev, &off, &len), -EIO);
	/* The driver side the same way with used.idx (used ring at 304 for num 16, align 16). */
	assert_int_equal(vq_add_used(dev, 0, 0x100u), 0);
	assert_int_equal(vq_add_used(dev, 1, 0x100u), 0);
	assert_int_equal(vq_get_used(drv, &len), 0);
	ring[304 + 2] = 2 + 100;
	assert_int_equal(vq_get_used(drv, &len), 1);
	assert_int_equal(vq_get_used(drv, &len), -EIO);
}

/*
 * A device returns a batch with one store of used.idx (vq_defer_used(), vq_publish_used()); a driver making a
 * descriptor available again leaves it as it is when it holds the same buffer, and rewrites it when it does not.
 */
static void test_vq_used_batch(void **state)
{
	(void)state;
	static uint8_t ring[438] __attribute__((aligned(64)));
	struct vq_pair p;
	vq_pair_init(&p, ring);
	struct virtqueue *drv = &p.drv, *dev = &p.dev;
	uint32_t off, len;
	for (uint16_t i = 0; i < 3; i++) {
		assert_int_equal(vq_add_avail(drv, i, 0x1000u + 0x100u * i, 0x100u, 0), 0);
		assert_int_equal(vq_get_avail(dev, &off, &len), i);
	}
	vq_defer_used(dev);
	assert_int_equal(vq_add_used(dev, 0, 0x100u), 0);
	assert_int_equal(vq_add_used(dev, 1, 0x100u), 0);
	assert_int_equal(ring[304 + 2], 0); /* used.idx not stored yet */
	assert_int_equal(vq_get_used(drv, &len), -ENODATA);
	assert_true(vq_publish_used(dev));
	assert_int_equal(ring[304 + 2], 2);
	assert_false(vq_publish_used(dev)); /* nothing new */
	assert_int_equal(vq_add_used(dev, 2, 0x100u), 0); /* no longer deferred */
	assert_int_equal(ring[304 + 2], 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(vq_get_used(drv, &len), i);
	/* Descriptor 1 again with its buffer; then one the device overwrote is written again in full. */
	assert_int_equal(vq_add_avail(drv, 1, 0x1100u, 0x100u, 0), 0);
	assert_int_equal(vq_get_avail(dev, &off, &len), 1);
	assert_int_equal(off, 0x100u);
	ring[16 * 2 + 8] = 0xEE; /* desc[2].len */
	ring[16 * 2 + 14] = 0x01; /* desc[2].next */
	assert_int_equal(vq_add_avail(drv, 2, 0x1200u, 0x100u, 0), 0);
	assert_int_equal(vq_get_avail(dev, &off, &len), 2);
	assert_int_equal(off, 0x200u);
	assert_int_equal(len, 0x100u);
	assert_int_equal(ring[16 * 2 + 14], 0);
}

/* ---- the table and the handshake ---- */

struct pair {
	uint8_t *shm;
	struct rpmsg_virtio_config hcfg, rcfg;
	struct rpmsg_device host, remote;
	unsigned host_kicks, remote_kicks;
	uint32_t last_remote_notifyid, last_host_notifyid;
	unsigned errors;
	struct rpmsg_ns_entry ns_table[4];
};

static void notify_host(void *priv, uint32_t id) /* the remote rings the host */
{
	struct pair *p = priv;
	p->host_kicks++;
	p->last_remote_notifyid = id;
}

static void notify_remote(void *priv, uint32_t id)
{
	struct pair *p = priv;
	p->remote_kicks++;
	p->last_host_notifyid = id;
}

static void on_error(struct rpmsg_device *rdev, const char *msg)
{
	struct pair *p = rdev->cfg->priv;
	p->errors++;
	print_message("  (error: %s)\n", msg);
}

static struct pair *pair_new(uint32_t num, uint32_t align)
{
	struct pair *p = calloc(1, sizeof(*p));
	p->shm = aligned_alloc(64, SHM_SIZE);
	memset(p->shm, 0, SHM_SIZE);
	p->rcfg = (struct rpmsg_virtio_config){ .role = RPMSG_REMOTE, .shm = p->shm, .shm_size = SHM_SIZE,
						.da_base = DA_BASE, .vring_num = num, .vring_align = align,
						.notify = notify_host, .notify_priv = p, .error = on_error, .priv = p };
	p->hcfg = (struct rpmsg_virtio_config){ .role = RPMSG_HOST, .shm = p->shm, .shm_size = SHM_SIZE,
						.da_base = DA_BASE, .notify = notify_remote, .notify_priv = p,
						.error = on_error, .priv = p, .ns_table = p->ns_table, .ns_table_len = 4 };
	return p;
}

static void pair_free(struct pair *p)
{
	free(p->shm);
	free(p);
}

static int sink(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)data, (void)len, (void)src, (void)priv;
	return 0;
}

static void test_remote_table_bytes(void **state)
{
	(void)state;
	struct pair *p = pair_new(16, 16);
	assert_int_equal(rpmsg_virtio_init_remote(&p->remote, &p->rcfg), RPMSG_SUCCESS);
	/* vring0 at align_up(0x74, 16) = 0x80, 438 bytes; vring1 at align_up(0x80 + 438, 16) = 0x240. */
	static const uint8_t want[RPMSG_RSC_TABLE_SIZE] = {
		/* 0x00 */ 0x01, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* 0x10 */ 0x18, 0, 0, 0, 0x5c, 0, 0, 0,
		/* 0x18 vdev */ 0x03, 0, 0, 0, 0x07, 0, 0, 0,
		/* 0x20 */ 0x00, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		/* 0x30 status, nvrings, reserved */ 0x00, 0x02, 0x00, 0x00,
		/* 0x34 vring0 */ 0x80, 0x00, 0x00, 0x10, 0x10, 0, 0, 0, 0x10, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0,
		/* 0x48 vring1 */ 0x40, 0x02, 0x00, 0x10, 0x10, 0, 0, 0, 0x10, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0,
		/* 0x5c session */ 0xc1, 0, 0, 0, 0x10, 0, 0, 0, 'A', 'M', 'P', 'L',
		/* 0x68 remote_sid, host_sid, host_ack */ 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	};
	assert_bytes(p->shm, want, sizeof(want), 0);
	assert_int_equal(p->host_kicks, 1);
	assert_int_equal(p->last_remote_notifyid, RPMSG_NOTIFYID_VDEV);
	assert_false(rpmsg_virtio_link_up(&p->remote));

	/* The host handshake: gfeatures, status, the session words, vring0 full of posted RX buffers. */
	p->hcfg.r2h_buf_size = 100; /* rounded up to 112 */
	assert_int_equal(rpmsg_virtio_init_host(&p->host, &p->hcfg), RPMSG_SUCCESS);
	assert_true(rpmsg_virtio_link_up(&p->host));
	assert_int_equal(le32(p->shm + 0x28), 1);      /* gfeatures = NS */
	assert_int_equal(p->shm[0x30], 0x04);          /* status = DRIVER_OK only */
	assert_int_equal(le32(p->shm + 0x68), 1);      /* remote_sid untouched */
	assert_int_equal(le32(p->shm + 0x6c), 1);      /* host_sid */
	assert_int_equal(le32(p->shm + 0x70), 1);      /* host_ack = remote_sid */
	assert_int_equal(le32(p->shm + 0x34), 0x10000080u); /* da untouched */
	assert_int_equal(p->remote_kicks, 1);
	assert_int_equal(p->last_host_notifyid, RPMSG_NOTIFYID_VDEV);
	/* Buffers at align_up(0x240 + 438, 16) = 0x400: 16 r2h buffers of 112 bytes, then h2r ones of 512. */
	const uint8_t *v0 = p->shm + 0x80;
	for (unsigned i = 0; i < 16; i++) {
		uint8_t d[16] = { 0 };
		uint32_t a = DA_BASE + 0x400 + 112 * i;
		d[0] = (uint8_t)a, d[1] = (uint8_t)(a >> 8), d[2] = (uint8_t)(a >> 16), d[3] = (uint8_t)(a >> 24);
		d[8] = 112;
		d[12] = VRING_DESC_F_WRITE;
		assert_bytes(v0 + 16 * i, d, 16, 0x80 + 16 * i);
		assert_int_equal(le16(v0 + 256 + 4 + 2 * i), i); /* avail.ring[i] = i */
	}
	assert_int_equal(le16(v0 + 256), 0);       /* vring0 avail.flags */
	assert_int_equal(le16(v0 + 256 + 2), 16);  /* vring0 avail.idx */
	assert_int_equal(le16(v0 + 304 + 2), 0);   /* vring0 used.idx */
	const uint8_t *v1 = p->shm + 0x240;
	assert_int_equal(le16(v1 + 256), VRING_AVAIL_F_NO_INTERRUPT); /* host TX: no interrupt on returns */
	assert_int_equal(le16(v1 + 256 + 2), 0);

	/* The remote comes up and sets NO_NOTIFY on vring0's used ring (no kick for reposted RX buffers). */
	rpmsg_virtio_notified(&p->remote);
	assert_true(rpmsg_virtio_link_up(&p->remote));
	assert_int_equal(le16(v0 + 304), VRING_USED_F_NO_NOTIFY);
	assert_int_equal(le16(v1 + 304), 0);
	assert_int_equal(p->errors, 0);
	rpmsg_virtio_deinit(&p->host);
	assert_int_equal(p->shm[0x30], 0);
	rpmsg_virtio_deinit(&p->remote);
	assert_int_equal(le32(p->shm + 0x68), 0);
	pair_free(p);
}

/* A region that held a table of ours: the remote numbers its new session past both ids, keeps the host's words. */
static void test_remote_restart_numbering(void **state)
{
	(void)state;
	struct pair *p = pair_new(16, 16);
	assert_int_equal(rpmsg_virtio_init_remote(&p->remote, &p->rcfg), 0);
	assert_int_equal(rpmsg_virtio_init_host(&p->host, &p->hcfg), 0);
	assert_int_equal(le32(p->shm + 0x6c), 1);
	memset(&p->remote, 0, sizeof(p->remote));
	assert_int_equal(rpmsg_virtio_init_remote(&p->remote, &p->rcfg), 0);
	assert_int_equal(le32(p->shm + 0x68), 2);
	assert_int_equal(le32(p->shm + 0x6c), 1); /* host_sid kept */
	assert_int_equal(le32(p->shm + 0x70), 1); /* host_ack kept */
	/* The host sees the new remote session and runs its handshake again, with a new host_sid. */
	rpmsg_virtio_notified(&p->host);
	assert_int_equal(le32(p->shm + 0x6c), 2);
	assert_int_equal(le32(p->shm + 0x70), 2);
	/* A remote that closed wrote remote_sid 0; its next session is still numbered past host_ack. */
	rpmsg_virtio_deinit(&p->remote);
	assert_int_equal(le32(p->shm + 0x68), 0);
	memset(&p->remote, 0, sizeof(p->remote));
	assert_int_equal(rpmsg_virtio_init_remote(&p->remote, &p->rcfg), 0);
	assert_int_equal(le32(p->shm + 0x68), 3);
	rpmsg_virtio_deinit(&p->host);
	pair_free(p);
}

static void test_linux_alignment(void **state)
{
	(void)state;
	struct pair *p = pair_new(32, 0x1000);
	free(p->shm); /* replaced: Linux-style alignment needs a bigger region */
	p->shm = aligned_alloc(4096, 0x20000);
	memset(p->shm, 0, 0x20000);
	p->rcfg.shm = p->hcfg.shm = p->shm;
	p->rcfg.shm_size = p->hcfg.shm_size = 0x20000;
	assert_int_equal(rpmsg_virtio_init_remote(&p->remote, &p->rcfg), 0);
	/* vring0 at 0x1000; vring_size(32, 0x1000) = 0x1000 + 6 + 256 = 4358; vring1 at align_up(0x2106) = 0x3000. */
	assert_int_equal(le32(p->shm + 0x34), DA_BASE + 0x1000);
	assert_int_equal(le32(p->shm + 0x38), 0x1000);
	assert_int_equal(le32(p->shm + 0x3c), 32);
	assert_int_equal(le32(p->shm + 0x48), DA_BASE + 0x3000);
	assert_int_equal(rpmsg_virtio_init_host(&p->host, &p->hcfg), 0);
	assert_true(rpmsg_virtio_link_up(&p->host));
	/* Buffers from align_up(0x3000 + 4358, 16) = 0x4110. */
	assert_int_equal(le32(p->shm + 0x1000), DA_BASE + 0x4110);
	assert_int_equal(le16(p->shm + 0x2000 + 2), 0); /* used.idx of vring0 at 0x1000 + 0x1000 */
	rpmsg_virtio_notified(&p->remote);
	assert_int_equal(le16(p->shm + 0x2000), VRING_USED_F_NO_NOTIFY);
	assert_int_equal(p->errors, 0);
	pair_free(p);
}

/* ---- messages ---- */

static void test_header_encoding(void **state)
{
	(void)state;
	struct pair *p = pair_new(16, 16);
	assert_int_equal(rpmsg_virtio_init_remote(&p->remote, &p->rcfg), 0);
	assert_int_equal(rpmsg_virtio_init_host(&p->host, &p->hcfg), 0);
	rpmsg_virtio_notified(&p->remote);
	struct rpmsg_endpoint he, re;
	memset(&he, 0, sizeof(he));
	memset(&re, 0, sizeof(re));
	assert_int_equal(rpmsg_create_ept(&he, &p->host, NULL, 0x12345, 0x4321, sink, NULL), 0);
	assert_int_equal(rpmsg_trysendto(&he, "abc", 3, 0x01020304u), 3);
	/* The first h2r buffer: after 16 r2h buffers of 512 bytes from 0x400. vring1 desc 0 names it. */
	uint32_t h2r = 0x400 + 16 * 512;
	const uint8_t *v1 = p->shm + 0x240;
	assert_int_equal(le32(v1), DA_BASE + h2r);
	assert_int_equal(le32(v1 + 8), 512);           /* desc.len: the whole buffer, as OpenAMP */
	assert_int_equal(le16(v1 + 12), 0);            /* readable */
	assert_int_equal(le16(v1 + 256 + 2), 1);       /* avail.idx */
	static const uint8_t hdr[19] = { 0x45, 0x23, 0x01, 0x00, 0x04, 0x03, 0x02, 0x01, 0, 0, 0, 0,
					 0x03, 0x00, 0x00, 0x00, 'a', 'b', 'c' };
	assert_bytes(p->shm + h2r, hdr, sizeof(hdr), h2r);

	/* The remote's answer goes into r2h buffer 0, used.len = the whole buffer (its desc.len, as OpenAMP). */
	assert_int_equal(rpmsg_create_ept(&re, &p->remote, NULL, 0x400, RPMSG_ADDR_ANY, sink, NULL), 0);
	assert_int_equal(rpmsg_trysendto(&re, "hello", 5, 0x12345), 5);
	static const uint8_t hdr2[21] = { 0x00, 0x04, 0, 0, 0x45, 0x23, 0x01, 0x00, 0, 0, 0, 0,
					  0x05, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o' };
	assert_bytes(p->shm + 0x400, hdr2, sizeof(hdr2), 0x400);
	const uint8_t *v0 = p->shm + 0x80;
	assert_int_equal(le16(v0 + 304 + 2), 1);       /* used.idx */
	assert_int_equal(le32(v0 + 304 + 4), 0);       /* used.ring[0].id */
	assert_int_equal(le32(v0 + 304 + 8), 512);     /* used.ring[0].len */
	assert_int_equal(p->errors, 0);
	rpmsg_destroy_ept(&he);
	rpmsg_destroy_ept(&re);
	pair_free(p);
}

static char last_bind_name[RPMSG_NAME_SIZE];
static uint32_t last_bind_dest;

static void on_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	(void)rdev;
	strncpy(last_bind_name, name, sizeof(last_bind_name) - 1);
	last_bind_dest = dest;
}

static void test_ns_encoding(void **state)
{
	(void)state;
	struct pair *p = pair_new(16, 16);
	p->hcfg.ns_bind_cb = on_bind;
	assert_int_equal(rpmsg_virtio_init_remote(&p->remote, &p->rcfg), 0);
	struct rpmsg_endpoint re;
	memset(&re, 0, sizeof(re));
	/* Created before the link is up: announced when it comes up. */
	assert_int_equal(rpmsg_create_ept(&re, &p->remote, "rpmsg-demo", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, sink, NULL),
			 0);
	assert_int_equal(re.addr, 1024);
	assert_int_equal(rpmsg_virtio_init_host(&p->host, &p->hcfg), 0);
	rpmsg_virtio_notified(&p->remote);
	uint8_t want[56] = { 0x00, 0x04, 0, 0, 0x35, 0, 0, 0, 0, 0, 0, 0, 40, 0, 0, 0, 'r', 'p', 'm', 's', 'g', '-',
			     'd', 'e', 'm', 'o' };
	want[16 + 32] = 0x00, want[16 + 33] = 0x04; /* addr 1024 */
	assert_bytes(p->shm + 0x400, want, sizeof(want), 0x400); /* zero-filled after the NUL, flags 0 */
	/* The host learns it: no local endpoint yet, so ns_bind_cb, and it is remembered. */
	rpmsg_virtio_notified(&p->host);
	assert_string_equal(last_bind_name, "rpmsg-demo");
	assert_int_equal(last_bind_dest, 1024);
	assert_string_equal(p->ns_table[0].name, "rpmsg-demo");
	struct rpmsg_endpoint he;
	memset(&he, 0, sizeof(he));
	assert_int_equal(rpmsg_create_ept(&he, &p->host, "rpmsg-demo", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, sink, NULL), 0);
	assert_int_equal(he.dest_addr, 1024); /* bound from the table */
	assert_true(is_rpmsg_ept_ready(&he));
	assert_int_equal(p->ns_table[0].name[0], 0);

	/* A peer's announcement with garbage after the NUL (OpenAMP's safe_strcpy leaves stack bytes there):
	 * written by hand into the next r2h buffer the remote would use, as the remote would send it. */
	memset(last_bind_name, 0, sizeof(last_bind_name));
	struct rpmsg_endpoint he2;
	memset(&he2, 0, sizeof(he2));
	assert_int_equal(rpmsg_create_ept(&he2, &p->host, "rpmsg-openamp-demo-channel", RPMSG_ADDR_ANY,
					  RPMSG_ADDR_ANY, sink, NULL), 0);
	uint32_t bufsz = 0;
	void *b = rpmsg_get_tx_payload_buffer(&re, &bufsz, 0); /* take an r2h buffer to write into, zero-copy */
	assert_non_null(b);
	assert_int_equal(bufsz, 512 - 16);
	uint8_t ns[40] = "rpmsg-openamp-demo-channel\0\xe3\x04V\0";
	ns[32] = 0x01, ns[33] = 0x04; /* addr 1025 */
	memcpy(b, ns, 40);
	assert_int_equal(rpmsg_sendto_nocopy(&re, b, 40, RPMSG_NS_EPT_ADDR), 40);
	rpmsg_virtio_notified(&p->host);
	assert_int_equal(he2.dest_addr, 1025);
	assert_int_equal(last_bind_name[0], 0); /* taken by the endpoint: no ns_bind_cb */

	/* A name with no NUL in 32 bytes is rejected (an error, nothing bound). */
	unsigned errors = p->errors;
	b = rpmsg_get_tx_payload_buffer(&re, &bufsz, 0);
	assert_non_null(b);
	memset(ns, 'x', 32);
	memcpy(b, ns, 40);
	assert_int_equal(rpmsg_sendto_nocopy(&re, b, 40, RPMSG_NS_EPT_ADDR), 40);
	rpmsg_virtio_notified(&p->host);
	assert_int_equal(p->errors, errors + 1);
	assert_int_equal(last_bind_name[0], 0);
	/* A message to 53 of another length is ignored (counted as dropped, not an error). */
	uint32_t dropped = atomic_load(&p->host.stats.dropped);
	assert_int_equal(rpmsg_trysendto(&re, ns, 39, RPMSG_NS_EPT_ADDR), 39);
	rpmsg_virtio_notified(&p->host);
	assert_int_equal(atomic_load(&p->host.stats.dropped), dropped + 1);
	assert_int_equal(p->errors, errors + 1);

	/* DESTROY from the remote unbinds the host's endpoint. */
	rpmsg_destroy_ept(&re);
	rpmsg_virtio_notified(&p->host);
	assert_int_equal(he.dest_addr, RPMSG_ADDR_ANY);
	assert_false(is_rpmsg_ept_ready(&he));
	rpmsg_destroy_ept(&he);
	rpmsg_destroy_ept(&he2);
	pair_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_struct_layout),
		cmocka_unit_test(test_vring_layout),
		cmocka_unit_test(test_vq_index_batch),
		cmocka_unit_test(test_vq_used_batch),
		cmocka_unit_test(test_remote_table_bytes),
		cmocka_unit_test(test_remote_restart_numbering),
		cmocka_unit_test(test_linux_alignment),
		cmocka_unit_test(test_header_encoding),
		cmocka_unit_test(test_ns_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
