/* OpenAMP compatibility: <openamp/rpmsg.h>, amplink's RPMsg API (see <openamp/open_amp.h>). */
#ifndef AMPLINK_COMPAT_OPENAMP_RPMSG_H
#define AMPLINK_COMPAT_OPENAMP_RPMSG_H

#include <amplink/ipc/rpmsg.h>
#include <metal/utilities.h>

#endif /* AMPLINK_COMPAT_OPENAMP_RPMSG_H */
