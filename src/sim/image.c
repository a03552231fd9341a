/* Virtual SoC images: create, open, validate, map physical addresses. */
#include "sim/image.h"
#include "sim/trace.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amplink/host/dt.h>
#include <libfdt.h>

static _Thread_local char last_error[512];

int sim_error(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return err;
}

const char *ampl_soc_last_error(void)
{
	return last_error;
}

/* "nobody (uid 65534)", or "uid 1234" for a uid without a name. */
static void user_name(uint32_t uid, char *buf, size_t n)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];
	if (!getpwuid_r((uid_t)uid, &pw, tmp, sizeof(tmp), &res) && res)
		snprintf(buf, n, "%s (uid %u)", res->pw_name, uid);
	else
		snprintf(buf, n, "uid %u", uid);
}

static uint64_t page_up(uint64_t v)
{
	return (v + SIM_PAGE - 1) & ~(uint64_t)(SIM_PAGE - 1);
}

/* Largest image we agree to create or map: protects against a corrupt header and runaway devicetrees. */
#define SIM_MAX_IMAGE (1ull << 30)

/*
 * The controllers of @board, model by model (src/sim/ctrl.h), into @cfg (SIM_MAX_CTRLS entries, zeroed).
 * Return: how many, or a negative errno with the last error set.
 */
static int plan_ctrls(const struct ampl_dt_board *board, const struct ampl_soc_profile *profile,
		      struct sim_ctrl_cfg *cfg)
{
	unsigned n = 0;
	for (unsigned i = 0; i < sim_ctrl_table_size; i++) {
		const struct sim_ctrl_model *m = sim_ctrl_table[i];
		int k = m->plan(board, profile, cfg + n, SIM_MAX_CTRLS - n);
		if (k < 0)
			return k;
		for (unsigned j = n; j < n + (unsigned)k; j++) {
			snprintf(cfg[j].model, sizeof(cfg[j].model), "%s", m->name);
			cfg[j].num_sides = m->sides;
		}
		n += (unsigned)k;
	}
	return (int)n;
}

/*
 * Map the backing file @path with the image's rules (no symbolic link, a regular file of this user unless
 * @any_owner, not empty); the last error words a refusal as ampl_soc_open() does for an image. @what: "SoC 'x'".
 */
static int backing_map(const char *what, const char *path, bool any_owner, void **base, size_t *size)
{
	uint32_t owner = 0;
	char who[128], me[128];
	int ret = ampl_shm_attach_path(path, any_owner ? AMPL_SHM_ANY_OWNER : 0u, base, size, &owner);
	if (!ret)
		return 0;
	user_name(owner, who, sizeof(who));
	if (ret == -ENOENT)
		return sim_error(ret, "%s: backing file %s does not exist", what, path);
	if (ret == -ELOOP)
		return sim_error(ret, "%s: backing file %s is a symbolic link, which is never followed", what, path);
	if (ret == -ENOTSUP)
		return sim_error(-EINVAL, "%s: backing file %s is not a regular file", what, path);
	if (ret == -EPERM) {
		user_name((uint32_t)geteuid(), me, sizeof(me));
		return sim_error(ret, "%s: backing file %s belongs to %s, not to %s; its owner can shrink or rewrite it "
				 "at any time, so it is refused (AMPL_SOC_ALLOW_OTHER_OWNER, amplink --allow-other-owner, "
				 "to use it anyway)", what, path, who, me);
	}
	if (ret == -EINVAL)
		return sim_error(ret, "%s: backing file %s is empty", what, path);
	if (ret == -EACCES)
		return sim_error(ret, "%s: permission denied on backing file %s, which belongs to %s", what, path, who);
	return sim_error(ret, "%s: cannot map backing file %s: %s", what, path, strerror(-ret));
}

/*
 * The backing window of @opts over the memory map @mems: checks the file and the window, marks the regions inside
 * it as backed (their offset then in the file). 0, or the error with the last error set.
 */
static int backing_plan(const char *name, const struct ampl_soc_create_opts *opts, struct sim_mem *mems, unsigned nm,
			struct sim_backing *b)
{
	char what[128];
	snprintf(what, sizeof(what), "SoC '%s'", name);
	const char *path = opts->backing_path;
	if (path[0] != '/')
		return sim_error(-EINVAL, "%s: backing file '%s' must be an absolute path (every process opens it)",
				 what, path);
	if (strlen(path) >= sizeof(b->path))
		return sim_error(-EINVAL, "%s: backing file path longer than %zu characters", what, sizeof(b->path) - 1);
	if (opts->backing_base % SIM_PAGE)
		return sim_error(-EINVAL, "%s: backing base 0x%llx is not a multiple of the %u-byte page", what,
				 (unsigned long long)opts->backing_base, SIM_PAGE);
	void *map;
	size_t size;
	int ret = backing_map(what, path, opts->flags & AMPL_SOC_ALLOW_OTHER_OWNER, &map, &size);
	if (ret)
		return ret;
	ampl_shm_detach(map, size);
	if (size % SIM_PAGE || size > SIM_MAX_IMAGE)
		return sim_error(-EINVAL, "%s: backing file %s has %zu bytes: not a multiple of the %u-byte page%s", what,
				 path, size, SIM_PAGE, size > SIM_MAX_IMAGE ? ", or larger than 1 GiB" : "");
	uint64_t lo = opts->backing_base, hi = lo + size;
	if (hi < lo)
		return sim_error(-EINVAL, "%s: backing window 0x%llx + 0x%zx wraps around", what,
				 (unsigned long long)lo, size);
	unsigned held = 0;
	for (unsigned i = 0; i < nm; i++) {
		uint64_t a = mems[i].phys, z = mems[i].phys + mems[i].size;
		if (z <= lo || a >= hi)
			continue;
		if (a < lo || z > hi)
			return sim_error(-EINVAL, "%s: backing window [0x%llx, 0x%llx) of %s cuts memory region %s "
					 "[0x%llx, 0x%llx): a window must hold each region it touches whole", what,
					 (unsigned long long)lo, (unsigned long long)hi, path, mems[i].name,
					 (unsigned long long)a, (unsigned long long)z);
		mems[i].backed = 1;
		mems[i].off = a - lo;
		held++;
	}
	if (!held)
		return sim_error(-EINVAL, "%s: backing window [0x%llx, 0x%llx) of %s holds no memory region", what,
				 (unsigned long long)lo, (unsigned long long)hi, path);
	snprintf(b->path, sizeof(b->path), "%s", path);
	b->phys = lo;
	b->size = size;
	return 0;
}

/*
 * Where aperture @a lies in its memory region of @mems: the index of the region, or -1 when it is in none or not
 * on a page of the mapping (the offset of a region in the image, or in the backing file, is page-aligned).
 */
static int aperture_mapping(const struct sim_mem *mems, unsigned nm, const struct sim_aperture *a)
{
	for (unsigned i = 0; i < nm; i++) {
		const struct sim_mem *m = &mems[i];
		if (a->phys < m->phys || a->phys - m->phys >= m->size || a->size > m->size - (a->phys - m->phys))
			continue;
		if (m->paged)
			return -1; /* the IPI buffer RAM has its own rule: each buffer is its writer's */
		bool aligned = !((m->off + (a->phys - m->phys)) % SIM_PAGE) && !(a->size % SIM_PAGE);
		return aligned ? (int)i : -1;
	}
	return -1;
}

int ampl_soc_create(const char *name, const struct ampl_soc_profile *profile, const void *dtb, size_t dtb_size)
{
	return ampl_soc_create_opts(name, profile, dtb, dtb_size, NULL);
}

int ampl_soc_create_opts(const char *name, const struct ampl_soc_profile *profile, const void *dtb, size_t dtb_size,
			 const struct ampl_soc_create_opts *opts)
{
	last_error[0] = 0;
	if (ampl_shm_name_valid(name))
		return sim_error(-EINVAL, "invalid SoC name '%s': use 1-%d of [A-Za-z0-9_.-], not starting with '.'",
				 name ? name : "(null)", AMPL_SHM_NAME_MAX);
	if (!profile)
		return sim_error(-EINVAL, "no SoC profile");
	/* Without a devicetree: the built-in board on a ZynqMP; an empty tree elsewhere (channels then come from the
	 * profile's buffer layout through ampl_agent_channel()). */
	_Alignas(8) char empty[1024];
	if (!dtb && profile == &ampl_soc_zynqmp) {
		dtb = ampl_default_board_dtb;
		dtb_size = ampl_default_board_dtb_size;
	}
	for (unsigned i = 0; !dtb && i < sim_ctrl_table_size; i++) { /* a controller's default board (imx: an MU) */
		const struct sim_ctrl_model *m = sim_ctrl_table[i];
		int r = m->default_tree ? m->default_tree(profile, empty, (int)sizeof(empty)) : 0;
		if (r < 0)
			return sim_error(-ENOMEM, "cannot build the default devicetree of the %s profile (%s)",
					 profile->name, m->name);
		if (r > 0) {
			dtb = empty;
			dtb_size = fdt_totalsize(empty);
		}
	}
	if (!dtb) {
		if (fdt_create_empty_tree(empty, sizeof(empty)))
			return sim_error(-ENOMEM, "cannot build an empty devicetree");
		dtb = empty;
		dtb_size = fdt_totalsize(empty);
	}
	struct ampl_dt_board *board = calloc(1, sizeof(*board));
	struct ampl_dt_diag *diag = calloc(1, sizeof(*diag));
	int ret = 0;
	void *base = NULL;
	if (!board || !diag) {
		ret = sim_error(-ENOMEM, "out of memory");
		goto out;
	}
	ret = ampl_dt_load_blob(dtb, dtb_size, "board devicetree", profile, board, diag);
	if (ret) {
		sim_error(ret, "%s", diag->msg);
		goto out;
	}
	if (profile->num_agents > SIM_MAX_AGENTS || board->num_mems + 1 > SIM_MAX_MEMS) {
		ret = sim_error(-EINVAL, "too many agents or memory regions");
		goto out;
	}

	struct sim_ctrl_cfg ctrls[SIM_MAX_CTRLS];
	memset(ctrls, 0, sizeof(ctrls));
	int nctrl = plan_ctrls(board, profile, ctrls);
	if (nctrl < 0) {
		ret = nctrl;
		goto out;
	}

	struct sim_mem mems[SIM_MAX_MEMS];
	unsigned nm = 0;
	memset(mems, 0, sizeof(mems));
	if (profile->buf_size) { /* a profile without an IPI block has no buffer RAM */
		snprintf(mems[nm].name, sizeof(mems[nm].name), "ipi-buffers");
		mems[nm].phys = profile->buf_base;
		mems[nm].size = profile->buf_size;
		nm++;
	}
	for (unsigned i = 0; i < board->num_mems; i++, nm++) {
		snprintf(mems[nm].name, sizeof(mems[nm].name), "%s", board->mems[i].node.name);
		mems[nm].phys = board->mems[i].addr;
		mems[nm].size = board->mems[i].size;
	}
	uint64_t off = page_up(sizeof(struct sim_image));
	struct ampl_dt_span spans[SIM_MAX_MEMS]; /* the devicetree loader's rule for a memory map (dt check's) */
	char why[256];
	unsigned bad;
	for (unsigned i = 0; i < nm; i++)
		spans[i] = (struct ampl_dt_span){ mems[i].name, mems[i].phys, mems[i].size };
	if (ampl_dt_check_spans(spans, nm, &bad, why, sizeof(why))) {
		ret = sim_error(-EINVAL, "memory region %s: %s", mems[bad].name, why);
		goto out;
	}
	struct sim_backing backing;
	memset(&backing, 0, sizeof(backing));
	if (opts && (opts->flags & ~AMPL_SOC_ALLOW_OTHER_OWNER)) {
		ret = sim_error(-EINVAL, "bad create flags");
		goto out;
	}
	if (opts && opts->backing_path) {
		ret = backing_plan(name, opts, mems, nm, &backing);
		if (ret)
			goto out;
	}
	/* The buffer RAM in the image is laid out by writer, so that pages can say who writes each buffer. */
	if (profile->buf_size && !mems[0].backed && sim_buf_paged(mems[0].size))
		mems[0].paged = 1;
	for (unsigned i = 0; i < nm; i++) {
		if (mems[i].backed)
			continue; /* in the backing file: no room in the image */
		if (mems[i].size > SIM_MAX_IMAGE) {
			ret = sim_error(-EINVAL, "memory region %s: size 0x%llx is larger than the image", mems[i].name,
					(unsigned long long)mems[i].size);
			goto out;
		}
		mems[i].off = off;
		off = page_up(off + sim_mem_span(&mems[i]));
		if (off > SIM_MAX_IMAGE) {
			ret = sim_error(-EINVAL, "memory regions exceed the %llu MiB image limit",
					(unsigned long long)(SIM_MAX_IMAGE >> 20));
			goto out;
		}
	}
	struct sim_aperture aps[SIM_MAX_APERTURES];
	memset(aps, 0, sizeof(aps));
	if (board->num_apertures > SIM_MAX_APERTURES) {
		ret = sim_error(-EINVAL, "more than %d apertures", SIM_MAX_APERTURES);
		goto out;
	}
	for (unsigned i = 0; i < board->num_apertures; i++) {
		const struct ampl_dt_aperture *a = &board->apertures[i];
		size_t len = strnlen(a->node.name, sizeof(a->node.name));
		if (len >= sizeof(aps[i].name)) {
			ret = sim_error(-EINVAL, "board devicetree: %s: node name longer than %zu bytes (the fault record's)",
					a->node.path, sizeof(aps[i].name) - 1);
			goto out;
		}
		memcpy(aps[i].name, a->node.name, len + 1);
		aps[i].phys = a->addr;
		aps[i].size = a->size;
		aps[i].readers = a->readers;
		aps[i].writers = a->writers;
		if (aperture_mapping(mems, nm, &aps[i]) < 0) {
			ret = sim_error(-EINVAL, "%s: reg: 0x%llx is not on a page of the image (its reserved-memory "
					"region must start on a %u-byte page)", a->node.path,
					(unsigned long long)a->addr, SIM_PAGE);
			goto out;
		}
	}
	uint64_t dtb_off = off;
	uint64_t size = page_up(off + dtb_size);

	ret = ampl_shm_create(name, (size_t)size, &base);
	if (ret) {
		char path[sizeof(AMPL_SHM_DIR) + AMPL_SHM_NAME_MAX + 16], who[128];
		uint32_t uid;
		ampl_shm_path(path, sizeof(path), name);
		if (ret == -EEXIST && !ampl_shm_owner(name, &uid) && uid != (uint32_t)geteuid()) {
			user_name(uid, who, sizeof(who));
			sim_error(ret, "SoC '%s' already exists and belongs to %s (%s)", name, who, path);
		} else if (ret == -EEXIST) {
			sim_error(ret, "SoC '%s' already exists (amplink soc destroy %s)", name, name);
		} else if (ret == -ENOSPC) {
			sim_error(ret, "cannot create SoC '%s': %s needs %llu bytes and its file system has no room for "
				  "them (ENOSPC: %s); nothing was created", name, path, (unsigned long long)size,
				  strerror(ENOSPC));
		} else {
			sim_error(ret, "cannot create the shared-memory image of '%s' (%s): %s", name, path,
				  strerror(-ret));
		}
		goto out;
	}
	struct sim_image *img = base;
	img->layout_version = SIM_LAYOUT_VERSION;
	img->header_size = sizeof(*img);
	img->image_size = size;
	snprintf(img->profile, sizeof(img->profile), "%s", profile->name);
	snprintf(img->name, sizeof(img->name), "%s", name);
	img->num_agents = profile->num_agents;
	img->num_mems = nm;
	memcpy(img->mems, mems, sizeof(mems));
	img->backing = backing;
	img->num_ctrls = (uint32_t)nctrl;
	memcpy(img->ctrl_cfg, ctrls, sizeof(ctrls));
	img->num_apertures = board->num_apertures;
	memcpy(img->apertures, aps, sizeof(aps));
	img->dtb_off = dtb_off;
	img->dtb_size = dtb_size;
	memcpy((char *)base + dtb_off, dtb, dtb_size);
	for (unsigned i = 0; i < profile->num_agents; i++)
		atomic_store(&img->regs[i].imr, profile->imr_reset);
	/* Publish: an opener that sees the magic sees a complete header. */
	atomic_thread_fence(memory_order_release);
	memcpy(img->magic, SIM_MAGIC, sizeof(img->magic));
	ampl_shm_detach(base, (size_t)size);
out:
	free(board);
	free(diag);
	return ret;
}

int ampl_soc_destroy(const char *name)
{
	last_error[0] = 0;
	int ret = ampl_shm_unlink(name);
	if (!ret)
		sim_trace_unlink(name);
	if (ret == -ENOENT)
		return sim_error(ret, "no SoC named '%s' (amplink soc list shows them)", name);
	if (ret == -EINVAL)
		return sim_error(ret, "invalid SoC name '%s'", name ? name : "(null)");
	if (ret) {
		char path[sizeof(AMPL_SHM_DIR) + AMPL_SHM_NAME_MAX + 16], who[128] = "";
		uint32_t uid;
		ampl_shm_path(path, sizeof(path), name);
		if (!ampl_shm_owner(name, &uid)) {
			char w[100];
			user_name(uid, w, sizeof(w));
			snprintf(who, sizeof(who), "; it belongs to %s", w);
		}
		if (ret == -EPERM || ret == -EACCES)
			return sim_error(ret, "cannot remove SoC '%s' (%s): permission denied%s", name, path, who);
		return sim_error(ret, "cannot remove SoC '%s' (%s): %s%s", name, path, strerror(-ret), who);
	}
	return 0;
}

static int validate(const struct sim_image *img, size_t size, const char *name,
		    const struct ampl_soc_profile **profile)
{
	if (size < sizeof(*img) || memcmp(img->magic, SIM_MAGIC, sizeof(img->magic)) != 0)
		return sim_error(-EINVAL, "'%s' is not an amplink SoC image (or is still being created)", name);
	if (img->layout_version != SIM_LAYOUT_VERSION || img->header_size != sizeof(*img))
		return sim_error(-EINVAL, "SoC '%s' has image layout %u; this amplink uses %u", name,
				 img->layout_version, SIM_LAYOUT_VERSION);
	if (img->image_size != size)
		return sim_error(-EINVAL, "SoC '%s': header says %llu bytes, file has %zu", name,
				 (unsigned long long)img->image_size, size);
	char pname[sizeof(img->profile) + 1];
	memcpy(pname, img->profile, sizeof(img->profile));
	pname[sizeof(img->profile)] = 0;
	*profile = ampl_soc_profile_find(pname);
	if (!*profile)
		return sim_error(-EINVAL, "SoC '%s': unknown profile '%s'", name, pname);
	if (img->num_agents != (*profile)->num_agents)
		return sim_error(-EINVAL, "SoC '%s': the image's agent count is corrupt (%u; a %s image has %u)", name,
				 img->num_agents, (*profile)->name, (*profile)->num_agents);
	if ((img->num_mems < 1 && (*profile)->buf_size) || img->num_mems > SIM_MAX_MEMS)
		return sim_error(-EINVAL, "SoC '%s': bad memory map", name);
	if (img->num_ctrls > SIM_MAX_CTRLS)
		return sim_error(-EINVAL, "SoC '%s': bad controller table", name);
	for (unsigned i = 0; i < img->num_ctrls; i++) {
		const struct sim_ctrl_cfg *m = &img->ctrl_cfg[i];
		const struct sim_ctrl_model *model =
			memchr(m->model, 0, sizeof(m->model)) ? sim_ctrl_model_find(m->model) : NULL;
		if (!model || m->num_sides != model->sides)
			return sim_error(-EINVAL, "SoC '%s': controller %u has an unknown model", name, i);
		for (unsigned s = 0; s < m->num_sides; s++) {
			bool dup = false;
			for (unsigned t = 0; t < s; t++)
				dup |= m->owner[t] == m->owner[s];
			if (m->owner[s] >= img->num_agents || dup)
				return sim_error(-EINVAL, "SoC '%s': controller %u (%s) has bad side owners", name, i,
						 model->name);
		}
	}
	const struct sim_backing *b = &img->backing;
	bool has_backing = b->path[0] != 0;
	if (has_backing && (b->path[0] != '/' || !memchr(b->path, 0, sizeof(b->path)) || !b->size ||
			    b->size % SIM_PAGE || b->size > SIM_MAX_IMAGE || b->phys % SIM_PAGE ||
			    b->phys + b->size < b->phys))
		return sim_error(-EINVAL, "SoC '%s': bad backing file record", name);
	for (unsigned i = 0; i < img->num_mems; i++) {
		const struct sim_mem *m = &img->mems[i];
		bool paged_ok = !i && !m->backed && (*profile)->buf_size && sim_buf_paged(m->size) && !(m->off % SIM_PAGE);
		if (m->paged && !paged_ok)
			return sim_error(-EINVAL, "SoC '%s': memory region %u has a corrupt buffer layout", name, i);
		if (m->backed) {
			if (!has_backing || m->phys < b->phys || m->off != m->phys - b->phys || m->off > b->size ||
			    m->size > b->size - m->off)
				return sim_error(-EINVAL, "SoC '%s': memory region %u lies outside its backing file", name,
						 i);
			continue;
		}
		if (m->off > size || sim_mem_span(m) > size - m->off)
			return sim_error(-EINVAL, "SoC '%s': memory region %u lies outside the image", name, i);
	}
	if (img->num_apertures > SIM_MAX_APERTURES)
		return sim_error(-EINVAL, "SoC '%s': bad aperture table", name);
	for (unsigned i = 0; i < img->num_apertures; i++) {
		const struct sim_aperture *a = &img->apertures[i];
		uint32_t all = (uint32_t)((1ull << img->num_agents) - 1);
		if (aperture_mapping(img->mems, img->num_mems, a) < 0 || (a->readers | a->writers) & ~all)
			return sim_error(-EINVAL, "SoC '%s': aperture %u is corrupt", name, i);
	}
	if (img->dtb_off > size || img->dtb_size > size - img->dtb_off)
		return sim_error(-EINVAL, "SoC '%s': devicetree lies outside the image", name);
	return 0;
}

int ampl_soc_open(const char *name, struct ampl_soc **out)
{
	return ampl_soc_open_flags(name, 0, out);
}

int ampl_soc_open_flags(const char *name, unsigned flags, struct ampl_soc **out)
{
	last_error[0] = 0;
	if (ampl_shm_name_valid(name))
		return sim_error(-EINVAL, "invalid SoC name '%s'", name ? name : "(null)");
	if (!out || (flags & ~AMPL_SOC_ALLOW_OTHER_OWNER))
		return sim_error(-EINVAL, "bad arguments");
	void *base;
	size_t size;
	uint32_t owner = 0;
	char path[sizeof(AMPL_SHM_DIR) + AMPL_SHM_NAME_MAX + 16], who[128], me[128];
	ampl_shm_path(path, sizeof(path), name);
	int ret = ampl_shm_attach(name, flags & AMPL_SOC_ALLOW_OTHER_OWNER ? AMPL_SHM_ANY_OWNER : 0u, &base, &size,
				  &owner);
	user_name(owner, who, sizeof(who));
	if (ret == -ENOENT)
		return sim_error(ret, "no SoC named '%s' (create it with: amplink soc create %s)", name, name);
	if (ret == -ELOOP)
		return sim_error(ret, "SoC '%s': %s is a symbolic link, which is never followed", name, path);
	if (ret == -ENOTSUP)
		return sim_error(-EINVAL, "SoC '%s': %s is not a regular file", name, path);
	if (ret == -EPERM) {
		user_name((uint32_t)geteuid(), me, sizeof(me));
		return sim_error(ret, "SoC '%s': %s belongs to %s, not to %s; its owner can shrink or rewrite it at any "
				 "time, so it is refused (AMPL_SOC_ALLOW_OTHER_OWNER, amplink --allow-other-owner, to use it "
				 "anyway)", name, path, who, me);
	}
	if (ret == -EACCES)
		return sim_error(ret, "SoC '%s': permission denied on %s, which belongs to %s", name, path, who);
	if (ret)
		return sim_error(ret, "cannot map SoC '%s' (%s): %s", name, path, strerror(-ret));
	/* Validate a private copy of the header: another process can write the shared one at any time. */
	static _Thread_local struct sim_image hdr;
	const struct ampl_soc_profile *profile = NULL;
	if (size >= offsetof(struct sim_image, ctrl_state))
		memcpy(&hdr, base, offsetof(struct sim_image, ctrl_state));
	ret = size < sizeof(hdr) ? sim_error(-EINVAL, "'%s' is too small to be an amplink SoC image", name)
				 : validate(&hdr, size, name, &profile);
	if (ret) {
		ampl_shm_detach(base, size);
		return ret;
	}
	struct ampl_soc *soc = calloc(1, sizeof(*soc));
	if (!soc) {
		ampl_shm_detach(base, size);
		return sim_error(-ENOMEM, "out of memory");
	}
	if (hdr.backing.path[0]) {
		char what[128];
		size_t bsize = 0;
		snprintf(what, sizeof(what), "SoC '%s'", name);
		ret = backing_map(what, hdr.backing.path, flags & AMPL_SOC_ALLOW_OTHER_OWNER, &soc->backing_map, &bsize);
		if (!ret && bsize != hdr.backing.size) {
			ampl_shm_detach(soc->backing_map, bsize);
			ret = sim_error(-EINVAL, "SoC '%s': backing file %s has %zu bytes, %llu when the SoC was created "
					"(recreate the SoC for the new file)", name, hdr.backing.path, bsize,
					(unsigned long long)hdr.backing.size);
		}
		if (ret) {
			free(soc);
			ampl_shm_detach(base, size);
			return ret;
		}
		soc->backing = hdr.backing;
	}
	soc->img = base;
	soc->size = size;
	soc->num_mems = hdr.num_mems;
	memcpy(soc->mems, hdr.mems, sizeof(soc->mems));
	soc->dtb_off = hdr.dtb_off;
	soc->dtb_size = hdr.dtb_size;
	soc->num_ctrls = hdr.num_ctrls;
	memcpy(soc->ctrl_cfg, hdr.ctrl_cfg, sizeof(soc->ctrl_cfg));
	soc->num_apertures = hdr.num_apertures;
	memcpy(soc->apertures, hdr.apertures, sizeof(soc->apertures));
	for (unsigned i = 0; i < SIM_MAX_APERTURES; i++)
		soc->apertures[i].name[sizeof(soc->apertures[i].name) - 1] = 0;
	for (unsigned i = 0; i < SIM_MAX_CTRLS; i++) {
		struct sim_ctrl_cfg *m = &soc->ctrl_cfg[i];
		/* Strings of the snapshot are terminated whatever the shared header holds. */
		m->name[sizeof(m->name) - 1] = m->alias[sizeof(m->alias) - 1] = m->label[sizeof(m->label) - 1] = 0;
		m->path[sizeof(m->path) - 1] = 0;
		soc->ctrl_model[i] = i < soc->num_ctrls ? sim_ctrl_model_find(m->model) : NULL;
		for (unsigned s = 0; s < SIM_CTRL_SIDES; s++) {
			soc->ctrl_ports[i][s].soc = soc;
			soc->ctrl_ports[i][s].ctrl = i;
			soc->ctrl_ports[i][s].side = s;
		}
	}
	soc->profile = profile;
	atomic_store(&soc->ring_as, -1); /* the supervisor's words until it attaches (src/sim/access.c) */
	snprintf(soc->name, sizeof(soc->name), "%s", name);
	memset(soc->idx_by_bit, -1, sizeof(soc->idx_by_bit));
	for (unsigned i = 0; i < profile->num_agents; i++) {
		if (profile->agents[i].ipi)
			soc->idx_by_bit[profile->agents[i].ipi->bit] = (int8_t)i;
		soc->ports[i].soc = soc;
		soc->ports[i].idx = i;
		soc->ports[i].mode = AMPL_WAIT_ADAPTIVE;
	}
	for (unsigned i = 0; i < profile->num_agents; i++) {
		if (profile->agents[i].ipi) /* a SoC without the IPI block: no IPI words to reach */
			sim_ipi_port_init(soc, i);
		for (unsigned l = 0; l < SIM_LINES; l++) {
			struct ampl_doorbell_set *db = &soc->lines[i][l];
			for (unsigned r = 0; r < profile->num_agents; r++)
				db->seq[r] = &soc->img->regs[r].ring[i][l];
			db->seq[profile->num_agents] = &soc->img->super.ring[i][l];
			db->n = profile->num_agents + 1;
			db->sleepers = &soc->img->regs[i].sleepers[l];
		}
	}
	*out = soc;
	return 0;
}

bool sim_damaged(const struct ampl_soc *soc)
{
	return ampl_shm_damaged(soc->img) || (soc->backing_map && ampl_shm_damaged(soc->backing_map));
}

int sim_damaged_error(const struct ampl_soc *soc)
{
	char path[sizeof(AMPL_SHM_DIR) + AMPL_SHM_NAME_MAX + 16];
	ampl_shm_path(path, sizeof(path), soc->name);
	return sim_error(-EIO, "SoC '%s': %s became shorter than the %zu bytes mapped (another process truncated it): "
			 "its contents are lost; detach, close and create it again", soc->name, path, soc->size);
}

int ampl_soc_check(const struct ampl_soc *soc)
{
	if (!soc)
		return -EINVAL;
	return sim_damaged(soc) ? sim_damaged_error(soc) : 0;
}

void ampl_soc_close(struct ampl_soc *soc)
{
	if (!soc)
		return;
	if (soc->backing_map)
		ampl_shm_detach(soc->backing_map, (size_t)soc->backing.size);
	ampl_shm_detach(soc->img, soc->size);
	free(soc);
}

int ampl_soc_list(void (*fn)(const char *name, void *arg), void *arg)
{
	return ampl_shm_list(fn, arg);
}

const struct ampl_soc_profile *ampl_soc_get_profile(const struct ampl_soc *soc)
{
	return soc->profile;
}

const char *ampl_soc_name(const struct ampl_soc *soc)
{
	return soc->name;
}

const void *ampl_soc_dtb(const struct ampl_soc *soc, size_t *size)
{
	if (size)
		*size = (size_t)soc->dtb_size;
	return (const char *)soc->img + soc->dtb_off;
}

volatile void *ampl_soc_phys(const struct ampl_soc *soc, uint64_t addr, size_t len)
{
	for (unsigned i = 0; i < soc->num_mems; i++) {
		const struct sim_mem *m = &soc->mems[i];
		if (addr < m->phys || addr - m->phys > m->size || len > m->size - (addr - m->phys))
			continue;
		if (m->paged)
			return sim_buf_phys(soc, m, addr, len);
		return (volatile char *)(m->backed ? soc->backing_map : (void *)soc->img) + m->off + (addr - m->phys);
	}
	return NULL;
}

int ampl_soc_backing(const struct ampl_soc *soc, struct ampl_soc_backing *out)
{
	if (!soc || !out)
		return -EINVAL;
	if (!soc->backing_map)
		return -ENOENT;
	out->path = soc->backing.path;
	out->base = soc->backing.phys;
	out->size = soc->backing.size;
	out->map = soc->backing_map;
	return 0;
}

int ampl_soc_agent_regs(struct ampl_soc *soc, const struct ampl_soc_agent *agent, struct ampl_io_region *regs)
{
	if (!soc || !agent || !regs || agent < soc->profile->agents ||
	    agent >= soc->profile->agents + soc->profile->num_agents)
		return -EINVAL;
	unsigned idx = ampl_soc_agent_index(soc->profile, agent);
	regs->base = NULL;
	regs->size = AMPL_IPI_REG_SPAN;
	regs->ops = &sim_ipi_ops;
	regs->ctx = &soc->ports[idx];
	return 0;
}

int ampl_soc_agent_pid(const struct ampl_soc *soc, const struct ampl_soc_agent *agent)
{
	if (!soc || !agent || agent < soc->profile->agents || agent >= soc->profile->agents + soc->profile->num_agents)
		return 0;
	return atomic_load(&soc->img->regs[ampl_soc_agent_index(soc->profile, agent)].pid);
}

bool ampl_soc_agent_alive(const struct ampl_soc *soc, const struct ampl_soc_agent *agent)
{
	if (!soc || !agent || agent < soc->profile->agents || agent >= soc->profile->agents + soc->profile->num_agents)
		return false;
	uint64_t owner = atomic_load(&soc->img->regs[ampl_soc_agent_index(soc->profile, agent)].owner);
	return owner && sim_owner_alive(owner);
}

bool ampl_soc_agent_online(const struct ampl_soc *soc, const struct ampl_soc_agent *agent)
{
	if (!soc || !agent || agent < soc->profile->agents || agent >= soc->profile->agents + soc->profile->num_agents)
		return false;
	unsigned idx = ampl_soc_agent_index(soc->profile, agent);
	if (sim_offline(soc, idx))
		return false;
	/* A handle with crash detection running answers as its watcher sees it; any other looks for itself. */
	uint64_t owner = atomic_load(&soc->img->regs[idx].owner);
	return atomic_load(&soc->roles) || !owner || sim_owner_alive(owner);
}

uint32_t sim_drop_all(struct ampl_soc *soc, unsigned idx)
{
	uint32_t roles = atomic_load(&soc->roles), dropped = 0;
	if (!soc->profile->agents[idx].ipi)
		return 0;
	for (unsigned s = 0; s < soc->profile->num_agents; s++)
		if ((!roles || (roles & 1u << s)) && soc->profile->agents[s].ipi && sim_ipi_drop(soc, s, idx))
			dropped |= 1u << soc->profile->agents[s].ipi->bit;
	return dropped;
}

struct ampl_doorbell_set sim_line(const struct ampl_soc *soc, unsigned idx, unsigned line, unsigned self)
{
	struct ampl_doorbell_set db = soc->lines[idx][line];
	db.own = &soc->img->regs[self].ring[idx][line];
	return db;
}

void sim_hotplug_notify(struct ampl_soc *soc, unsigned idx, bool online, uint32_t dropped)
{
	SIM_TRACE(soc, SIM_TRACE_ANY, online ? AMPL_EV_AGENT_ONLINE : AMPL_EV_AGENT_OFFLINE, idx, dropped);
	/* Every attached agent's interrupt context re-reads the hotplug state, and a sender waiting for an
	 * acknowledgement looks whether its destination went offline. */
	for (unsigned i = 0; i < soc->profile->num_agents; i++) {
		sim_ring(soc, i, SIM_LINE_IRQ);
		if (atomic_load(&soc->img->regs[i].ack_watchers))
			sim_ring(soc, i, SIM_LINE_ACK);
	}
}

/*
 * Who takes an agent offline writes its own word: the supervisor (a handle attached as no agent) the supervisor's
 * page, the agent's own process its page (src/sim/access.c refuses every other). The supervisor's online clears
 * every mark, the agent's own: its own only (an operator's offline outlasts it).
 */
int ampl_soc_agent_set_online(struct ampl_soc *soc, const struct ampl_soc_agent *agent, bool online)
{
	if (!soc || !agent || agent < soc->profile->agents || agent >= soc->profile->agents + soc->profile->num_agents)
		return -EINVAL;
	unsigned idx = ampl_soc_agent_index(soc->profile, agent);
	if (!sim_access_hotplug(soc, idx, online ? "bring online" : "take offline"))
		return -EACCES;
	bool supervisor = !atomic_load(&soc->roles);
	struct sim_regs *r = &soc->img->regs[idx];
	bool was_offline = !ampl_soc_agent_online(soc, agent);
	if (online) {
		if (!supervisor && atomic_load(&soc->img->super.offline[idx]))
			return sim_error(-EPERM, "%s was taken offline by the supervisor (amplink agent online %s)",
					 agent->name, agent->name);
		/* What is still pending at it was sent before it went offline: discarded, never delivered now. */
		if (was_offline)
			sim_discard_pending(soc, idx);
		if (supervisor) {
			atomic_store(&soc->img->super.offline[idx], 0);
			sim_hotplug_bump(&soc->img->super.hp_seq);
			/* A crashed agent brought back by hand has no process until one attaches. */
			uint64_t o = atomic_load(&r->owner);
			if (o && !sim_owner_alive(o) && atomic_compare_exchange_strong(&r->owner, &o, 0))
				atomic_store(&r->pid, 0);
		}
		atomic_store(&r->down, 0);
		sim_hotplug_bump(&r->hp_seq);
		if (!was_offline)
			return -EALREADY;
		sim_hotplug_notify(soc, idx, true, 0);
		return 0;
	}
	if (was_offline)
		return -EALREADY;
	if (supervisor) {
		atomic_store(&soc->img->super.offline[idx], 1);
		sim_hotplug_bump(&soc->img->super.hp_seq);
	} else {
		atomic_fetch_or(&r->down, SIM_DOWN_OFFLINE);
		sim_hotplug_bump(&r->hp_seq);
	}
	/* From here on the agent acknowledges nothing and receives nothing: each pending request is counted as
	 * discarded and dropped in one step (the sender sees its OBS bit fall with the count moved, and so reports
	 * -ESHUTDOWN, not done), by this process for the senders it acts for, by each other sender's process when
	 * its interrupt context or its wait sees the agent offline; a trigger racing with this drops its own, and
	 * what no sender dropped before the agent comes back is discarded then (src/sim/ipi_model.c). */
	sim_hotplug_notify(soc, idx, false, sim_drop_all(soc, idx));
	return 0;
}
