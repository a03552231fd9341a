/*
 * Agents: a process takes the role of one processor of the virtual SoC. It gets the agent's IPI register block
 * (through the register model), an interrupt context running the IPI driver's handler, one mailbox controller per
 * destination (devicetree child node, or profile pair on demand) and an IPM device over each, built with the same
 * driver code firmware uses, its side of every other controller instance through that instance's model (src/sim/
 * ctrl.h: a Messaging Unit's controller and IPM device), and the IPC service instances of its devicetree. Turning
 * a node into a configuration is the board layer's (src/board/board.c, shared with firmware); this file maps the
 * SoC's addresses, owns the objects and registers them. Hotplug is src/sim/hotplug.c, crash detection src/sim/crash_watch.c; the objects
 * they share are in src/sim/agent_internal.h.
 */
#include "sim/agent_internal.h"
#include "sim/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Fill in and register a device the agent owns. A device whose init hook fails is taken out of the registry again,
 * so a failed registration leaves nothing behind. Return: as ampl_device_register().
 */
static int register_device(struct ampl_device *dev, struct ampl_device_state *state, const char *name, const char *label,
			   const void *api, const void *config, void *data, ampl_device_init_fn init)
{
	*dev = (struct ampl_device){ .name = name, .label = label && label[0] ? label : NULL, .api = api,
				.config = config, .data = data, .init = init, .state = state };
	int ret = ampl_device_register(dev);
	if (ret && ret != -EEXIST)
		ampl_device_unregister(dev);
	return ret;
}

/* The board layer's view of the SoC's physical addresses: this process's mapping of the image. */
static volatile void *soc_map(void *ctx, uint64_t addr, uint64_t size)
{
	if (size > SIZE_MAX)
		return NULL;
	return ampl_soc_phys(ctx, addr, (size_t)size);
}

static struct ampl_board_mem soc_mem(struct ampl_soc *soc)
{
	return (struct ampl_board_mem){ .map = soc_map, .ctx = soc };
}

static uint32_t remote_discards(void *ctx, unsigned bit)
{
	struct ampl_agent *ag = ctx;
	int8_t idx = ag->soc->idx_by_bit[bit];
	if (idx < 0)
		return 0;
	return sim_ipi_discards(ag->soc, ag->idx, (unsigned)idx);
}

/* Build and register one destination (controller + IPM device) to @remote. @dt may be NULL (profile layout). */
static int make_chan(struct ampl_agent *ag, const struct ampl_soc_agent *remote, const struct ampl_dt_ipi_chan *dt)
{
	struct ampl_soc *soc = ag->soc;
	if (ag->chans[remote->ipi->bit])
		return -EEXIST;
	struct sim_chan *c = calloc(1, sizeof(*c));
	if (!c)
		return sim_error(-ENOMEM, "out of memory");
	c->remote = remote;
	struct ampl_dt_ipi_chan *prof = NULL;
	if (dt) {
		snprintf(c->name, sizeof(c->name), "%s", dt->node.name);
		snprintf(c->label, sizeof(c->label), "%s", dt->node.label);
		snprintf(c->node, sizeof(c->node), "%s:%s", soc->name, dt->node.path);
	} else {
		prof = malloc(sizeof(*prof));
		if (!prof) {
			free(c);
			return sim_error(-ENOMEM, "out of memory");
		}
		ampl_board_ipi_chan_from_profile(soc->profile, ag->info, remote, prof);
		dt = prof;
		snprintf(c->name, sizeof(c->name), "%s-%s@%s", ag->info->name, remote->name, soc->name);
		snprintf(c->node, sizeof(c->node), "%s:%s->%s", soc->name, ag->info->name, remote->name);
	}
	struct ampl_board_mem mem = soc_mem(soc);
	uint64_t bad = 0;
	int ret = ampl_board_ipi_mbox(&mem, dt, &ag->host, &c->mbox, &bad);
	free(prof);
	if (ret)
		sim_error(ret, "buffer 0x%llx is not in the SoC's memory", (unsigned long long)bad);
	/* Allocate the two message buffers to this channel (refused if one is reserved: the error says which). */
	bool bufs = !ret && c->mbox.buffered;
	if (bufs) {
		ret = sim_buf_bind(soc, ag->info, remote, c->name);
		bufs = !ret;
	}
	if (!ret) {
		ret = xlnx_ipi_mbox_init(&c->mbox, c->node);
		if (ret)
			sim_error(ret, "cannot register the mailbox controller %s: %s", c->node, ampl_strerror(ret));
	}
	if (ret) {
		if (bufs)
			sim_buf_unbind(soc, ag->info, remote);
		free(c);
		return ret;
	}
	c->cfg.mbox = &c->mbox;
	c->cfg.ack_timeout_us = ag->opts.ack_timeout_us;
	ret = register_device(&c->dev, &c->state, c->name, c->label, &xlnx_ipi_ipm_api, &c->cfg, &c->data,
			      xlnx_ipi_ipm_init);
	if (ret == -EEXIST)
		sim_error(ret, "a device named '%s' is already registered in this process", c->name);
	else if (ret)
		sim_error(ret, "cannot initialise channel %s: %s", c->name, ampl_strerror(ret));
	if (ret) {
		xlnx_ipi_mbox_remove(&c->mbox);
		if (bufs)
			sim_buf_unbind(soc, ag->info, remote);
		free(c);
		return ret;
	}
	ag->chans[remote->ipi->bit] = c;
	(void)sim_chan_hotplug(ag, c);
	return 0;
}

static void free_chans(struct ampl_agent *ag)
{
	for (unsigned b = 0; b < 32; b++) {
		struct sim_chan *c = ag->chans[b];
		if (!c)
			continue;
		xlnx_ipi_ipm_release(&c->dev);
		(void)ampl_device_unregister(&c->dev);
		xlnx_ipi_mbox_remove(&c->mbox);
		if (c->mbox.buffered)
			sim_buf_unbind(ag->soc, ag->info, c->remote);
		free(c);
		ag->chans[b] = NULL;
	}
}

/* ---- the controllers' devices (src/sim/ctrl.h): this agent's side of each instance but the IPI's ---- */

/* Open this agent's device over its side of controller instance @ctrl (once): controller "SOC:<path>", and the
 * device <name>/<alias or label> if the model puts one over it. */
static int make_ctrl_dev(struct ampl_agent *ag, unsigned ctrl)
{
	struct ampl_soc *soc = ag->soc;
	const struct sim_ctrl_model *model = sim_ctrl_model_of(soc, ctrl);
	const struct sim_ctrl_cfg *cfg = &soc->ctrl_cfg[ctrl];
	int side = sim_ctrl_side_of(soc, ctrl, ag->idx);
	if (ag->ctrl_devs[ctrl])
		return 0;
	if (!model || !model->open || side < 0)
		return sim_error(-ENODEV, "%s: no device of %s's on this controller", cfg->path, ag->info->name);
	struct sim_ctrl_dev *d = calloc(1, sizeof(*d));
	if (!d)
		return sim_error(-ENOMEM, "out of memory");
	*d = (struct sim_ctrl_dev){ .model = model, .ctrl = ctrl, .side = (unsigned)side, .soc = soc, .agent = ag->idx };
	struct sim_ctrl_dev_ctx ctx = { .board = ag->board, .ack_timeout_us = ag->opts.ack_timeout_us };
	(void)sim_ctrl_regs(soc, ctrl, d->side, &ctx.regs);
	const char *label = cfg->alias[0] ? cfg->alias : cfg->label[0] ? cfg->label : NULL;
	int ret = -EEXIST;
	/* The node's names; if this process already has them (it attached the other side too): "<name>:<agent>". */
	for (int pass = 0; pass < 2 && ret == -EEXIST; pass++) {
		const char *sep = pass ? ":" : "", *who = pass ? ag->info->name : "";
		snprintf(d->node, sizeof(d->node), "%s:%s%s%s", soc->name, cfg->path, sep, who);
		snprintf(d->name, sizeof(d->name), "%s%s%s", cfg->name, sep, who);
		snprintf(d->label, sizeof(d->label), "%s%s%s", label ? label : "", sep, who);
		ret = model->open(&ctx, d);
		if (ret || !d->api)
			continue;
		ret = register_device(&d->dev, &d->state, d->name, label ? d->label : NULL, d->api, d->config, d->data,
				      d->init);
		if (ret) {
			model->close(d);
			free(d->priv);
			d->priv = NULL;
		}
	}
	bool up = !ret;
	if (up && ag->irq && d->isr)
		ret = ampl_irq_connect(ag->irq, d->isr, d->isr_arg);
	if (ret) {
		sim_error(ret, "cannot set up side %c of the %s controller %s: %s", 'A' + side, model->name, cfg->path,
			  ampl_strerror(ret));
		if (up) {
			model->close(d);
			if (d->api)
				(void)ampl_device_unregister(&d->dev);
		}
		free(d->priv);
		free(d);
		return ret;
	}
	ag->ctrl_devs[ctrl] = d;
	return 0;
}

static void free_ctrl_devs(struct ampl_agent *ag)
{
	for (unsigned i = 0; i < SIM_MAX_CTRLS; i++) {
		struct sim_ctrl_dev *d = ag->ctrl_devs[i];
		if (!d)
			continue;
		d->model->close(d);
		if (d->api)
			(void)ampl_device_unregister(&d->dev);
		free(d->priv);
		free(d);
		ag->ctrl_devs[i] = NULL;
	}
}

/* The device of the first controller instance between this agent and @remote (opened on first use). */
static int find_ctrl_dev(struct ampl_agent *ag, const char *remote, struct sim_ctrl_dev **out)
{
	struct ampl_soc *soc = ag->soc;
	const struct ampl_soc_agent *r = ampl_soc_agent_by_name(soc->profile, remote);
	if (!r) {
		char valid[256];
		ampl_soc_agent_names(soc->profile, valid, sizeof(valid));
		return sim_error(-EINVAL, "unknown agent '%s' on a %s SoC (agents: %s)", remote ? remote : "(null)",
				 soc->profile->name, valid);
	}
	unsigned ri = ampl_soc_agent_index(soc->profile, r);
	for (unsigned i = 0; ri != ag->idx && i < soc->num_ctrls; i++) {
		if (!sim_ctrl_model_of(soc, i)->open || sim_ctrl_side_of(soc, i, ag->idx) < 0 ||
		    sim_ctrl_side_of(soc, i, ri) < 0)
			continue;
		int ret = make_ctrl_dev(ag, i);
		if (!ret)
			*out = ag->ctrl_devs[i];
		return ret;
	}
	return sim_error(-ENOENT, "no mailbox controller between %s and %s on SoC %s", ag->info->name, r->name,
			 soc->name);
}

int ampl_agent_attach(struct ampl_soc *soc, const char *agent, const struct ampl_agent_opts *opts,
		      struct ampl_agent **out)
{
	if (!soc || !out)
		return sim_error(-EINVAL, "no SoC");
	const struct ampl_soc_agent *info = ampl_soc_agent_by_name(soc->profile, agent);
	if (!info) {
		char valid[256];
		ampl_soc_agent_names(soc->profile, valid, sizeof(valid));
		return sim_error(-EINVAL, "unknown agent '%s' on a %s SoC (agents: %s)", agent ? agent : "(null)",
				 soc->profile->name, valid);
	}
	unsigned idx = ampl_soc_agent_index(soc->profile, info);
	if (sim_damaged(soc))
		return sim_damaged_error(soc);
	if (soc->attached[idx])
		return sim_error(-EBUSY, "this process is already attached to %s as %s", soc->name, info->name);
	struct ampl_agent *ag = calloc(1, sizeof(*ag));
	if (!ag)
		return sim_error(-ENOMEM, "out of memory");
	/* The agent's page is writable once this handle acts as it; from here on it writes only what the agent may. */
	int ret = sim_access_attach(soc, idx);
	if (ret) {
		free(ag);
		return ret;
	}
	/* One live process per agent, claimed before anything else; a holder that died without detaching is replaced
	 * (the restarted processor: its new owner word ends the crash in every process, see sim_offline()). */
	ag->owner = sim_owner_self();
	struct sim_regs *own = &soc->img->regs[idx];
	for (;;) {
		uint64_t cur = atomic_load(&own->owner);
		if (cur && sim_owner_alive(cur)) {
			sim_access_detach(soc, idx);
			free(ag);
			if (cur == sim_owner_self())
				return sim_error(-EBUSY, "this process is already attached to %s as %s (through another "
						 "SoC handle)", soc->name, info->name);
			return sim_error(-EBUSY, "agent %s of SoC %s is held by process %d, which is alive: one process "
					 "per agent (stop that one first)", info->name, soc->name, (int)(uint32_t)cur);
		}
		if (atomic_compare_exchange_strong(&own->owner, &cur, ag->owner)) {
			/* It replaces a crashed process: what was sent to that one is discarded, not delivered here. */
			if (cur)
				sim_discard_pending(soc, idx);
			sim_hotplug_bump(&own->hp_seq);
			if (cur && cur == atomic_load(&soc->dead_owner[idx]))
				sim_hotplug_notify(soc, idx, true, 0); /* it was crashed: back online */
			break;
		}
	}
	ag->soc = soc;
	ag->info = info;
	ag->idx = idx;
	if (opts)
		ag->opts = *opts;
	soc->ports[idx].mode = ag->opts.mode;
	struct ampl_io_region regs;
	ampl_soc_agent_regs(soc, info, &regs);
	xlnx_ipi_host_init(&ag->host, &regs, soc->profile->valid_mask);
	ag->host.discards = remote_discards;
	ag->host.discards_ctx = ag;
	sim_irq_init(ag);
	sim_unretire(soc, idx);
	ag->hotplug_seq_seen = sim_hotplug_seq(soc);
	ag->offline_seen = sim_offline_mask(soc);
	sim_gate_offline(ag, ag->offline_seen);

	ret = sim_watch_start(soc);
	bool watching = !ret;
	ag->board = calloc(1, sizeof(*ag->board));
	struct ampl_dt_diag *diag = calloc(1, sizeof(*diag));
	if (ret) {
		sim_error(ret, "cannot start the crash-detection thread: %s", strerror(-ret));
		goto fail;
	}
	size_t dtb_size;
	const void *shared_dtb = ampl_soc_dtb(soc, &dtb_size);
	/* Parse a private copy: libfdt must not see the blob change under it. */
	void *dtb = malloc(dtb_size ? dtb_size : 1);
	if (!ag->board || !diag || !dtb) {
		free(dtb);
		ret = sim_error(-ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(dtb, shared_dtb, dtb_size);
	ret = ampl_dt_load_blob(dtb, dtb_size, "SoC devicetree", soc->profile, ag->board, diag);
	free(dtb);
	if (ret) {
		sim_error(ret, "%s", diag->msg);
		goto fail;
	}
	for (unsigned i = 0; !ag->opts.no_dt_devices && i < ag->board->num_ctrls; i++) {
		const struct ampl_dt_ipi_ctrl *ctrl = &ag->board->ctrls[i];
		if (ctrl->local != info)
			continue;
		for (unsigned j = 0; j < ctrl->num_chans; j++) {
			ret = make_chan(ag, ctrl->chans[j].remote, &ctrl->chans[j]);
			if (ret)
				goto fail;
		}
	}
	struct ampl_doorbell_set line = sim_line(soc, idx, SIM_LINE_IRQ, idx);
	ret = ampl_irq_thread_create(&ag->irq, &line, ag->opts.mode);
	if (ret)
		goto fail;
	/* Hotplug before the mailbox: a peer that came back online and rang at once (a restarted firmware's
	 * handshake) must find our channels to it online when its doorbell is delivered, or an endpoint bound by that
	 * doorbell would have its first send refused -ESHUTDOWN. Its requests stay unseen in ISR until this
	 * process's hotplug handler has set those channels online (sim_gate_offline()), however the two handlers'
	 * runs fall around the peer's return. */
	ampl_irq_connect(ag->irq, sim_hotplug_isr, ag);
	ampl_irq_connect(ag->irq, xlnx_ipi_isr, &ag->host);
	ampl_irq_connect(ag->irq, sim_irq_isr, ag);
	for (unsigned i = 0; !ag->opts.no_dt_devices && i < soc->num_ctrls; i++) {
		if (!sim_ctrl_model_of(soc, i)->open || sim_ctrl_side_of(soc, i, idx) < 0)
			continue;
		ret = make_ctrl_dev(ag, i);
		if (ret)
			goto fail;
	}
	if (!ag->opts.no_irq_thread) {
		ret = ampl_irq_thread_run(ag->irq);
		if (ret) {
			sim_error(ret, "cannot start the interrupt thread: %s", strerror(-ret));
			goto fail;
		}
	}
	atomic_store(&own->pid, (int32_t)getpid());
	soc->attached[idx] = ag;
	sim_trace_attach(ag);
	free(diag);
	*out = ag;
	return 0;
fail:
	ampl_irq_thread_stop(ag->irq);
	sim_irq_stop(ag);
	free_chans(ag);
	free_ctrl_devs(ag);
	if (watching)
		sim_watch_stop(soc);
	if (atomic_compare_exchange_strong(&soc->img->regs[idx].owner, &ag->owner, 0))
		sim_hotplug_bump(&soc->img->regs[idx].hp_seq);
	sim_access_detach(soc, idx);
	free(ag->board);
	free(diag);
	free(ag);
	return ret;
}

static void free_ipcs(struct ampl_agent *ag)
{
	for (unsigned i = 0; i < AMPL_DT_MAX_IPC; i++) {
		struct sim_ipc *m = ag->ipcs[i];
		if (!m)
			continue;
		if (m->be->close)
			m->be->close(m);
		(void)ampl_device_unregister(&m->dev);
		free(m->priv);
		free(m);
		ag->ipcs[i] = NULL;
	}
}

void sim_agent_stop_irq(struct ampl_agent *ag)
{
	ampl_irq_thread_stop(ag->irq); /* no handler runs after this (nor after the next, on lines 1..) */
	ag->irq = NULL;
	sim_irq_stop(ag);
}

void ampl_agent_detach(struct ampl_agent *ag)
{
	if (!ag)
		return;
	sim_agent_stop_irq(ag);
	sim_agent_free(ag);
}

void sim_agent_free(struct ampl_agent *ag)
{
	sim_trace_detach(ag);
	free_ipcs(ag); /* before the controllers their channels belong to */
	free_chans(ag);
	free_ctrl_devs(ag);
	int32_t me = (int32_t)getpid();
	atomic_compare_exchange_strong(&ag->soc->img->regs[ag->idx].pid, &me, 0);
	if (atomic_compare_exchange_strong(&ag->soc->img->regs[ag->idx].owner, &ag->owner, 0))
		sim_hotplug_bump(&ag->soc->img->regs[ag->idx].hp_seq);
	ag->soc->attached[ag->idx] = NULL;
	sim_access_detach(ag->soc, ag->idx);
	sim_watch_stop(ag->soc);
	free(ag->board);
	free(ag);
}

static int find_or_make(struct ampl_agent *ag, const char *remote, struct sim_chan **out)
{
	if (!ag)
		return -EINVAL;
	const struct ampl_soc_agent *r = ampl_soc_agent_by_name(ag->soc->profile, remote);
	if (!r) {
		char valid[256];
		ampl_soc_agent_names(ag->soc->profile, valid, sizeof(valid));
		return sim_error(-EINVAL, "unknown agent '%s' on a %s SoC (agents: %s)", remote ? remote : "(null)",
				 ag->soc->profile->name, valid);
	}
	if (!ag->chans[r->ipi->bit]) {
		const struct ampl_dt_ipi_chan *dt = ampl_dt_find_chan(ag->board, ag->info->id, r->id, NULL);
		int ret = make_chan(ag, r, dt);
		if (ret)
			return ret;
	}
	*out = ag->chans[r->ipi->bit];
	return 0;
}

int ampl_agent_channel(struct ampl_agent *ag, const char *remote, const struct ampl_device **dev)
{
	struct sim_chan *c;
	if (!dev)
		return -EINVAL;
	if (ag && !ag->soc->profile->valid_mask) { /* no IPI block: the other controllers (Messaging Units) carry IPM */
		struct sim_ctrl_dev *d;
		int ret = find_ctrl_dev(ag, remote, &d);
		if (!ret && !d->api)
			ret = sim_error(-ENOTSUP, "%s: the %s controller has no IPM device", d->node, d->model->name);
		if (!ret)
			*dev = &d->dev;
		return ret;
	}
	int ret = find_or_make(ag, remote, &c);
	if (!ret)
		*dev = &c->dev;
	return ret;
}

int ampl_agent_mbox(struct ampl_agent *ag, const char *remote, struct mbox_controller **mbox)
{
	struct sim_chan *c;
	if (!mbox)
		return -EINVAL;
	if (ag && !ag->soc->profile->valid_mask) {
		struct sim_ctrl_dev *d;
		int ret = find_ctrl_dev(ag, remote, &d);
		if (!ret)
			*mbox = d->mbox;
		return ret;
	}
	int ret = find_or_make(ag, remote, &c);
	if (!ret)
		*mbox = &c->mbox.ctrl;
	return ret;
}

int ampl_agent_mbox_of(struct ampl_agent *ag, const char *node, struct mbox_controller **mbox)
{
	if (!ag || !mbox)
		return -EINVAL;
	struct ampl_soc *soc = ag->soc;
	for (unsigned i = 0; node && i < soc->num_ctrls; i++) {
		const struct sim_ctrl_cfg *cfg = &soc->ctrl_cfg[i];
		if (strcmp(node, cfg->path) && strcmp(node, cfg->name) && (!cfg->label[0] || strcmp(node, cfg->label)) &&
		    (!cfg->alias[0] || strcmp(node, cfg->alias)))
			continue;
		int ret = make_ctrl_dev(ag, i);
		if (!ret)
			*mbox = ag->ctrl_devs[i]->mbox;
		return ret;
	}
	return sim_error(-ENOENT, "SoC %s has no mailbox controller '%s' (the IPI's: ampl_agent_mbox())", soc->name,
			 node ? node : "(null)");
}

int ampl_agent_mbox_consumer(struct ampl_agent *ag, const char *node, const struct mbox_consumer **consumer)
{
	if (!ag || !consumer)
		return -EINVAL;
	const struct ampl_dt_consumer *dt = ampl_dt_find_consumer(ag->board, node);
	if (!dt)
		return sim_error(-ENOENT, "the SoC's devicetree has no node '%s' with mboxes", node ? node : "(null)");
	unsigned i = (unsigned)(dt - ag->board->consumers);
	struct sim_consumer *sc = &ag->consumers[i];
	if (sc->dt != dt) {
		char prefix[AMPL_SHM_NAME_MAX + 2];
		snprintf(prefix, sizeof(prefix), "%s:", ag->soc->name);
		int ret = ampl_board_mbox_consumer(dt, prefix, &sc->bc);
		if (ret)
			return sim_error(ret, "%s: a mailbox provider's name is too long", dt->node.path);
		sc->dt = dt;
	}
	*consumer = &sc->bc.con;
	return 0;
}

int ampl_agent_poll(struct ampl_agent *ag)
{
	if (!ag)
		return -EINVAL;
	/* The IPC instances' rings first: what a held reader's peer published without a doorbell. */
	unsigned n = atomic_load_explicit(&ag->npolled, memory_order_acquire);
	for (unsigned i = 0; i < n; i++)
		ag->polled[i]->be->poll(ag->polled[i]);
	ampl_irq_run_handlers(ag->irq);
	sim_irq_poll(ag);
	return 0;
}

const struct ampl_soc_agent *ampl_agent_info(const struct ampl_agent *ag)
{
	return ag ? ag->info : NULL;
}

const struct ampl_soc_profile *ampl_agent_profile(const struct ampl_agent *ag)
{
	return ag ? ag->soc->profile : NULL;
}

static int ipc_node_mailbox(struct ampl_agent *ag, const struct ampl_dt_ipc *dt, const struct mbox_consumer **mc);

const struct sim_ipc_backend *sim_ipc_backend_of(const char *compatible)
{
	for (unsigned i = 0; i < sim_ipc_table_size; i++)
		if (!strcmp(sim_ipc_table[i]->compatible, compatible))
			return sim_ipc_table[i];
	return NULL;
}

/* "a, b or c": the compatibles of the IPC backends this program has, for messages. */
static void ipc_compatibles(char *buf, size_t cap)
{
	size_t k = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < sim_ipc_table_size && k < cap; i++) {
		const char *sep = !i ? "" : i + 1 < sim_ipc_table_size ? ", " : " or ";
		k += (size_t)snprintf(buf + k, cap - k, "%s%s", sep, sim_ipc_table[i]->compatible);
	}
}

int ampl_agent_ipc_instance(struct ampl_agent *ag, const char *label, const struct ampl_device **dev)
{
	if (!ag || !dev)
		return -EINVAL;
	const struct ampl_dt_ipc *dt = ampl_dt_find_ipc(ag->board, label);
	const struct sim_ipc_backend *be = dt ? sim_ipc_backend_of(dt->compatible) : NULL;
	if (!be) {
		char kinds[512];
		ipc_compatibles(kinds, sizeof(kinds));
		if (dt)
			return sim_error(-ENOTSUP, "%s: no IPC backend for compatible %s in this program (backends: %s)",
					 dt->node.path, dt->compatible, kinds);
		return sim_error(-ENOENT, "the SoC's devicetree has no %s node '%s'", kinds, label ? label : "(null)");
	}
	unsigned idx = (unsigned)(dt - ag->board->ipcs);
	if (ag->ipcs[idx]) {
		*dev = &ag->ipcs[idx]->dev;
		return 0;
	}
	struct sim_ipc_ctx ctx = { .board = ag->board, .mem = soc_mem(ag->soc), .polled = ag->opts.no_irq_thread && !ag->opts.no_ipc_poll };
	int ret = ipc_node_mailbox(ag, dt, &ctx.mc);
	if (ret)
		return ret;
	struct sim_ipc *m = calloc(1, sizeof(*m));
	if (!m)
		return sim_error(-ENOMEM, "out of memory");
	ret = be->open(&ctx, dt, m);
	if (ret) {
		free(m);
		return ret;
	}
	m->be = be;
	m->dt = dt;
	snprintf(m->name, sizeof(m->name), "%s", dt->node.name);
	snprintf(m->label, sizeof(m->label), "%s", dt->node.label);
	ret = register_device(&m->dev, &m->state, m->name, m->label, m->api, m->config, m->data, NULL);
	if (ret) {
		free(m->priv);
		free(m);
		return sim_error(ret, "cannot register the IPC instance %s: %s", dt->node.name, ampl_strerror(ret));
	}
	ag->ipcs[idx] = m;
	if (ctx.polled && be->poll) {
		unsigned n = atomic_load_explicit(&ag->npolled, memory_order_relaxed);
		ag->polled[n] = m;
		atomic_store_explicit(&ag->npolled, n + 1u, memory_order_release);
	}
	*dev = &m->dev;
	return 0;
}

/* The IPI destination an IPC instance uses: its controller made, in signalling mode (the backends use it for
 * doorbells only; both sides' instances set it). */
static int ipi_for_ipc(struct ampl_agent *ag, const struct ampl_dt_ipi_chan *chan)
{
	struct sim_chan *sc;
	int ret = find_or_make(ag, chan->remote->name, &sc);
	if (!ret)
		xlnx_ipi_mbox_set_signalling(&sc->mbox, AMPL_BOARD_IPC_DOORBELL);
	return ret;
}

/* Another controller an IPC instance uses: this agent's device over it, opened (its driver rings a doorbell for a
 * NULL message: nothing to set). */
static int ctrl_for_ipc(struct ampl_agent *ag, const struct ampl_dt_ipc *dt, const struct ampl_dt_mbox_ctrl *ctrl)
{
	struct mbox_controller *mbox;
	int ret = ampl_agent_mbox_of(ag, ctrl->node.path, &mbox);
	if (ret) {
		char why[256];
		snprintf(why, sizeof(why), "%s", ampl_soc_last_error());
		return sim_error(ret, "%s: its mailbox: %s", dt->node.path, why);
	}
	return 0;
}

/* The consumer of an IPC instance node, after checking that its "tx"/"rx" name one controller of this agent (an IPI
 * destination or another controller node), and that controller opened for doorbells. */
static int ipc_node_mailbox(struct ampl_agent *ag, const struct ampl_dt_ipc *dt, const struct mbox_consumer **mc)
{
	const char *why;
	struct ampl_board_ipc_mbox m;
	int ret = ampl_board_ipc_mbox(ag->board, dt->consumer, dt->tx_mbox, dt->rx_mbox, ag->info, &m, &why);
	if (ret == -EPERM && m.owner)
		return sim_error(-EINVAL, "%s: its mailbox %s belongs to %s, not to %s", dt->node.path,
				 ag->board->consumers[dt->consumer].mboxes[dt->tx_mbox].provider, m.owner,
				 ag->info->name);
	if (ret)
		return sim_error(-EINVAL, "%s: %s (agent %s)", dt->node.path, why, ag->info->name);
	ret = m.ipi ? ipi_for_ipc(ag, m.ipi) : ctrl_for_ipc(ag, dt, m.ctrl);
	return ret ? ret : ampl_agent_mbox_consumer(ag, dt->node.path, mc);
}
