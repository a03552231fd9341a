/*
 * Acceptance filters of the IPI receive path (include/amplink/drivers/xlnx_ipi_filter.h). Portable: no heap, no
 * libc. The table is read by the interrupt handler only; rules are set while it is detached (or before enable).
 */
#include <amplink/bytes.h>
#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/drivers/xlnx_ipi_filter.h>
#include <amplink/trace.h>

#include "xlnx_ipi_filter_hook.h"

#ifdef AMPL_CONFIG_IPI_FILTER

static bool action_ok(enum xlnx_ipi_filter_action a)
{
	return a == XLNX_IPI_FILTER_ACCEPT || a == XLNX_IPI_FILTER_REFUSE_ACK || a == XLNX_IPI_FILTER_REFUSE_HOLD;
}

int xlnx_ipi_filter_init(struct xlnx_ipi_filter *f, enum xlnx_ipi_filter_action dflt)
{
	if (!f || !action_ok(dflt))
		return -EINVAL;
	ampl_memset(f, 0, sizeof(*f));
	f->dflt = dflt;
	return 0;
}

int xlnx_ipi_filter_add_rule(struct xlnx_ipi_filter *f, const struct xlnx_ipi_filter_rule *rule)
{
	if (!f || !rule || !action_ok(rule->action) || f->num_rules > XLNX_IPI_FILTER_MAX_RULES)
		return -EINVAL;
	if (f->num_rules == XLNX_IPI_FILTER_MAX_RULES)
		return -ENOSPC;
	struct xlnx_ipi_filter_rule *r = &f->rules[f->num_rules];
	r->src_mask = rule->src_mask;
	r->id = rule->id;
	r->id_mask = rule->id_mask;
	for (unsigned i = 0; i < XLNX_IPI_FILTER_BYTES; i++) {
		r->match[i] = rule->match[i];
		r->mask[i] = rule->mask[i];
	}
	r->action = rule->action;
	atomic_store(&r->hits, 0);
	f->num_rules++;
	return 0;
}

static bool rule_matches(const struct xlnx_ipi_filter_rule *r, unsigned src_bit, const uint8_t *data, size_t len)
{
	if (r->src_mask && !(r->src_mask & (1u << src_bit)))
		return false;
	if (r->id_mask) {
		/* The id field is the first word: a request shorter than it has none, and the rule does not match. */
		if (len < 4)
			return false;
		if ((ampl_get_le32(data) & r->id_mask) != (r->id & r->id_mask))
			return false;
	}
	for (unsigned i = 0; i < XLNX_IPI_FILTER_BYTES; i++) {
		if (!r->mask[i])
			continue;
		if (i >= len || (data[i] & r->mask[i]) != (r->match[i] & r->mask[i]))
			return false;
	}
	return true;
}

enum xlnx_ipi_filter_action xlnx_ipi_filter_check(struct xlnx_ipi_filter *f, unsigned src_bit, const uint8_t *data,
						  size_t len)
{
	/* num_rules is the caller's (set while detached), but bound it anyway: the table may live in memory a bug
	 * elsewhere wrote, and an out-of-range index here would read past it in interrupt context. */
	unsigned n = f->num_rules < XLNX_IPI_FILTER_MAX_RULES ? f->num_rules : XLNX_IPI_FILTER_MAX_RULES;
	if (src_bit > 31)
		src_bit = 31;
	if (!data)
		len = 0;
	enum xlnx_ipi_filter_action a = f->dflt;
	bool by_rule = false;
	for (unsigned i = 0; i < n; i++) {
		struct xlnx_ipi_filter_rule *r = &f->rules[i];
		if (rule_matches(r, src_bit, data, len)) {
			atomic_fetch_add_explicit(&r->hits, 1, memory_order_relaxed);
			a = r->action;
			by_rule = true;
			break;
		}
	}
	if (!action_ok(a))
		a = XLNX_IPI_FILTER_REFUSE_HOLD; /* a corrupted action refuses, and keeps the request where it is seen */
	if (a == XLNX_IPI_FILTER_ACCEPT) {
		atomic_fetch_add_explicit(&f->accepted, 1, memory_order_relaxed);
	} else {
		atomic_fetch_add_explicit(&f->refused, 1, memory_order_relaxed);
		if (!by_rule)
			atomic_fetch_add_explicit(&f->refused_default, 1, memory_order_relaxed);
	}
	return a;
}

const char *xlnx_ipi_filter_action_name(enum xlnx_ipi_filter_action a)
{
	switch (a) {
	case XLNX_IPI_FILTER_ACCEPT:
		return "accept";
	case XLNX_IPI_FILTER_REFUSE_ACK:
		return "refuse-ack";
	case XLNX_IPI_FILTER_REFUSE_HOLD:
		return "refuse-hold";
	}
	return "?";
}

int xlnx_ipi_filter_action_parse(const char *s, enum xlnx_ipi_filter_action *a)
{
	if (!s || !a)
		return -EINVAL;
	for (int i = XLNX_IPI_FILTER_ACCEPT; i <= XLNX_IPI_FILTER_REFUSE_HOLD; i++) {
		if (ampl_str_eq(s, xlnx_ipi_filter_action_name((enum xlnx_ipi_filter_action)i))) {
			*a = (enum xlnx_ipi_filter_action)i;
			return 0;
		}
	}
	return -EINVAL;
}

int xlnx_ipi_filter_attach(struct xlnx_ipi_mbox *m, struct xlnx_ipi_filter *f)
{
	if (!m)
		return -EINVAL;
	atomic_store(&m->filter, f);
	return 0;
}

bool xlnx_ipi_filter_held(struct xlnx_ipi_mbox *m)
{
	return m && atomic_load(&m->filter_held);
}

int xlnx_ipi_filter_release(struct xlnx_ipi_mbox *m, bool deliver)
{
	if (!m)
		return -EINVAL;
	if (!atomic_exchange(&m->filter_held, false))
		return -EALREADY;
	struct xlnx_ipi_filter *f = atomic_load(&m->filter);
	if (f)
		atomic_fetch_add_explicit(&f->released, 1, memory_order_relaxed);
	struct mbox_chan *rx = &m->chans[XLNX_IPI_RX_CHAN];
	if (deliver) {
		/* Set before the unmask in redeliver: the handler that sees the request again skips the filter. */
		atomic_store(&m->filter_pass, true);
		ampl_mbox_redeliver(rx);
	} else {
		ampl_mbox_ack(rx);
	}
	return 0;
}

/* The filter's decision @a about request @bit, traced: out of line, so that the untraced hook keeps nothing for it. */
AMPL_TRACED_PATH static void decided_traced(struct xlnx_ipi_mbox *m, enum xlnx_ipi_filter_action a, uint32_t bit)
{
	AMPL_TRACE_EMIT(a == XLNX_IPI_FILTER_ACCEPT ? AMPL_EV_FILTER_ACCEPT : AMPL_EV_FILTER_REFUSE, m,
			__builtin_ctz(bit));
}

bool xlnx_ipi_filter_hook(struct xlnx_ipi_mbox *m, uint32_t bit)
{
	struct xlnx_ipi_filter *f = atomic_load_explicit(&m->filter, memory_order_acquire);
	if (!f)
		return false;
	if (atomic_exchange(&m->filter_pass, false))
		return false; /* released for delivery: decided already */
	enum xlnx_ipi_filter_action a = xlnx_ipi_filter_check(f, (unsigned)__builtin_ctz(bit), m->rx_msg.data,
							     m->rx_msg.len);
	if (AMPL_TRACING())
		decided_traced(m, a, bit);
	const struct ampl_io_region *regs = &m->host->regs;
	if (a == XLNX_IPI_FILTER_REFUSE_ACK) {
		/* Acknowledged unread: the sender's request completes (it is counted here, not delivered). */
		ampl_mb();
		ampl_io_write32(regs, AMPL_IPI_ISR, bit);
		return true;
	}
	if (a == XLNX_IPI_FILTER_REFUSE_HOLD) {
		/* As the hold op: masked so it does not fire again; held keeps rx_enable from unmasking it.
		 * filter_held is set last: a release that sees it finds the mask and held in place. */
		ampl_io_write32(regs, AMPL_IPI_IDR, bit);
		atomic_store(&m->held, true);
		atomic_store(&m->filter_held, true);
		return true;
	}
	return false;
}

#else /* !AMPL_CONFIG_IPI_FILTER: no filter in the receive path; the entry points answer that */

int xlnx_ipi_filter_attach(struct xlnx_ipi_mbox *m, struct xlnx_ipi_filter *f)
{
	(void)f;
	return m ? -ENOTSUP : -EINVAL;
}

bool xlnx_ipi_filter_held(struct xlnx_ipi_mbox *m)
{
	(void)m;
	return false;
}

int xlnx_ipi_filter_release(struct xlnx_ipi_mbox *m, bool deliver)
{
	(void)deliver;
	return m ? -ENOTSUP : -EINVAL;
}

#endif
