/*
 * Board layer: devicetree node descriptions -> driver and backend configurations (include/amplink/board.h).
 * Freestanding; the caller owns every structure.
 */
#include <amplink/board.h>
#include <amplink/bytes.h>

#include <amplink/ipc/pbuf.h>

volatile void *ampl_board_map(const struct ampl_board_mem *mem, uint64_t addr, uint64_t size)
{
	if (mem && mem->map)
		return mem->map(mem->ctx, addr, size);
	if (size && addr + size - 1 < addr)
		return NULL;
	if ((uint64_t)(uintptr_t)addr != addr || (size && (uint64_t)(uintptr_t)(addr + size - 1) != addr + size - 1))
		return NULL; /* not reachable through a pointer of this core */
	return (volatile void *)(uintptr_t)addr;
}

void ampl_board_ipi_chan_from_profile(const struct ampl_soc_profile *p, const struct ampl_soc_agent *local,
				      const struct ampl_soc_agent *remote, struct ampl_dt_ipi_chan *dt)
{
	ampl_memset(dt, 0, sizeof(*dt));
	dt->remote_id = remote->id;
	dt->remote = remote;
	dt->mbox_cells = -1;
	dt->local_req = ampl_ipi_request_addr(p, local, remote);
	dt->remote_req = ampl_ipi_request_addr(p, remote, local);
	dt->buffered = dt->local_req && dt->remote_req;
	if (dt->buffered) {
		dt->local_resp = dt->local_req + AMPL_IPI_RESP_OFFSET;
		dt->remote_resp = dt->remote_req + AMPL_IPI_RESP_OFFSET;
	} else {
		dt->local_req = dt->remote_req = 0;
	}
}

static int map_buffer(const struct ampl_board_mem *mem, uint64_t addr, struct ampl_io_region *r, uint64_t *bad)
{
	volatile void *p = ampl_board_map(mem, addr, AMPL_IPI_BUF_SIZE);
	if (!p) {
		if (bad)
			*bad = addr;
		return -EINVAL;
	}
	*r = (struct ampl_io_region){ .base = p, .size = AMPL_IPI_BUF_SIZE };
	return 0;
}

int ampl_board_ipi_mbox(const struct ampl_board_mem *mem, const struct ampl_dt_ipi_chan *dt,
			struct xlnx_ipi_host *host, struct xlnx_ipi_mbox *mbox, uint64_t *bad)
{
	if (!dt || !dt->remote || !host || !mbox)
		return -EINVAL;
	mbox->host = host;
	mbox->remote_mask = ampl_ipi_mask(dt->remote);
	mbox->buffered = dt->buffered;
	if (!dt->buffered)
		return 0;
	int ret = map_buffer(mem, dt->local_req, &mbox->local_req, bad);
	ret = ret ? ret : map_buffer(mem, dt->local_resp, &mbox->local_resp, bad);
	ret = ret ? ret : map_buffer(mem, dt->remote_req, &mbox->remote_req, bad);
	return ret ? ret : map_buffer(mem, dt->remote_resp, &mbox->remote_resp, bad);
}

/* The IPI destination whose node is @path, and its controller (*@ct), or NULL. */
static const struct ampl_dt_ipi_chan *ipi_dest(const struct ampl_dt_board *board, const char *path,
					       const struct ampl_dt_ipi_ctrl **ct)
{
	for (unsigned i = 0; i < board->num_ctrls; i++) {
		*ct = &board->ctrls[i];
		for (unsigned j = 0; j < (*ct)->num_chans; j++)
			if (ampl_str_eq((*ct)->chans[j].node.path, path))
				return &(*ct)->chans[j];
	}
	return NULL;
}

static const struct ampl_dt_mbox_ctrl *mbox_ctrl(const struct ampl_dt_board *board, const char *path)
{
	for (unsigned i = 0; i < board->num_mbox_ctrls; i++)
		if (ampl_str_eq(board->mbox_ctrls[i].node.path, path))
			return &board->mbox_ctrls[i];
	return NULL;
}

int ampl_board_ipc_mbox(const struct ampl_dt_board *board, unsigned consumer, unsigned tx_mbox, unsigned rx_mbox,
			const struct ampl_soc_agent *local, struct ampl_board_ipc_mbox *out, const char **why)
{
	const char *dummy;
	if (!why)
		why = &dummy;
	if (!out)
		return -EINVAL;
	*out = (struct ampl_board_ipc_mbox){ 0 };
	if (!board || consumer >= board->num_consumers) {
		*why = "not a node with mboxes";
		return -EINVAL;
	}
	const struct ampl_dt_consumer *con = &board->consumers[consumer];
	if (tx_mbox >= con->num_mboxes || rx_mbox >= con->num_mboxes) {
		*why = "its mboxes have no \"tx\" or no \"rx\" entry";
		return -EINVAL;
	}
	const char *prov = con->mboxes[tx_mbox].provider;
	bool one = ampl_str_eq(con->mboxes[rx_mbox].provider, prov);
	const struct ampl_dt_ipi_ctrl *ct;
	const struct ampl_dt_ipi_chan *ch = ipi_dest(board, prov, &ct);
	const struct ampl_dt_mbox_ctrl *e = ch ? NULL : mbox_ctrl(board, prov);
	const char *me = local ? local->name : NULL;
	if (ch && ct->local != local)
		out->owner = ct->local ? ct->local->name : NULL;
	else if (e && con->agent[0])
		out->owner = ampl_str_eq(con->agent, me) ? NULL : con->agent;
	else if (e && e->agent[0])
		out->owner = ampl_str_eq(e->agent, me) || ampl_str_eq(e->peer, me) ? NULL : e->agent;
	if ((ch && ct->local != local) || out->owner) {
		*why = "its mailbox belongs to another agent";
		return -EPERM;
	}
	if (ch && one) {
		out->ipi = ch;
		return 0;
	}
	if (e && !e->okay) {
		*why = "its mailbox controller is disabled";
		return -EINVAL;
	}
	if (e && one) {
		out->ctrl = e;
		return 0;
	}
	*why = ch ? "mboxes must name both channels of one IPI destination"
		  : e ? "mboxes must name both channels of one mailbox controller"
		      : "mboxes must name an IPI destination or another mailbox controller node";
	return -EINVAL;
}

int ampl_board_mbox_consumer(const struct ampl_dt_consumer *dt, const char *prefix, struct ampl_board_consumer *out)
{
	if (!dt || !prefix || !out || dt->num_mboxes > AMPL_DT_MAX_MBOXES)
		return -EINVAL;
	size_t np = 0;
	while (prefix[np])
		np++;
	for (unsigned k = 0; k < dt->num_mboxes; k++) {
		size_t n = 0;
		while (n < sizeof(dt->mboxes[k].provider) && dt->mboxes[k].provider[n])
			n++;
		if (np + n >= AMPL_BOARD_PROVIDER_MAX)
			return -ENOSPC;
		ampl_memcpy(out->providers[k], prefix, np);
		ampl_memcpy(out->providers[k] + np, dt->mboxes[k].provider, n);
		out->providers[k][np + n] = 0;
		struct mbox_spec *s = &out->specs[k];
		s->provider = out->providers[k];
		s->nargs = dt->mboxes[k].nargs;
		_Static_assert(sizeof(s->args) == sizeof(dt->mboxes[k].args), "specifier cells");
		ampl_memcpy(s->args, dt->mboxes[k].args, sizeof(s->args));
		s->name = dt->mboxes[k].name[0] ? dt->mboxes[k].name : NULL;
	}
	out->con.name = dt->node.path;
	out->con.mboxes = out->specs;
	out->con.num_mboxes = dt->num_mboxes;
	return 0;
}

int ampl_board_icmsg_rx_buf_size(const struct ampl_board_mem *mem, const struct ampl_dt_icmsg *dt, uint32_t *size)
{
	if (!dt || !size)
		return -EINVAL;
	volatile void *rx = ampl_board_map(mem, dt->rx_addr, dt->rx_size);
	struct pbuf_cfg pc;
	bool hs = dt->unbound != AMPL_DT_ICMSG_UNBOUND_DISABLE;
	if (!rx || dt->rx_size > UINT32_MAX || pbuf_cfg_init(&pc, (void *)(uintptr_t)rx, (size_t)dt->rx_size,
							     dt->dcache_alignment, hs))
		return -EINVAL;
	uint32_t n = PBUF_MAX_PAYLOAD(pc.data_len);
	if (n > 0xFFFFu)
		n = 0xFFFFu;
	if (n < ICMSG_MIN_RX_BUF)
		n = ICMSG_MIN_RX_BUF;
	*size = n;
	return 0;
}

/* The local pointers to an instance's two regions. */
static int map_regions(const struct ampl_board_mem *mem, const struct ampl_dt_icmsg *dt, void **tx, void **rx)
{
	if (dt->tx_size > UINT32_MAX || dt->rx_size > UINT32_MAX)
		return -EINVAL;
	*tx = (void *)(uintptr_t)ampl_board_map(mem, dt->tx_addr, dt->tx_size);
	*rx = (void *)(uintptr_t)ampl_board_map(mem, dt->rx_addr, dt->rx_size);
	return *tx && *rx ? 0 : -EINVAL;
}

int ampl_board_icmsg_config(const struct ampl_board_mem *mem, const struct ampl_dt_icmsg *dt,
			    const struct mbox_consumer *mc, void *rx_buf, uint32_t rx_buf_size,
			    struct ipc_icmsg_config *cfg)
{
	void *tx, *rx;
	if (!dt || !mc || !rx_buf || !cfg || rx_buf_size < ICMSG_MIN_RX_BUF || map_regions(mem, dt, &tx, &rx))
		return -EINVAL;
	*cfg = (struct ipc_icmsg_config){ .icmsg = {
		.tx_mem = tx,
		.tx_size = (uint32_t)dt->tx_size,
		.rx_mem = rx,
		.rx_size = (uint32_t)dt->rx_size,
		.dcache_alignment = dt->dcache_alignment,
		.unbound_mode = (enum icmsg_unbound_mode)dt->unbound,
		.peer_rx_max_default = dt->peer_max_packet,
		.size_ext = dt->max_packet_ext,
		.mbox_node = mc,
		.rx_buf = rx_buf,
		.rx_buf_size = rx_buf_size,
	} };
	return 0;
}

int ampl_board_ipc_multi_config(const struct ampl_board_mem *mem, const struct ampl_dt_ipc_multi *mdt,
				const struct mbox_consumer *mc, struct ipc_multi_config *cfg)
{
	void *tx, *rx;
	if (!mdt || !mc || !cfg || map_regions(mem, &mdt->base, &tx, &rx))
		return -EINVAL;
	const struct ampl_dt_icmsg *dt = &mdt->base;
	*cfg = (struct ipc_multi_config){
		.tx_mem = tx,
		.tx_size = (uint32_t)dt->tx_size,
		.rx_mem = rx,
		.rx_size = (uint32_t)dt->rx_size,
		.dcache_alignment = dt->dcache_alignment,
		.block_size = mdt->block_size,
		.block_count = mdt->block_count,
		.inline_max = (uint8_t)mdt->inline_max,
		.mbox_node = mc,
	};
	return 0;
}

int ampl_board_rpmsg_config(const struct ampl_board_mem *mem, const struct ampl_dt_rpmsg *dt,
			    const struct mbox_consumer *mc, struct ipc_rpmsg_config *cfg)
{
	if (!dt || !mc || !cfg || dt->addr > UINT32_MAX || dt->size > UINT32_MAX)
		return -EINVAL;
	volatile void *shm = ampl_board_map(mem, dt->addr, dt->size);
	if (!shm)
		return -EINVAL;
	*cfg = (struct ipc_rpmsg_config){
		.role = dt->role == AMPL_DT_RPMSG_HOST ? RPMSG_HOST : RPMSG_REMOTE,
		.shm = (void *)(uintptr_t)shm,
		.shm_size = (uint32_t)dt->size,
		.da_base = (uint32_t)dt->addr,
		.vring_num = dt->vring_num,
		.vring_align = dt->vring_align,
		.h2r_buf_size = dt->h2r_buffer_size,
		.r2h_buf_size = dt->r2h_buffer_size,
		.mbox_node = mc,
	};
	return 0;
}
