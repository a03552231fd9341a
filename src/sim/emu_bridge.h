/*
 * The bridge between the virtual SoC's IPI and firmware under the emulator. Private to the host library.
 *
 * The bridge attaches to the SoC as the firmware's agent (e.g. rpu0) with the ordinary agent API, so the other
 * agents' processes see an ordinary processor: their ipm_send(), ipc_service_send() and rpmsg_send() are unchanged.
 * For each remote agent given (mailbox channel i of <amplink/emu.h>), it takes that destination's two IPI channels
 * as a mailbox client and relays:
 *
 *   remote's TRIG -> rpu0      request mode: the 32-byte request is held (not acknowledged), copied to the
 *                              channel's to_fw slot, the firmware rung; when the firmware acknowledges, its response
 *                              is copied into the IPI response buffer and only then the request acknowledged (the
 *                              sender's ipm_send(wait) returns and reads the response).
 *                              doorbell mode (the destination in signalling mode, as ICMsg's instances set it): the
 *                              IPI acknowledges first, then the firmware is rung (clear before drain, end to end).
 *   firmware's ring            to_host slot moved: request mode, its 32 bytes go out as an IPI request and the
 *                              response comes back into the slot when the remote acknowledged; doorbell mode,
 *                              one TRIG (or a coalesced one, as the signalling IPI does).
 *
 * The firmware's rings arrive through the host doorbell (struct ampl_emu_link, interrupt or polling mode, its own
 * receive thread); the IPI's through the agent's interrupt thread. The regions the protocols use are the SoC's
 * reserved memory backed by the emulator's RAM file (ampl_soc_create_opts()), so no data is copied but the IPI's
 * 32-byte buffers.
 *
 *     ampl_emu_qemu_start(&q, &cfg{ .prepare = prepare })   prepare: ampl_emu_bridge_soc_create() +
 *                                                                    ampl_emu_bridge_write_mbox()
 *     ampl_emu_bridge_start(&b, &bcfg, &q)                  the SoC's rpu0 is up; other processes attach as usual
 *     ...
 *     ampl_emu_bridge_stop(&b); ampl_emu_qemu_stop(&q, ...); ampl_soc_destroy(name)
 *
 * Contexts: thread.
 */
#ifndef AMPL_SIM_EMU_BRIDGE_H
#define AMPL_SIM_EMU_BRIDGE_H

#include <pthread.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/emu.h>
#include <amplink/host/soc.h>

#include "sim/emu_link.h"

/**
 * struct ampl_emu_bridge_config - @soc: the SoC's name; @agent: the firmware's agent ("rpu0"); @remotes and @modes:
 * channel i relays to agent @remotes[i] in mode @modes[i] (AMPL_EMU_CHAN_REQUEST for IPM, _DOORBELL for ICMsg and
 * RPMsg), @num_chans of them; @mode: the agent's interrupt thread (ampl_agent_opts.mode); @soc_flags: for
 * ampl_soc_open_flags().
 */
struct ampl_emu_bridge_config {
	const char *soc;
	const char *agent;
	const char *remotes[AMPL_EMU_MBOX_CHANS];
	uint32_t modes[AMPL_EMU_MBOX_CHANS];
	unsigned num_chans;
	enum ampl_wait_mode mode;
	unsigned soc_flags;
};

struct ampl_emu_bridge;

/** One relayed channel. Private. */
struct ampl_emu_bridge_chan {
	struct ampl_emu_bridge *b;
	unsigned idx;
	uint32_t mode;
	struct mbox_chan *tx, *rx;
	struct mbox_client cl;
	bool held;            /* request mode: a request from the remote is held until the firmware acknowledges */
	uint32_t fw_seen;     /* to_host.seq relayed */
	bool fw_req_busy;     /* request mode: the firmware's request is out on the IPI */
	struct {
		size_t len;
		_Alignas(8) uint8_t data[AMPL_EMU_MBOX_DATA];
	} txmsg;
};

/*
 * What the bridge knows of the firmware's trace area (<amplink/emu.h>). Private. @obj: each firmware object's index
 * in the agent's trace file (AMPL_TRACE_NO_OBJ: not named there yet); @seen: its counters merged so far; @next: the
 * next record to read.
 */
struct ampl_emu_bridge_trace {
	struct ampl_emu_trace *area;
	unsigned obj[AMPL_EMU_TRACE_OBJS];
	uint32_t seen[AMPL_EMU_TRACE_OBJS][AMPL_EMU_TRACE_EVENTS];
	uint32_t next;
	bool was_on;
};

/**
 * struct ampl_emu_bridge - one bridge. Counters public (read with atomic loads): @trace_records the firmware's
 * trace records merged, @trace_lost those overwritten before the bridge read them.
 */
struct ampl_emu_bridge {
	atomic_uint to_fw, to_host, errors;
	atomic_uint fw_gone; /* rings for the firmware after it exited (the emulator's line closed): not errors */
	atomic_uint trace_records, trace_lost;
	/* private */
	struct ampl_emu_bridge_trace trace;
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	const char *first_error; /* the first error counted (under the lock) */
	int first_error_code;
	bool stopping; /* under the lock: the callbacks leave the channels alone while ampl_emu_bridge_stop() frees them */
	struct ampl_emu_link link;
	struct mbox_client ring_cl;
	struct ampl_emu_mbox *area;
	unsigned num;
	pthread_mutex_t lock;
	struct ampl_emu_bridge_chan ch[AMPL_EMU_MBOX_CHANS];
};

/**
 * ampl_emu_bridge_write_mbox() - write the mailbox area of the window @window (before the firmware starts): the
 * channel count and modes of @cfg, every slot zero, the magic last; and the trace area: zero, tracing off, its
 * magic (the bridge turns the firmware's tracing on and off with the SoC's). Return: 0; -EINVAL (bad count or
 * mode).
 */
int ampl_emu_bridge_write_mbox(void *window, const struct ampl_emu_bridge_config *cfg);

/**
 * ampl_emu_bridge_start() - open the SoC, attach as @cfg->agent, take the IPI channels to each remote, start the
 * host doorbell of emulator @q with its receive thread. The SoC must be backed by @q's window file.
 * Return: 0; -EINVAL (bad configuration, or the SoC is not backed by @q's window: ampl_soc_last_error() says);
 * the errors of ampl_soc_open_flags(), ampl_agent_attach(), ampl_agent_mbox(), mbox_bind_client() and
 * ampl_emu_link_start(). On failure nothing is left attached.
 */
int ampl_emu_bridge_start(struct ampl_emu_bridge *b, const struct ampl_emu_bridge_config *cfg,
			  struct ampl_emu_qemu *q);

/**
 * ampl_emu_bridge_first_error() - what the first protocol error counted was (a phrase), and its error code in
 * *@code (0 if none applies). Return: NULL while none was counted. Context: thread.
 */
const char *ampl_emu_bridge_first_error(struct ampl_emu_bridge *b, int *code);

/**
 * ampl_emu_bridge_fw_down() - the firmware dies as the other agents see a processor go away: the bridge's agent is
 * taken offline (their sends to it fail with -ESHUTDOWN, their IPC links go down through the virtual SoC's hotplug,
 * as when a process attached as that agent is killed), then QEMU is killed (SIGKILL). Follow with
 * ampl_emu_bridge_restart(). Return: 0; -EINVAL (not started); ampl_soc_agent_set_online()'s error. Context: thread.
 */
int ampl_emu_bridge_fw_down(struct ampl_emu_bridge *b);

/**
 * ampl_emu_bridge_restart() - reset the firmware behind the bridge as a power cycle would: ampl_emu_bridge_fw_down()
 * unless it was done, QEMU started again on the same window (ampl_emu_link_restart() with @cfg), a request of a
 * remote held for the dead firmware released (the SoC discarded it when the agent went offline, and its sender got
 * -ESHUTDOWN; the new boot starts past it and never answers it), and once the new boot is READY the agent back
 * online (the other agents' links come up again and rebind) and the rings of the new boot relayed. The SoC, the
 * bridge's attachment and the window stay.
 * Return: 0; -EINVAL (not started); ampl_soc_agent_set_online()'s or ampl_emu_link_restart()'s error, with @err
 * saying why (the agent may stay offline: stop the bridge). Context: thread, never from a client's callback.
 */
int ampl_emu_bridge_restart(struct ampl_emu_bridge *b, const struct ampl_emu_qemu_config *cfg, char *err,
			    size_t err_len);

/** ampl_emu_bridge_stop() - release the channels, stop the doorbell, detach and close the SoC. Idempotent. */
void ampl_emu_bridge_stop(struct ampl_emu_bridge *b);

#endif /* AMPL_SIM_EMU_BRIDGE_H */
