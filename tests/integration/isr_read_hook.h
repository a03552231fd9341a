/*
 * test_irq_routing: the ISR reads of the IPI model (src/sim/ipi_model.c) call isr_read_hook() after they found a
 * request pending and before they remember it, so that a test can stall one there, as a preemption of another
 * line's handler would. Force-included (-include) into the build of ipi_model.c that test_irq_routing links
 * (tests/CMakeLists.txt); the library's ipi_model.c stays out of that link.
 */
#ifndef AMPL_TEST_ISR_READ_HOOK_H
#define AMPL_TEST_ISR_READ_HOOK_H

#include <stdint.h>

void isr_read_hook(unsigned bit, uint32_t raised);
#define SIM_ISR_PENDING_HOOK(b, r) isr_read_hook((b), (r))

#endif /* AMPL_TEST_ISR_READ_HOOK_H */
