/*
 * The acceptance filter's hook in the IPI driver's receive path (xlnx_ipi.c -> xlnx_ipi_filter.c). Private.
 */
#ifndef AMPLINK_XLNX_IPI_FILTER_HOOK_H
#define AMPLINK_XLNX_IPI_FILTER_HOOK_H

#include <amplink/drivers/xlnx_ipi.h>

/**
 * xlnx_ipi_filter_hook() - run @m's filter on the request just copied into m->rx_msg (source bit mask @bit).
 * Return: false to deliver it; true when it was refused, and already acknowledged (refuse-ack) or masked and marked
 * held (refuse-hold). Context: interrupt (xlnx_ipi_isr).
 */
bool xlnx_ipi_filter_hook(struct xlnx_ipi_mbox *m, uint32_t bit);

#endif /* AMPLINK_XLNX_IPI_FILTER_HOOK_H */
