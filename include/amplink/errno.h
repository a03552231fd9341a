/*
 * amplink error codes.
 *
 * Every amplink call returns 0 or a positive count on success and a negative errno value on failure, with the
 * codes of the API it mirrors (Zephyr IPM, Linux mailbox, Zephyr IPC service).
 *
 * On a hosted build the values are the C library's <errno.h> values, so `ret == -EBUSY` works as users expect.
 * A freestanding build with no <errno.h> (RV32 with -nostdlib) gets the Linux values below. AMPL_EPROBE_DEFER is
 * Linux's kernel-internal code for "provider not registered yet" and has no libc name.
 *
 * The list is one X-macro so names and messages never drift apart.
 */
#ifndef AMPLINK_ERRNO_H
#define AMPLINK_ERRNO_H

#if defined(__has_include)
#if __has_include(<errno.h>) && !defined(AMPL_NO_LIBC_ERRNO)
#include <errno.h>
#endif
#endif

/*
 * AMPL_ERROR_TEXT (compile-time option): 1, the default: a protocol layer's error() callback gets a sentence naming
 * what the peer did wrong. 0: it gets one short text per layer ("icmsg: peer error"), which leaves the sentences out
 * of a firmware image (about 0.35 KB with ICMsg, 0.8 KB with the multi-endpoint backend; `make cross` reports it).
 * The protocols behave the same either way.
 */
#ifndef AMPL_ERROR_TEXT
#define AMPL_ERROR_TEXT 1
#endif
#define AMPL_ERR_TEXT(short_, long_) (AMPL_ERROR_TEXT ? (long_) : (short_))

#ifdef __cplusplus
extern "C" {
#endif

/*      name          linux  message */
#define AMPL_ERRNO_LIST(X)                                                          \
	X(EPERM,         1, "operation not permitted")                               \
	X(ENOENT,        2, "no such object")                                        \
	X(EIO,           5, "input/output error")                                    \
	X(EINTR,         4, "interrupted")                                           \
	X(ENXIO,         6, "not obtained from this object")                         \
	X(EBADF,         9, "not open")                                              \
	X(EAGAIN,       11, "try again")                                             \
	X(ENOMEM,       12, "out of memory")                                         \
	X(EFAULT,       14, "bad address")                                           \
	X(EBUSY,        16, "busy: the previous request is still pending")           \
	X(EEXIST,       17, "already exists")                                        \
	X(ENODEV,       19, "no such device")                                        \
	X(EINVAL,       22, "invalid argument")                                      \
	X(ENOSPC,       28, "no space left")                                         \
	X(ERANGE,       34, "out of range")                                          \
	X(ENOSYS,       38, "operation not implemented")                             \
	X(ENODATA,      61, "no data available")                                     \
	X(ETIME,        62, "timer expired")                                         \
	X(EBADMSG,      74, "bad message")                                           \
	X(EMSGSIZE,     90, "message too long for the buffer")                       \
	X(ENOTSUP,      95, "operation not supported")                               \
	X(ENOBUFS,     105, "no buffer space available")                             \
	X(ESHUTDOWN,   108, "endpoint or peer is shut down")                         \
	X(ETIMEDOUT,   110, "timed out")                                             \
	X(EALREADY,    114, "already in that state")                                 \
	X(ECANCELED,   125, "operation canceled")

#define AMPL_ERRNO_FALLBACK_(name, val, msg) enum { AMPL_LINUX_##name = (val) };
AMPL_ERRNO_LIST(AMPL_ERRNO_FALLBACK_)
#undef AMPL_ERRNO_FALLBACK_

#ifndef EPERM
#define EPERM AMPL_LINUX_EPERM
#endif
#ifndef ENOENT
#define ENOENT AMPL_LINUX_ENOENT
#endif
#ifndef EIO
#define EIO AMPL_LINUX_EIO
#endif
#ifndef EINTR
#define EINTR AMPL_LINUX_EINTR
#endif
#ifndef ENXIO
#define ENXIO AMPL_LINUX_ENXIO
#endif
#ifndef EBADF
#define EBADF AMPL_LINUX_EBADF
#endif
#ifndef EAGAIN
#define EAGAIN AMPL_LINUX_EAGAIN
#endif
#ifndef ENOMEM
#define ENOMEM AMPL_LINUX_ENOMEM
#endif
#ifndef EFAULT
#define EFAULT AMPL_LINUX_EFAULT
#endif
#ifndef EBUSY
#define EBUSY AMPL_LINUX_EBUSY
#endif
#ifndef EEXIST
#define EEXIST AMPL_LINUX_EEXIST
#endif
#ifndef ENODEV
#define ENODEV AMPL_LINUX_ENODEV
#endif
#ifndef EINVAL
#define EINVAL AMPL_LINUX_EINVAL
#endif
#ifndef ENOSPC
#define ENOSPC AMPL_LINUX_ENOSPC
#endif
#ifndef ERANGE
#define ERANGE AMPL_LINUX_ERANGE
#endif
#ifndef ENOSYS
#define ENOSYS AMPL_LINUX_ENOSYS
#endif
#ifndef ENODATA
#define ENODATA AMPL_LINUX_ENODATA
#endif
#ifndef ETIME
#define ETIME AMPL_LINUX_ETIME
#endif
#ifndef EBADMSG
#define EBADMSG AMPL_LINUX_EBADMSG
#endif
#ifndef EMSGSIZE
#define EMSGSIZE AMPL_LINUX_EMSGSIZE
#endif
#ifndef ENOTSUP
#define ENOTSUP AMPL_LINUX_ENOTSUP
#endif
#ifndef ENOBUFS
#define ENOBUFS AMPL_LINUX_ENOBUFS
#endif
#ifndef ESHUTDOWN
#define ESHUTDOWN AMPL_LINUX_ESHUTDOWN
#endif
#ifndef ETIMEDOUT
#define ETIMEDOUT AMPL_LINUX_ETIMEDOUT
#endif
#ifndef EALREADY
#define EALREADY AMPL_LINUX_EALREADY
#endif
#ifndef ECANCELED
#define ECANCELED AMPL_LINUX_ECANCELED
#endif

/** "The provider (controller) is not registered yet; try again later" (Linux -EPROBE_DEFER). */
#define AMPL_EPROBE_DEFER 517

/**
 * ampl_strerror() - a short English message for an amplink return code.
 * @err: a return code, negative or positive (the sign is ignored).
 *
 * Context: any, including interrupt. Never returns NULL; unknown codes give "unknown error".
 */
const char *ampl_strerror(int err);

/** ampl_errname() - the symbolic name ("EBUSY") of a return code, or "E?" if unknown. Context: any. */
const char *ampl_errname(int err);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_ERRNO_H */
