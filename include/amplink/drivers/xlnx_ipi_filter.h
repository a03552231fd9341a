/*
 * Acceptance filters on the receive path of the Xilinx IPI driver (include/amplink/drivers/xlnx_ipi.h).
 *
 * Terminology
 *   filter   one table of rules and a default action; attached to one or more destinations' RX channels (one
 *            table may serve every destination of a local agent: rules name the source agents they apply to)
 *   rule     a source-agent mask, an id match (the request's first 32-bit word, little-endian) and a mask/match on
 *            the request's first XLNX_IPI_FILTER_BYTES bytes; the first rule that matches decides
 *   action   accept (the client's rx_callback runs), refuse-ack (acknowledged unread: the sender's TX completes),
 *            refuse-hold (left pending and masked: the sender stays busy until xlnx_ipi_filter_release())
 *
 *   sender                    interrupt handler (receiver)                     receiver's thread
 *     ipm_send(wait=1) --TRIG-->  copy request; xlnx_ipi_filter_check()
 *                                 accept      -> rx_callback, ack
 *       <---- ack (OBS drops) --  refuse-ack  -> counted, ack (nothing delivered)
 *       (still waiting)           refuse-hold -> counted, masked, pending  --> xlnx_ipi_filter_release(deliver)
 *       <---- ack ----------------------------------------------------------- (deliver: rx_callback runs, then ack)
 *
 * A refused message is never lost silently: it is counted (per rule and in total), and either its sender learns
 * it was consumed (refuse-ack) or it stays pending where `amplink soc regs` and the sender see it (refuse-hold).
 * Filters see requests only: doorbells of a destination in signalling mode (xlnx_ipi_mbox_set_signalling) are
 * acknowledged before anything is read, and are not filtered. A bufferless destination's requests have no bytes:
 * a rule with a non-zero id_mask or data mask never matches them.
 *
 * Portable: no heap, no libc. The hook in the driver's receive path is compiled with AMPL_CONFIG_IPI_FILTER (on in
 * the host build, off by default in the freestanding core: option AMPL_IPI_FILTER, so the driver's size does not
 * change unless a firmware asks for it); without it only xlnx_ipi_filter_attach() / _release() (-ENOTSUP) and
 * xlnx_ipi_filter_held() (false) are built.
 */
#ifndef AMPLINK_DRIVERS_XLNX_IPI_FILTER_H
#define AMPLINK_DRIVERS_XLNX_IPI_FILTER_H

#include <amplink/port.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xlnx_ipi_mbox;
struct mbox_chan;

#define XLNX_IPI_FILTER_MAX_RULES 8u
#define XLNX_IPI_FILTER_BYTES 16u /* bytes of the request a rule's mask/match covers */

/** What happens to a request. */
enum xlnx_ipi_filter_action {
	XLNX_IPI_FILTER_ACCEPT = 0,      /* delivered to the client */
	XLNX_IPI_FILTER_REFUSE_ACK = 1,  /* acknowledged without delivery: the sender's send completes */
	XLNX_IPI_FILTER_REFUSE_HOLD = 2, /* kept pending and masked until xlnx_ipi_filter_release() */
};

/**
 * struct xlnx_ipi_filter_rule - one rule. It matches a request when all of:
 *   @src_mask is 0, or has the source agent's bit (ampl_ipi_mask());
 *   (first word & @id_mask) == (@id & @id_mask), the first word read little-endian (@id_mask 0: any);
 *   (byte[i] & @mask[i]) == (@match[i] & @mask[i]) for i < XLNX_IPI_FILTER_BYTES (all-zero @mask: any).
 * @hits counts the requests it decided (read-only for the user, written by the interrupt handler).
 */
struct xlnx_ipi_filter_rule {
	uint32_t src_mask;
	uint32_t id;
	uint32_t id_mask;
	uint8_t match[XLNX_IPI_FILTER_BYTES];
	uint8_t mask[XLNX_IPI_FILTER_BYTES];
	enum xlnx_ipi_filter_action action;
	AMPL_ATOMIC(uint32_t) hits;
};

/**
 * struct xlnx_ipi_filter - a table. Public: @rules, @num_rules, @dflt (set them with the filter detached, or
 * through xlnx_ipi_filter_add_rule() / xlnx_ipi_filter_init() before attaching). Read-only counters: @accepted,
 * @refused (requests refused, by a rule or by the default), @refused_default (by the default action), @held (held
 * requests released since). The caller owns the memory; it must outlive every destination it is attached to.
 */
struct xlnx_ipi_filter {
	struct xlnx_ipi_filter_rule rules[XLNX_IPI_FILTER_MAX_RULES];
	unsigned num_rules;
	enum xlnx_ipi_filter_action dflt;
	AMPL_ATOMIC(uint32_t) accepted;
	AMPL_ATOMIC(uint32_t) refused;
	AMPL_ATOMIC(uint32_t) refused_default;
	AMPL_ATOMIC(uint32_t) released;
};

/** xlnx_ipi_filter_init() - an empty table with default action @dflt, counters zero. Return: 0; -EINVAL. */
int xlnx_ipi_filter_init(struct xlnx_ipi_filter *f, enum xlnx_ipi_filter_action dflt);

/**
 * xlnx_ipi_filter_add_rule() - append a copy of @rule (its hits are reset). Not while @f is attached to a
 * destination whose interrupts run. Return: 0; -EINVAL (NULL, or an unknown action); -ENOSPC (table full).
 */
int xlnx_ipi_filter_add_rule(struct xlnx_ipi_filter *f, const struct xlnx_ipi_filter_rule *rule);

/**
 * xlnx_ipi_filter_check() - the decision for a request from source bit @src_bit (0..31) with @len bytes of
 * @data (@len 0: no bytes; @data may then be NULL). Counts it. Pure computation on @f; the driver's hook calls it.
 * Context: any (interrupt). Return: the action.
 */
enum xlnx_ipi_filter_action xlnx_ipi_filter_check(struct xlnx_ipi_filter *f, unsigned src_bit, const uint8_t *data,
						  size_t len);

/**
 * xlnx_ipi_filter_attach() - filter the requests of destination @m through @f (NULL: detach, accept everything).
 * Set it while the destination's RX channel has no request being delivered (before enabling, typically).
 * Return: 0; -EINVAL (@m NULL); -ENOTSUP (built without AMPL_CONFIG_IPI_FILTER). Context: thread.
 */
int xlnx_ipi_filter_attach(struct xlnx_ipi_mbox *m, struct xlnx_ipi_filter *f);

/** xlnx_ipi_filter_held() - true while a request of @m is held by its filter (refuse-hold). Context: any. */
bool xlnx_ipi_filter_held(struct xlnx_ipi_mbox *m);

/**
 * xlnx_ipi_filter_release() - end the hold of a request refused with refuse-hold: @deliver true hands it to the
 * client (rx_callback runs in the interrupt context as for any request, without a second filter check); false
 * acknowledges it undelivered (the sender's send completes). Counted in the filter's @released.
 * Return: 0; -EINVAL (@m NULL); -EALREADY (no request of @m is held by the filter); -ENOTSUP (built without the
 * filter). Context: thread or interrupt.
 */
int xlnx_ipi_filter_release(struct xlnx_ipi_mbox *m, bool deliver);

/** xlnx_ipi_filter_action_name() - "accept", "refuse-ack", "refuse-hold" (or "?"). */
const char *xlnx_ipi_filter_action_name(enum xlnx_ipi_filter_action a);

/** xlnx_ipi_filter_action_parse() - the inverse of xlnx_ipi_filter_action_name(). Return: 0; -EINVAL. */
int xlnx_ipi_filter_action_parse(const char *s, enum xlnx_ipi_filter_action *a);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_DRIVERS_XLNX_IPI_FILTER_H */
