/* SPDX-License-Identifier: MIT */
/*
 * amplink's own copy of the devicetree constants for the ARM GIC's three-cell interrupt specifier
 * <type number flags>, as in `interrupts = <GIC_SPI 29 IRQ_TYPE_LEVEL_HIGH>`. The values are those of the
 * devicetree bindings.
 */
#ifndef AMPLINK_DT_BINDINGS_INTERRUPT_CONTROLLER_ARM_GIC_H
#define AMPLINK_DT_BINDINGS_INTERRUPT_CONTROLLER_ARM_GIC_H

#include <dt-bindings/interrupt-controller/irq.h>

/* cell 0: the interrupt's type (the number in cell 1 counts from 0 within the type: SPI n is GIC interrupt 32+n) */
#define GIC_SPI 0
#define GIC_PPI 1
#define GIC_ESPI 2
#define GIC_EPPI 3

/* cell 2: the flags of irq.h; for a PPI on GICv1/v2, bits 8-15 select the CPUs it goes to */
#define GIC_CPU_MASK_RAW(x) ((x) << 8)
#define GIC_CPU_MASK_SIMPLE(num) GIC_CPU_MASK_RAW((1 << (num)) - 1)

#endif /* AMPLINK_DT_BINDINGS_INTERRUPT_CONTROLLER_ARM_GIC_H */
