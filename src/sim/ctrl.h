/*
 * Mailbox controller models of the virtual SoC: one interface for every controller block but the IPI (the SoC's base
 * block: src/sim/ipi_model.c, its words part of every agent's page). Private to the simulation.
 *
 * A model is one file in src/sim/ctrl/ that registers itself with SIM_CTRL_MODEL(); the build lists every file of
 * that folder in a generated table (cmake/registry.cmake), so image.c, trace.c and the access paths name no model.
 * At creation each model finds its instances in the loaded devicetree (@plan: one struct sim_ctrl_cfg each, written
 * into the image's validated header); each instance gets one page per side that only the process attached as that
 * side's agent writes (read-only in other agents' processes: src/sim/access.c) and SIM_CTRL_STATE bytes that only
 * the supervisor's handle writes (read-only in every attached process: e.g. its ring words), so every word has one
 * writer; a
 * process reaches one side of one instance through the model's register handlers (@ops, context struct
 * sim_ctrl_port), which refuse a handle not attached as that side's agent (sim_access_ctrl()). Tracing names an
 * instance by its node name and its model's name; an access fault names one side ("mu:ipm@40028000:B").
 *
 * An agent reaches its side of an instance through the model's device (@open, @close; struct sim_ctrl_dev): at
 * attach it opens one for each instance with a side of it, so that src/sim/agent.c, src/sim/trace.c and the
 * access paths name no controller but the IPI. The device registers the side's framework controller under the
 * node's name ("SOC:/path", what a consumer's mboxes name), and may put a device over it (the MU: an IPM device).
 */
#ifndef AMPL_SIM_CTRL_H
#define AMPL_SIM_CTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "port/posix/port_posix.h"

#include <amplink/device.h>
#include <amplink/dt_nodes.h>
#include <amplink/io.h>
#include <amplink/mailbox_controller.h>

struct ampl_soc;

#define SIM_MAX_CTRLS 8     /* controller instances in one SoC, every model together */
#define SIM_CTRL_SIDES 2    /* most sides (agents) one instance connects */
#define SIM_CTRL_STATE 256u /* bytes of supervisor state one instance may have (a multiple of 64) */
#define SIM_CTRL_MODEL_NAME 16u

/* One controller instance: what the devicetree said, written once at creation (part of the validated header). */
struct sim_ctrl_cfg {
	char model[SIM_CTRL_MODEL_NAME]; /* struct sim_ctrl_model.name, terminated */
	char name[64];                   /* node name, "ipm@40028000" */
	char alias[64];                  /* "ipm0", or "" */
	char label[64];                  /* node label, or "" */
	char path[256];                  /* node path, "/ipm@40028000" */
	uint64_t addr, size;
	int32_t irq;
	uint32_t num_sides;              /* the model's sides */
	uint32_t owner[SIM_CTRL_SIDES];  /* agent index of each side, distinct */
};

/* Per-process view of one side of one instance: the I/O region context of the model's register handlers. */
struct sim_ctrl_port {
	struct ampl_soc *soc;
	unsigned ctrl; /* index of the instance in the SoC */
	unsigned side;
};

/* What a model's @open is given: the agent that opens its side of an instance. */
struct sim_ctrl_dev_ctx {
	const struct ampl_dt_board *board; /* the SoC's devicetree, parsed (the agent's copy) */
	struct ampl_io_region regs;        /* the side's modelled registers (sim_ctrl_regs()) */
	uint32_t ack_timeout_us;           /* the agent's option, for an IPM device over the controller */
};

/**
 * struct sim_ctrl_dev - an agent's device over its side of one controller instance (src/sim/agent.c).
 * @model, @ctrl, @side, @soc, @agent: the instance, the side and the agent's index (set by the agent)
 * @node, @name, @label: the names the agent gives it: @node for the framework controller ("SOC:/path" as a consumer's
 *              mboxes name it), @name and @label for the device (the node's name and alias or label); a process
 *              that attached the other side too gets them with ":<agent>" appended
 * @mbox:       set by @open: the framework controller it registered as @node (traces name its channels)
 * @api, @config, @data, @init: set by @open: a device over it (NULL @api: none), registered by the agent as
 *              @name / @label (@dev, @state)
 * @isr, @isr_arg: set by @open (optional): connected to the agent's interrupt line
 * @priv:       set by @open: its allocation, freed by the agent after @close
 */
struct sim_ctrl_dev {
	const struct sim_ctrl_model *model;
	unsigned ctrl, side;
	struct ampl_soc *soc;
	unsigned agent;
	char node[AMPL_SHM_NAME_MAX + AMPL_DT_PATH_MAX + 2 + AMPL_DT_NAME_MAX];
	char name[2 * AMPL_DT_NAME_MAX];
	char label[2 * AMPL_DT_NAME_MAX];
	struct mbox_controller *mbox;
	const void *api;
	const void *config;
	void *data;
	ampl_device_init_fn init;
	void (*isr)(void *arg);
	void *isr_arg;
	void *priv;
	struct ampl_device dev;
	struct ampl_device_state state;
};

/* One register `amplink soc show` reads from each side of an instance (struct sim_ctrl_model.dump). */
struct sim_ctrl_reg {
	const char *name; /* its column's header, at most 10 characters: "SR" */
	uint32_t off;     /* its offset in a side's register block */
};

/**
 * struct sim_ctrl_model - one controller model.
 * @name:       its name in the image and in traces ("mu"); shorter than SIM_CTRL_MODEL_NAME
 * @sides:      how many sides an instance has (1..SIM_CTRL_SIDES), each owned by one agent
 * @state_size: bytes of supervisor state per instance, written only by a handle attached as no agent (at most
 *              SIM_CTRL_STATE; zeroed at creation = reset)
 *              Each side also has a page (SIM_PAGE bytes, sim_ctrl_side(); zeroed at creation) that only that
 *              side's agent writes.
 * @reg_span:   bytes of one side's register block
 * @ops:        the register read/write/wait handlers of one side (context: struct sim_ctrl_port)
 * @plan:       at creation, from the board's devicetree: its instances into @cfg (room for @cap; the name, path,
 *              registers, interrupt and side owners: @profile's agents). Return: how many, or a negative errno with
 *              the last error set (sim_error(): node and reason). Context: thread.
 * @default_tree: optional: the board of @profile without a devicetree (a tree of this controller's nodes into
 *              @buf, @cap bytes). Return: 1 when written, 0 when @profile has no such default, < 0 on error.
 * @open:       optional: an agent's device over side @d->side of instance @d->ctrl: its driver on @ctx->regs,
 *              registered with the mailbox framework as @d->node; sets @d's fields of @open. Return: 0, -EEXIST
 *              (a controller named @d->node is registered in this process: the agent retries with other names),
 *              or a negative errno. Context: thread, the agent's attach. A model without it gives agents no device.
 * @close:      the device's undoing of @open, before the agent unregisters its device and frees @d->priv, the
 *              agent's interrupt context stopped. Context: thread.
 * @profile:    optional: the SoC profile a board is when it has this model's nodes and no IPI node (the MU: imx;
 *              sim_ctrl_board_profile())
 * @dump:       optional: the registers `amplink soc show` reads from each side (sim_ctrl_show()), ended by
 *              { NULL }; reading them must change nothing (not a receive register that a read consumes)
 */
struct sim_ctrl_model {
	const char *name;
	unsigned sides;
	size_t state_size;
	uint32_t reg_span;
	const struct ampl_io_ops *ops;
	int (*plan)(const struct ampl_dt_board *board, const struct ampl_soc_profile *profile, struct sim_ctrl_cfg *cfg,
		    unsigned cap);
	int (*default_tree)(const struct ampl_soc_profile *profile, void *buf, int cap);
	int (*open)(const struct sim_ctrl_dev_ctx *ctx, struct sim_ctrl_dev *d);
	void (*close)(struct sim_ctrl_dev *d);
	const struct ampl_soc_profile *profile;
	const struct sim_ctrl_reg *dump;
};

/* SIM_CTRL_MODEL(nxp_mu) = { ... }; in src/sim/ctrl/nxp_mu.c (the name is the file's stem). */
#define SIM_CTRL_MODEL(stem) const struct sim_ctrl_model sim_ctrl_##stem

/* The generated table: one entry per src/sim/ctrl/ file, in file-name order. */
extern const struct sim_ctrl_model *const sim_ctrl_table[];
extern const unsigned sim_ctrl_table_size;

/** sim_ctrl_model_find() - the model named @name (a terminated string), or NULL. Context: any. */
const struct sim_ctrl_model *sim_ctrl_model_find(const char *name);
/** sim_ctrl_model_of() - the model of instance @ctrl of @soc (validated at open). Context: any. */
const struct sim_ctrl_model *sim_ctrl_model_of(const struct ampl_soc *soc, unsigned ctrl);
/**
 * sim_ctrl_state() - the supervisor's words of @pt's instance (state_size bytes, 64-byte aligned): writable only in
 * a handle attached as no agent. Context: any.
 */
void *sim_ctrl_state(const struct sim_ctrl_port *pt);
/**
 * sim_ctrl_side() - the page of side @side of instance @ctrl of @soc (SIM_PAGE bytes): writable only
 * in a process attached as that side's agent (or as none). Context: any.
 */
void *sim_ctrl_side(const struct ampl_soc *soc, unsigned ctrl, unsigned side);
/** sim_ctrl_cfg() - the validated description of @pt's instance. Context: any. */
const struct sim_ctrl_cfg *sim_ctrl_cfg(const struct sim_ctrl_port *pt);
/** sim_ctrl_count() - how many instances of model @m @soc has. Context: any. */
unsigned sim_ctrl_count(const struct ampl_soc *soc, const struct sim_ctrl_model *m);
/** sim_ctrl_nth() - instance index of the @n-th (0..) instance of model @m in @soc, or -1. Context: any. */
int sim_ctrl_nth(const struct ampl_soc *soc, const struct sim_ctrl_model *m, unsigned n);
/**
 * sim_ctrl_regs() - the modelled registers of side @side of instance @ctrl (the model's handlers, as that side).
 * Return: 0; -EINVAL (no such instance or side). Context: any.
 */
int sim_ctrl_regs(struct ampl_soc *soc, unsigned ctrl, unsigned side, struct ampl_io_region *regs);
/**
 * sim_ctrl_cfg_node() - in a model's @plan: @cfg's node fields from controller node @node (@alias may be "" and
 * @irq -1). Context: any.
 */
void sim_ctrl_cfg_node(struct sim_ctrl_cfg *cfg, const struct ampl_dt_node *node, const char *alias, uint64_t addr,
		       uint64_t size, int irq);
/**
 * sim_ctrl_board_profile() - the profile that devicetree blob @dtb (@size bytes) implies by its controllers: the
 * first model's, in table order, with a declared @profile whose @plan finds an instance (or a fault) in the blob
 * loaded for that profile. Return: the profile, or NULL (no such model). Context: thread.
 */
const struct ampl_soc_profile *sim_ctrl_board_profile(const void *dtb, size_t size);
/**
 * sim_ctrl_show() - `amplink soc show`'s register dump: for each model with instances in @soc and a @dump table, a
 * header (its name in capitals, SIDE, AGENT, the registers' names), a line per side of each instance (the node's
 * alias or name on the first; the side's letter and agent; the registers read as that side) and one with the node's
 * path and address. Context: thread; a handle that may read every side (any, for reads).
 */
void sim_ctrl_show(struct ampl_soc *soc, FILE *out);
/** sim_ctrl_side_of() - the side of instance @ctrl of @soc that agent @agent owns, or -1. Context: any. */
int sim_ctrl_side_of(const struct ampl_soc *soc, unsigned ctrl, unsigned agent);

#endif /* AMPL_SIM_CTRL_H */
