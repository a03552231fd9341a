/*
 * Agents: a process takes the role of one processor of the virtual SoC. It gets the agent's IPI register block
 * (through the register model), an interrupt context running the IPI driver's handler, and one IPM device per
 * devicetree channel of that agent, built with the same driver code firmware uses.
 */
#include "sim/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/dt.h>

struct sim_chan {
	struct device dev;
	struct device_state state;
	struct xlnx_ipi_chan_config cfg;
	struct xlnx_ipi_chan_data data;
	char name[AMPL_DT_NAME_MAX + AMPL_SHM_NAME_MAX + 16];
	char label[AMPL_DT_NAME_MAX];
};

struct ampl_agent {
	struct ampl_soc *soc;
	const struct ampl_ipi_agent *info;
	unsigned idx;
	struct ampl_agent_opts opts;
	struct xlnx_ipi_host host;
	struct ampl_irq_thread *irq;
	struct sim_chan *chans[32]; /* by remote bit */
	struct ampl_dt_board *board; /* the SoC's devicetree, parsed */
};

/* The device registry is single-threaded by contract; agents of one process may attach from several threads. */
static struct ampl_lock registry_lock = AMPL_LOCK_INIT;

static int map_buffer(struct ampl_soc *soc, uint64_t addr, struct ampl_io_region *r)
{
	volatile void *p = ampl_soc_phys(soc, addr, AMPL_IPI_BUF_SIZE);
	if (!p)
		return sim_error(-EINVAL, "buffer 0x%llx is not in the SoC's memory", (unsigned long long)addr);
	r->base = p;
	r->size = AMPL_IPI_BUF_SIZE;
	r->ops = NULL;
	r->ctx = NULL;
	return 0;
}

/* Build, register and initialise one channel device to @remote. @dt may be NULL (profile layout). */
static int make_chan(struct ampl_agent *ag, const struct ampl_ipi_agent *remote, const struct ampl_dt_ipi_chan *dt)
{
	struct ampl_soc *soc = ag->soc;
	const struct ampl_soc_profile *p = soc->profile;
	if (ag->chans[remote->bit])
		return -EEXIST;
	struct sim_chan *c = calloc(1, sizeof(*c));
	if (!c)
		return sim_error(-ENOMEM, "out of memory");
	c->cfg.host = &ag->host;
	c->cfg.remote_mask = ampl_ipi_mask(remote);
	c->cfg.ack_timeout_us = ag->opts.ack_timeout_us ? ag->opts.ack_timeout_us : XLNX_IPI_ACK_TIMEOUT_US;
	uint64_t lreq, lresp, rreq, rresp;
	if (dt) {
		c->cfg.buffered = dt->buffered;
		lreq = dt->local_req, lresp = dt->local_resp, rreq = dt->remote_req, rresp = dt->remote_resp;
		snprintf(c->name, sizeof(c->name), "%s", dt->node.name);
		snprintf(c->label, sizeof(c->label), "%s", dt->node.label);
	} else {
		lreq = ampl_ipi_request_addr(p, ag->info, remote);
		rreq = ampl_ipi_request_addr(p, remote, ag->info);
		lresp = lreq + AMPL_IPI_RESP_OFFSET;
		rresp = rreq + AMPL_IPI_RESP_OFFSET;
		c->cfg.buffered = lreq && rreq;
		snprintf(c->name, sizeof(c->name), "%s-%s@%s", ag->info->name, remote->name, soc->name);
	}
	int ret = 0;
	if (c->cfg.buffered) {
		ret = map_buffer(soc, lreq, &c->cfg.local_req);
		ret = ret ? ret : map_buffer(soc, lresp, &c->cfg.local_resp);
		ret = ret ? ret : map_buffer(soc, rreq, &c->cfg.remote_req);
		ret = ret ? ret : map_buffer(soc, rresp, &c->cfg.remote_resp);
	}
	if (ret) {
		free(c);
		return ret;
	}
	c->dev.name = c->name;
	c->dev.label = c->label[0] ? c->label : NULL;
	c->dev.api = &xlnx_ipi_ipm_api;
	c->dev.config = &c->cfg;
	c->dev.data = &c->data;
	c->dev.init = xlnx_ipi_chan_init;
	c->dev.state = &c->state;
	ampl_lock(&registry_lock);
	ret = ampl_device_register(&c->dev);
	if (ret == -EEXIST) {
		sim_error(ret, "a device named '%s' is already registered in this process", c->name);
	} else if (ret) {
		ampl_device_unregister(&c->dev);
		sim_error(ret, "cannot initialise channel %s: %s", c->name, ampl_strerror(ret));
	}
	ampl_unlock(&registry_lock);
	if (ret) {
		free(c);
		return ret;
	}
	ag->chans[remote->bit] = c;
	return 0;
}

static void free_chans(struct ampl_agent *ag)
{
	ampl_lock(&registry_lock);
	for (unsigned b = 0; b < 32; b++) {
		struct sim_chan *c = ag->chans[b];
		if (!c)
			continue;
		xlnx_ipi_chan_detach(&c->dev);
		ampl_device_unregister(&c->dev);
		free(c);
		ag->chans[b] = NULL;
	}
	ampl_unlock(&registry_lock);
}

int ampl_agent_attach(struct ampl_soc *soc, const char *agent, const struct ampl_agent_opts *opts,
		      struct ampl_agent **out)
{
	if (!soc || !out)
		return sim_error(-EINVAL, "no SoC");
	const struct ampl_ipi_agent *info = ampl_soc_agent_by_name(soc->profile, agent);
	if (!info) {
		char valid[256] = "";
		for (unsigned i = 0; i < soc->profile->num_agents; i++) {
			strncat(valid, soc->profile->agents[i].name, sizeof(valid) - strlen(valid) - 2);
			if (i + 1 < soc->profile->num_agents)
				strncat(valid, ", ", sizeof(valid) - strlen(valid) - 1);
		}
		return sim_error(-EINVAL, "unknown agent '%s' on a %s SoC (agents: %s)", agent ? agent : "(null)",
				 soc->profile->name, valid);
	}
	unsigned idx = ampl_soc_agent_index(soc->profile, info);
	if (soc->attached[idx])
		return sim_error(-EBUSY, "this process is already attached to %s as %s", soc->name, info->name);
	struct ampl_agent *ag = calloc(1, sizeof(*ag));
	if (!ag)
		return sim_error(-ENOMEM, "out of memory");
	ag->soc = soc;
	ag->info = info;
	ag->idx = idx;
	if (opts)
		ag->opts = *opts;
	soc->ports[idx].mode = ag->opts.mode;
	struct ampl_io_region regs;
	ampl_soc_agent_regs(soc, info, &regs);
	xlnx_ipi_host_init(&ag->host, &regs, soc->profile->valid_mask);

	int ret = 0;
	ag->board = calloc(1, sizeof(*ag->board));
	struct ampl_dt_diag *diag = calloc(1, sizeof(*diag));
	if (!ag->board || !diag) {
		ret = sim_error(-ENOMEM, "out of memory");
		goto fail;
	}
	size_t dtb_size;
	const void *shared_dtb = ampl_soc_dtb(soc, &dtb_size);
	/* Parse a private copy: libfdt must not see the blob change under it. */
	void *dtb = malloc(dtb_size ? dtb_size : 1);
	if (!dtb) {
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
	ret = ampl_irq_thread_create(&ag->irq, &soc->img->agents[idx].irq, ag->opts.mode);
	if (ret)
		goto fail;
	ampl_irq_connect(ag->irq, xlnx_ipi_isr, &ag->host);
	if (!ag->opts.no_irq_thread) {
		ret = ampl_irq_thread_run(ag->irq);
		if (ret) {
			sim_error(ret, "cannot start the interrupt thread: %s", strerror(-ret));
			goto fail;
		}
	}
	atomic_store(&soc->img->agents[idx].pid, (int32_t)getpid());
	soc->attached[idx] = ag;
	free(diag);
	*out = ag;
	return 0;
fail:
	ampl_irq_thread_stop(ag->irq);
	free_chans(ag);
	free(ag->board);
	free(diag);
	free(ag);
	return ret;
}

void ampl_agent_detach(struct ampl_agent *ag)
{
	if (!ag)
		return;
	ampl_irq_thread_stop(ag->irq); /* no handler runs after this */
	free_chans(ag);
	int32_t me = (int32_t)getpid();
	atomic_compare_exchange_strong(&ag->soc->img->agents[ag->idx].pid, &me, 0);
	ag->soc->attached[ag->idx] = NULL;
	free(ag->board);
	free(ag);
}

int ampl_agent_channel(struct ampl_agent *ag, const char *remote, const struct device **dev)
{
	if (!ag || !dev)
		return -EINVAL;
	const struct ampl_ipi_agent *r = ampl_soc_agent_by_name(ag->soc->profile, remote);
	if (!r)
		return sim_error(-EINVAL, "unknown agent '%s' on a %s SoC", remote ? remote : "(null)",
				 ag->soc->profile->name);
	if (!ag->chans[r->bit]) {
		const struct ampl_dt_ipi_chan *dt = ampl_dt_find_chan(ag->board, ag->info->ipi_id, r->ipi_id, NULL);
		int ret = make_chan(ag, r, dt);
		if (ret)
			return ret;
	}
	*dev = &ag->chans[r->bit]->dev;
	return 0;
}

int ampl_agent_poll(struct ampl_agent *ag)
{
	if (!ag)
		return -EINVAL;
	ampl_irq_run_handlers(ag->irq);
	return 0;
}

const struct ampl_ipi_agent *ampl_agent_info(const struct ampl_agent *ag)
{
	return ag ? ag->info : NULL;
}
