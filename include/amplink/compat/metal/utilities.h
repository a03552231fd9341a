/* libmetal compatibility: <metal/utilities.h>, the macros endpoint code uses. */
#ifndef AMPLINK_COMPAT_METAL_UTILITIES_H
#define AMPLINK_COMPAT_METAL_UTILITIES_H

#include <stddef.h>

#define metal_unused(x) ((void)(x))
#define metal_dim(x) (sizeof(x) / sizeof((x)[0]))
#define metal_min(x, y) ((x) < (y) ? (x) : (y))
#define metal_max(x, y) ((x) > (y) ? (x) : (y))
#define metal_container_of(ptr, structure, member) ((structure *)(void *)((char *)(ptr) - offsetof(structure, member)))
#define metal_align_down(size, align) ((size) & ~((align) - 1))
#define metal_align_up(size, align) metal_align_down((size) + (align) - 1, align)

#endif /* AMPLINK_COMPAT_METAL_UTILITIES_H */
