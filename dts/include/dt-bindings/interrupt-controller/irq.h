/* SPDX-License-Identifier: MIT */
/*
 * amplink's own copy of the devicetree constants for the flags cell of an interrupt specifier, for board files
 * that `amplink dt check` and `amplink soc create --dts` run through the C preprocessor. The values are those of
 * the devicetree bindings (the same numbers Linux and Zephyr boards use).
 */
#ifndef AMPLINK_DT_BINDINGS_INTERRUPT_CONTROLLER_IRQ_H
#define AMPLINK_DT_BINDINGS_INTERRUPT_CONTROLLER_IRQ_H

#define IRQ_TYPE_NONE 0
#define IRQ_TYPE_EDGE_RISING 1
#define IRQ_TYPE_EDGE_FALLING 2
#define IRQ_TYPE_EDGE_BOTH (IRQ_TYPE_EDGE_FALLING | IRQ_TYPE_EDGE_RISING)
#define IRQ_TYPE_LEVEL_HIGH 4
#define IRQ_TYPE_LEVEL_LOW 8

#endif /* AMPLINK_DT_BINDINGS_INTERRUPT_CONTROLLER_IRQ_H */
