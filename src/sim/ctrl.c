/* Mailbox controller models of the virtual SoC: what every model shares (src/sim/ctrl.h). */
#include "sim/ctrl.h"
#include "sim/image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const struct sim_ctrl_model *sim_ctrl_model_find(const char *name)
{
	for (unsigned i = 0; i < sim_ctrl_table_size; i++)
		if (!strcmp(sim_ctrl_table[i]->name, name))
			return sim_ctrl_table[i];
	return NULL;
}

const struct sim_ctrl_model *sim_ctrl_model_of(const struct ampl_soc *soc, unsigned ctrl)
{
	return ctrl < soc->num_ctrls ? soc->ctrl_model[ctrl] : NULL;
}

void *sim_ctrl_state(const struct sim_ctrl_port *pt)
{
	return pt->soc->img->ctrl_state[pt->ctrl];
}

void *sim_ctrl_side(const struct ampl_soc *soc, unsigned ctrl, unsigned side)
{
	return soc->img->ctrl_side[ctrl][side].words;
}

const struct sim_ctrl_cfg *sim_ctrl_cfg(const struct sim_ctrl_port *pt)
{
	return &pt->soc->ctrl_cfg[pt->ctrl];
}

unsigned sim_ctrl_count(const struct ampl_soc *soc, const struct sim_ctrl_model *m)
{
	unsigned n = 0;
	for (unsigned i = 0; soc && i < soc->num_ctrls; i++)
		n += soc->ctrl_model[i] == m;
	return n;
}

int sim_ctrl_nth(const struct ampl_soc *soc, const struct sim_ctrl_model *m, unsigned n)
{
	for (unsigned i = 0; soc && i < soc->num_ctrls; i++)
		if (soc->ctrl_model[i] == m && n-- == 0)
			return (int)i;
	return -1;
}

int sim_ctrl_regs(struct ampl_soc *soc, unsigned ctrl, unsigned side, struct ampl_io_region *regs)
{
	if (!soc || !regs || ctrl >= soc->num_ctrls || side >= soc->ctrl_cfg[ctrl].num_sides)
		return -EINVAL;
	regs->base = NULL;
	regs->size = soc->ctrl_model[ctrl]->reg_span;
	regs->ops = soc->ctrl_model[ctrl]->ops;
	regs->ctx = &soc->ctrl_ports[ctrl][side];
	return 0;
}

int sim_ctrl_side_of(const struct ampl_soc *soc, unsigned ctrl, unsigned agent)
{
	for (unsigned s = 0; soc && ctrl < soc->num_ctrls && s < soc->ctrl_cfg[ctrl].num_sides; s++)
		if (soc->ctrl_cfg[ctrl].owner[s] == agent)
			return (int)s;
	return -1;
}

void sim_ctrl_cfg_node(struct sim_ctrl_cfg *cfg, const struct ampl_dt_node *node, const char *alias, uint64_t addr,
		       uint64_t size, int irq)
{
	snprintf(cfg->name, sizeof(cfg->name), "%s", node->name);
	snprintf(cfg->alias, sizeof(cfg->alias), "%s", alias);
	snprintf(cfg->label, sizeof(cfg->label), "%s", node->label);
	snprintf(cfg->path, sizeof(cfg->path), "%s", node->path);
	cfg->addr = addr;
	cfg->size = size;
	cfg->irq = irq;
}
