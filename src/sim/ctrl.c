/* Mailbox controller models of the virtual SoC: what every model shares (src/sim/ctrl.h). */
#include "sim/ctrl.h"
#include "sim/image.h"

#include <amplink/host/dt.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

const struct ampl_soc_profile *sim_ctrl_board_profile(const void *dtb, size_t size)
{
	struct sim_ctrl_cfg cfg[SIM_MAX_CTRLS];
	struct ampl_dt_board *board = malloc(sizeof(*board));
	const struct ampl_soc_profile *found = NULL;

	for (unsigned m = 0; board && !found && m < sim_ctrl_table_size; m++) {
		const struct sim_ctrl_model *model = sim_ctrl_table[m];
		if (model->profile && !ampl_dt_load_blob(dtb, size, "board devicetree", model->profile, board, NULL) &&
		    model->plan(board, model->profile, cfg, SIM_MAX_CTRLS) != 0)
			found = model->profile;
	}
	free(board);
	return found;
}

void sim_ctrl_show(struct ampl_soc *soc, FILE *out)
{
	for (unsigned m = 0; m < sim_ctrl_table_size; m++) {
		const struct sim_ctrl_model *model = sim_ctrl_table[m];
		const struct sim_ctrl_reg *r;
		char title[SIM_CTRL_MODEL_NAME];

		if (!model->dump || !sim_ctrl_count(soc, model))
			continue;
		unsigned k = 0;
		for (; model->name[k] && k + 1 < sizeof(title); k++)
			title[k] = (char)toupper((unsigned char)model->name[k]);
		title[k] = '\0';
		fprintf(out, "%-16s %-4s %-6s", title, "SIDE", "AGENT");
		for (r = model->dump; r->name; r++)
			fprintf(out, r[1].name ? " %-10s" : " %s", r->name);
		fputc('\n', out);
		for (int i, n = 0; (i = sim_ctrl_nth(soc, model, (unsigned)n)) >= 0; n++) {
			const struct sim_ctrl_cfg *cfg = &soc->ctrl_cfg[i];
			for (unsigned s = 0; s < cfg->num_sides; s++) {
				struct ampl_io_region regs;
				sim_ctrl_regs(soc, (unsigned)i, s, &regs);
				fprintf(out, "%-16s %-4c %-6s", s ? "" : cfg->alias[0] ? cfg->alias : cfg->name, 'A' + s,
					soc->profile->agents[cfg->owner[s]].name);
				for (r = model->dump; r->name; r++)
					fprintf(out, " 0x%08x", ampl_io_read32(&regs, r->off));
				fputc('\n', out);
			}
			fprintf(out, "%-16s %s at 0x%08llx\n", "", cfg->path, (unsigned long long)cfg->addr);
		}
	}
}
