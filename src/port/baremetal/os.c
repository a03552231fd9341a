/*
 * Bare-metal defaults of the scheduling hooks: spinning, with a poll counter standing in for a clock. Every
 * definition is weak: a firmware port defines its own (a hardware timer for ampl_os_uptime_us(), WFE/SEV or an
 * RTOS semaphore for wait/wake) and the linker takes those.
 */
#include <amplink/mailbox_controller.h>
#include <amplink/port.h>

static volatile uint64_t fake_clock_us;

__attribute__((weak)) uint64_t ampl_os_uptime_us(void)
{
	/* No clock known: advance one microsecond per call, so bounded waits stay bounded. */
	return fake_clock_us++;
}

__attribute__((weak)) int ampl_os_wait(_Atomic uint32_t *word, uint32_t seen, uint32_t timeout_us)
{
	uint64_t start = ampl_os_uptime_us();
	while (atomic_load_explicit(word, memory_order_acquire) == seen) {
		if (timeout_us != UINT32_MAX && ampl_os_uptime_us() - start >= timeout_us)
			return -ETIMEDOUT;
		ampl_cpu_relax();
	}
	return 0;
}

__attribute__((weak)) void ampl_os_wake(_Atomic uint32_t *word)
{
	(void)word; /* waiters spin on the word itself */
}

__attribute__((weak)) void ampl_mbox_poll_kick(struct mbox_controller *mbox)
{
	(void)mbox; /* the application's periodic timer calls mbox_controller_poll() */
}

__attribute__((weak)) void ampl_mbox_poll_attach(struct mbox_controller *mbox)
{
	(void)mbox; /* no ticker of its own to start */
}

__attribute__((weak)) void ampl_mbox_poll_detach(struct mbox_controller *mbox)
{
	(void)mbox;
}

#if AMPL_CONFIG_TRACE
#include <amplink/trace.h>

/* Trace points compiled in (-DAMPL_CONFIG_TRACE=1) without a sink of the port's own: off, and nothing recorded. */
__attribute__((weak)) AMPL_ATOMIC(uint32_t) ampl_trace_on;

__attribute__((weak)) void ampl_trace_emit(unsigned ev, const void *obj, int32_t val)
{
	(void)ev;
	(void)obj;
	(void)val;
}
#endif
