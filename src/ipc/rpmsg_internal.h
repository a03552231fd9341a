/*
 * Private interface between the role-independent RPMsg core (rpmsg.c) and its two roles (rpmsg_host.c, the virtio
 * driver; rpmsg_remote.c, the virtio device). A remote-only image links rpmsg.c and rpmsg_remote.c only: the core
 * reaches the role through the ops table that the role's init installs.
 *
 * Locking: "lock held" functions run under rdev->lock. Those taking `unsigned *key` may drop it around a user
 * callback and take it again (*key updated); they return with it held. rpmsg_unlock() sends the kicks, wakes the
 * event waiters and reports the error noted meanwhile, so the notify hook, the futex wake and the error callback
 * never run under the lock.
 */
#ifndef AMPLINK_SRC_IPC_RPMSG_INTERNAL_H
#define AMPLINK_SRC_IPC_RPMSG_INTERNAL_H

#include <amplink/cache.h>
#include <amplink/ipc/rpmsg.h>

enum {
	SLOT_FREE = 0,
	SLOT_HELD_RX,     /* an RX buffer the application holds */
	SLOT_RESERVED_TX, /* a TX buffer reserved by rpmsg_get_tx_payload_buffer() */
	SLOT_SPARE_TX,    /* remote: a reserved TX buffer released unsent, reused by the next send */
};

/* Endpoint pending work (ept->pend). */
#define EPT_ANNOUNCE 1u
#define EPT_UNBIND 2u

/* rdev->kick_mask: bit i notifies rdev->notifyid[i]; KICK_WAKE wakes the waiters of rdev->event. */
#define KICK_VDEV 1u
#define KICK_VQ0 2u
#define KICK_VQ1 4u
#define KICK_WAKE 8u

/* Offsets inside the vdev entry and the session entry. */
#define VDEV_GFEATURES 16u
#define VDEV_STATUS 24u
#define VDEV_VRING(i) (28u + 20u * (i))
#define SESS_MAGIC 8u
#define SESS_REMOTE_SID 12u
#define SESS_HOST_SID 16u
#define SESS_HOST_ACK 20u

#define RPMSG_UP(rdev) atomic_load_explicit(&(rdev)->up, memory_order_relaxed)
/* ept->dest_addr: written under the lock, read anywhere. */
#define SET_DEST(e, v) __atomic_store_n(&(e)->dest_addr, (v), __ATOMIC_RELAXED)
#define GET_DEST(e) __atomic_load_n(&(e)->dest_addr, __ATOMIC_RELAXED)

/* Error messages (string literals: the copies in both roles are merged at link time). With AMPL_ERROR_TEXT 0 every
 * protocol error of this layer reports the one short text. */
#define RPMSG_ERR_TEXT(t) AMPL_ERR_TEXT("rpmsg: peer error", t)
#define RPMSG_ERR_VQ0 RPMSG_ERR_TEXT("rpmsg: corrupt vring0")
#define RPMSG_ERR_VQ1 RPMSG_ERR_TEXT("rpmsg: corrupt vring1")

/*
 * Handshake words (status byte, session ids): release stores and acquire loads, so that what a side wrote before
 * publishing a word (the zeroed vrings, the posted buffers, the table) is seen by the side that reads it.
 */
static inline void rsc_put32_rel(uint8_t *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)(void *)p, ampl_le32(v), __ATOMIC_RELEASE);
	ampl_cache_clean(p, 4);
}

static inline void rsc_put8_rel(uint8_t *p, uint8_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
	ampl_cache_clean(p, 1);
}

static inline uint32_t rsc_get32_acq(uint8_t *p)
{
	ampl_cache_invalidate(p, 4);
	return ampl_le32(__atomic_load_n((uint32_t *)(void *)p, __ATOMIC_ACQUIRE));
}

static inline uint8_t rsc_get8_acq(uint8_t *p)
{
	ampl_cache_invalidate(p, 1);
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Lock held: count into a stats word (written only under the lock, read by anyone). */
static inline void rpmsg_count(_Atomic uint32_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1u, memory_order_relaxed);
}

struct rpmsg_virtio_ops {
	/* Lock held, rpmsg_virtio_notified()'s work, serialised: link check, RX, rpmsg_after_rx(). */
	void (*process)(struct rpmsg_device *rdev, unsigned *key);
	/* Lock held, link up: take a TX buffer with room for @need payload bytes into *b.
	 * 0; RPMSG_ERR_NO_BUFF; RPMSG_ERR_BUFF_SIZE (nothing taken); RPMSG_ERR_DEV_STATE. */
	int (*get_tx)(struct rpmsg_device *rdev, struct rpmsg_buf_slot *b, uint32_t need);
	/* Zero-copy only (AMPL_RPMSG_ZERO_COPY), lock held: undo the get_tx() just done (same lock section). */
	void (*untake_tx)(struct rpmsg_device *rdev, const struct rpmsg_buf_slot *b);
	/* Zero-copy only, lock held: a reserved slot is given back unsent. */
	void (*release_tx)(struct rpmsg_device *rdev, struct rpmsg_buf_slot *s);
	/* Lock held: publish a filled TX buffer with @len payload bytes (header written and cleaned). */
	void (*put_tx)(struct rpmsg_device *rdev, const struct rpmsg_buf_slot *b, uint32_t len);
	/* Lock held, link up: give RX buffer @desc back to the peer; @len is its whole length, as delivered. */
	void (*put_rx)(struct rpmsg_device *rdev, uint16_t desc, uint32_t len);
	/* Lock held, link up: @want kicks when TX buffers come back (clear our suppression flag) or not. */
	void (*arm)(struct rpmsg_device *rdev, bool want);
	/* Optional, lock held: the table of unclaimed announcements (rpmsg_ns_table()). */
	void (*ns_table)(struct rpmsg_device *rdev, const char *name, uint32_t *addr, int op);
	/* Optional, lock held: a message to address 53 (rpmsg_ns_rx()); NULL: such messages are dropped. */
	void (*ns_rx)(struct rpmsg_device *rdev, const uint8_t *p, uint32_t len, unsigned *key);
};

enum {
	NS_REMEMBER, /* forget @name, then remember it at *addr unless *addr is RPMSG_ADDR_ANY */
	NS_TAKE,     /* forget @name; if *addr is RPMSG_ADDR_ANY, set it to the remembered address */
	NS_CLEAR,    /* forget everything */
};
void rpmsg_ns_table(struct rpmsg_device *rdev, const char *name, uint32_t *addr, int op);
void rpmsg_ns_rx(struct rpmsg_device *rdev, const uint8_t *p, uint32_t len, unsigned *key);

unsigned rpmsg_lock(struct rpmsg_device *rdev);
void rpmsg_unlock(struct rpmsg_device *rdev, unsigned key);
/* Lock held: count a protocol error; reported once the lock is dropped. */
void rpmsg_note(struct rpmsg_device *rdev, const char *msg);
/* Lock held: bump rdev->event and wake its waiters once the lock is dropped. */
void rpmsg_wake(struct rpmsg_device *rdev);
int rpmsg_common_init(struct rpmsg_device *rdev, const struct rpmsg_virtio_config *cfg, int role,
		      const struct rpmsg_virtio_ops *ops);
/* Lock held, process context: take the link down (unbind, fail waiters, forget holds); no-op if down. */
void rpmsg_link_down(struct rpmsg_device *rdev, unsigned *key);
/* Lock held, process context, once the role has its rings ready: link up, user callback, announcements. */
void rpmsg_link_up(struct rpmsg_device *rdev, unsigned *key);
/* Lock held, process context: deliver the message in RX buffer @desc at @buf (@buflen >= 16 bytes: the remote's
 * desc.len, the host's used.len, checked against its buffer size), and give the buffer back unless held. */
void rpmsg_deliver(struct rpmsg_device *rdev, uint16_t desc, uint8_t *buf, uint32_t buflen, unsigned *key);
/* Lock held, process context, end of a pass: wake waiters if any, retry deferred announcements. */
void rpmsg_after_rx(struct rpmsg_device *rdev);

#endif /* AMPLINK_SRC_IPC_RPMSG_INTERNAL_H */
