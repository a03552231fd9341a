/*
 * Linux compatibility: <linux/err.h>, pointers that carry an error, as Linux names them, of amplink's
 * (<amplink/mailbox_client.h>: what mbox_request_channel() and friends return):
 *
 *   ERR_PTR(err)       AMPL_ERR_PTR(err)
 *   PTR_ERR(p)         AMPL_PTR_ERR(p)
 *   IS_ERR(p)          AMPL_IS_ERR(p)
 *   IS_ERR_OR_NULL(p)  AMPL_IS_ERR_OR_NULL(p)
 *
 * A program that has these names from elsewhere (a Linux-style library of its own) leaves this header out and uses
 * either set: the values are Linux's (an errno in the last page of the address space).
 */
#ifndef AMPLINK_COMPAT_LINUX_ERR_H
#define AMPLINK_COMPAT_LINUX_ERR_H

#include <amplink/mailbox_client.h>

#define ERR_PTR(err) AMPL_ERR_PTR(err)
#define PTR_ERR(p) AMPL_PTR_ERR(p)
#define IS_ERR(p) AMPL_IS_ERR(p)
#define IS_ERR_OR_NULL(p) AMPL_IS_ERR_OR_NULL(p)

#endif /* AMPLINK_COMPAT_LINUX_ERR_H */
