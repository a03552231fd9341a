/*
 * The virtual SoC (Linux host): each processor of a multicore chip is a process attached to a shared-memory image
 * that holds register-accurate models of the mailbox blocks, their message buffers and the shared RAM that the
 * board's devicetree names, at the chip's real addresses.
 *
 * Terminology
 *   SoC     one image, created by name (`amplink soc create NAME`), removed by name
 *   agent   one processor's role on the SoC ("apu", "rpu0"): its register block, its interrupt line, its devices
 *   devices the IPM devices of the agent's devicetree channels, registered under their node name and label
 *
 * A process typically does:
 *
 *     ampl_soc_open("demo", &soc);
 *     ampl_agent_attach(soc, "rpu0", &opts, &agent);     // interrupt thread started, DT devices registered
 *     dev = ampl_device_get_by_label("ipi_rpu0_apu");    // or ampl_agent_channel(agent, "apu", &dev)
 *     ipm_register_callback(dev, cb, ctx); ipm_set_enabled(dev, 1);
 *     ...
 *     ampl_agent_detach(agent); ampl_soc_close(soc);
 *
 * Register side effects are atomic across processes: every register word is a C11 atomic in the image and no
 * side effect needs more than one atomic read-modify-write (OBS is derived from the destinations' ISRs).
 *
 * Host only (Linux): processes, pids, POSIX shared memory, files, futexes; firmware never includes it.
 *
 * Calling contexts (each function's "Context:" says which; a function that states none is "thread")
 *   thread     a thread of the process, not the agent's interrupt context: it may sleep (futexes, file and
 *              shared-memory calls, a line's thread being started or joined) and take the SoC's and the agent's
 *              locks
 *   any thread any thread, also the agent's interrupt context (the IPM callbacks, the mailbox RX callbacks, an
 *              interrupt line's handler): reads the image only, never blocks
 *   any        as "any thread"
 *   the agent's interrupt context: the thread ampl_agent_attach() starts (or ampl_agent_poll()'s caller in
 *   AMPL_WAIT_POLL mode); detaching, retiring or reassigning from it would wait for itself.
 * ampl_soc_last_error() is per thread: it describes the calling thread's last failed call.
 */
#ifndef AMPLINK_SOC_H
#define AMPLINK_SOC_H

#include <stddef.h>
#include <stdint.h>
#include <amplink/device.h>
#include <amplink/io.h>
#include <amplink/soc_profile.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How a waiter waits for a doorbell (an interrupt line, an acknowledgement). */
enum ampl_wait_mode {
	AMPL_WAIT_POLL = 0,     /* spin: lowest latency, burns a CPU */
	AMPL_WAIT_ADAPTIVE = 1, /* spin briefly, then sleep on a process-shared futex; a ring wakes only a sleeper */
	AMPL_WAIT_BLOCK = 2,    /* sleep on the futex at once */
};

/** ampl_wait_mode_parse() - "poll"/"polling", "adaptive", "block"/"blocking"; -EINVAL otherwise. */
int ampl_wait_mode_parse(const char *s, enum ampl_wait_mode *mode);
/** ampl_wait_mode_name() - "polling", "adaptive" or "blocking". */
const char *ampl_wait_mode_name(enum ampl_wait_mode mode);

struct ampl_soc;
struct ampl_agent;

/**
 * ampl_soc_create() - create a SoC image.
 * @name:    [A-Za-z0-9_.-]{1,48}
 * @profile: the silicon (ampl_soc_zynqmp, ampl_soc_versal, ampl_soc_imx)
 * @dtb:     the board's flattened devicetree (copied into the image so every agent sees it), or NULL for the
 *           built-in default board (ZynqMP), a tree with one Messaging Unit (imx) or an empty tree (Versal)
 * Its reserved-memory regions get RAM in the image at their addresses; each enabled `nxp,imx-mu` node (at most 4)
 * gets a Messaging Unit model.
 * Return: 0; -EINVAL (bad name, profile or devicetree: see ampl_soc_last_error()); -EEXIST; -ENOMEM; -errno.
 */
int ampl_soc_create(const char *name, const struct ampl_soc_profile *profile, const void *dtb, size_t dtb_size);

/**
 * struct ampl_soc_create_opts - options of ampl_soc_create_opts().
 * @backing_path: NULL, or an absolute path of a file that backs part of the SoC's memory: the window
 *                [@backing_base, @backing_base + size of the file) is that file, mapped by every process that opens
 *                the SoC instead of the image (an emulator's RAM: QEMU maps the same file as its machine RAM, so
 *                firmware under it and Linux processes share those regions). Recorded in the image (path, base,
 *                size); the file must exist, be a regular file of this user (no symbolic link; another user's only
 *                with AMPL_SOC_ALLOW_OTHER_OWNER in @flags, and each opener needs the flag too), and its size a
 *                non-zero multiple of 4096. Each reserved-memory region it intersects must lie wholly inside it,
 *                and it must hold at least one.
 * @backing_base: the physical address of the file's first byte (4096-aligned)
 * @flags:        0 or AMPL_SOC_ALLOW_OTHER_OWNER (for the backing file)
 */
struct ampl_soc_create_opts {
	const char *backing_path;
	uint64_t backing_base;
	unsigned flags;
};

/**
 * ampl_soc_create_opts() - ampl_soc_create() with options (@opts NULL: none).
 * Return: as ampl_soc_create(); for the backing: -EINVAL (relative or too long a path, an unaligned base, a size
 * that is not a multiple of 4096, a window that cuts a region or holds none: the last error names the region);
 * -ENOENT, -ELOOP, -EPERM, -EACCES (the file, as ampl_soc_open() words them for an image).
 */
int ampl_soc_create_opts(const char *name, const struct ampl_soc_profile *profile, const void *dtb, size_t dtb_size,
			 const struct ampl_soc_create_opts *opts);

/**
 * struct ampl_soc_backing - the file backing part of a SoC's memory (ampl_soc_backing()).
 * @path: the file; @base: physical address of its first byte; @size: its size; @map: this process's mapping of all
 * of it (window offset 0 = @base). Pointers valid until ampl_soc_close().
 */
struct ampl_soc_backing {
	const char *path;
	uint64_t base;
	uint64_t size;
	volatile void *map;
};

/** ampl_soc_backing() - the SoC's backing file. Return: 0; -ENOENT (the SoC has none); -EINVAL (NULL). */
int ampl_soc_backing(const struct ampl_soc *soc, struct ampl_soc_backing *out);

/**
 * ampl_soc_destroy() - remove the image by name. Attached processes keep their mapping.
 * Return: 0; -ENOENT; -EINVAL (bad name); -EPERM or -EACCES (another user's image: the last error names its owner);
 * -errno.
 */
int ampl_soc_destroy(const char *name);

/** ampl_soc_open_flags() flag: accept an image file that belongs to another user (see ampl_soc_open()). */
#define AMPL_SOC_ALLOW_OTHER_OWNER 1u

/**
 * ampl_soc_open_flags() - map an existing SoC.
 * The image is the file /dev/shm/amplink.NAME, which other users may have made or may write (docs/security.md). It
 * is opened without following a symbolic link and must be a regular file belonging to this process's effective
 * user, unless @flags has AMPL_SOC_ALLOW_OTHER_OWNER: a file another user owns can be shrunk or rewritten by that
 * user at any time, and a name can be taken by anyone first. Whatever happens to the file later, no access to the
 * mapping kills the process: if the file shrinks, the part past its end reads as zeros from then on and the SoC
 * reports itself damaged (ampl_soc_check()). A SoC created with a backing file maps that file too, under the
 * same rules (ampl_soc_create_opts()); it must still have the size recorded at creation.
 * Return: 0; -ENOENT; -EINVAL (bad name or flags, not a regular file, not a SoC image, wrong version, corrupt
 * header); -ELOOP (the name is a symbolic link); -EPERM (another user's image, without the flag); -EACCES; -EMFILE
 * (too many images mapped by this process); -ENOMEM; -errno. The last error says which, naming the file and, for
 * another user's image, its owner.
 */
int ampl_soc_open_flags(const char *name, unsigned flags, struct ampl_soc **soc);

/** ampl_soc_open() - ampl_soc_open_flags() without flags: only this user's images. */
int ampl_soc_open(const char *name, struct ampl_soc **soc);

/**
 * ampl_soc_check() - whether the SoC's image is intact.
 * Return: 0; -EIO once its file was found shorter than the mapping (another process truncated it): the contents
 * are lost, every attached agent of this process has its channels offline (sends fail with -ESHUTDOWN), a new
 * attach answers -EIO; detach, close and create the SoC again. -EINVAL (NULL).
 */
int ampl_soc_check(const struct ampl_soc *soc);
/** ampl_soc_close() - unmap. All agents of this handle must be detached first. */
void ampl_soc_close(struct ampl_soc *soc);

/** ampl_soc_list() - call @fn with each SoC's name; returns how many. */
int ampl_soc_list(void (*fn)(const char *name, void *arg), void *arg);

/** Accessors. */
const struct ampl_soc_profile *ampl_soc_get_profile(const struct ampl_soc *soc);
const char *ampl_soc_name(const struct ampl_soc *soc);
/** The board's devicetree blob stored in the image. */
const void *ampl_soc_dtb(const struct ampl_soc *soc, size_t *size);

/** ampl_soc_last_error() - text of the last failure of this thread's SoC calls ("" if none). */
const char *ampl_soc_last_error(void);

/**
 * ampl_soc_phys() - the host pointer for a physical address range of the SoC's memory (IPI buffer RAM or a
 * reserved-memory region): in the image, or in the backing file's mapping for a region inside its window. The
 * image lays the IPI buffer RAM out by writer (docs/security.md, "IPI message buffers"), so a range there must lie
 * inside one 32-byte request or response buffer; what the handle may access of it is what its agent's role allows.
 * Return: NULL if [addr, addr+len) is not entirely inside one memory region (or, in the IPI buffer RAM of the
 * image, inside one buffer). Context: any.
 */
volatile void *ampl_soc_phys(const struct ampl_soc *soc, uint64_t addr, size_t len);

/** ampl_soc_agent_regs() - the modelled register block of @agent (for tools and tests: reads/writes have the
 * silicon's side effects as that agent). Return: 0; -EINVAL (unknown agent). */
int ampl_soc_agent_regs(struct ampl_soc *soc, const struct ampl_soc_agent *agent, struct ampl_io_region *regs);

/**
 * struct ampl_soc_mu - one NXP Messaging Unit of the SoC: an `nxp,imx-mu` node of the board's devicetree (or the
 * imx profile's default one at 0x40028000, alias ipm0, when the SoC was created without a devicetree).
 * Side A belongs to the profile's first application processor and side B to the second (imx: a and m4; ZynqMP
 * and Versal: apu and rpu0). The devicetree is the first one's view: `fsl,mu-side-b` swaps the two.
 * Strings point into the SoC handle (valid until ampl_soc_close()).
 */
struct ampl_soc_mu {
	const char *name;  /* node name, "ipm@40028000" */
	const char *alias; /* "ipm0", or "" */
	const char *label; /* node label, or "" */
	const char *path;  /* node path */
	uint64_t addr;
	int irq;           /* -1 if none */
	const struct ampl_soc_agent *side[2]; /* the agents on side A [0] and side B [1] */
};

/** ampl_soc_num_mus() - how many Messaging Units the SoC has. */
unsigned ampl_soc_num_mus(const struct ampl_soc *soc);

/** ampl_soc_mu_info() - Messaging Unit @mu (0..num-1). Return: 0; -EINVAL. */
int ampl_soc_mu_info(const struct ampl_soc *soc, unsigned mu, struct ampl_soc_mu *info);

/**
 * ampl_soc_mu_regs() - the modelled registers of side @side (0 = A, 1 = B) of Messaging Unit @mu: accesses have the
 * silicon's side effects as that side (include/amplink/drivers/nxp_mu.h); reading RRn consumes it.
 * Return: 0; -EINVAL.
 */
int ampl_soc_mu_regs(struct ampl_soc *soc, unsigned mu, unsigned side, struct ampl_io_region *regs);

/** ampl_soc_agent_pid() - the process attached as @agent (0 if none or unknown). */
int ampl_soc_agent_pid(const struct ampl_soc *soc, const struct ampl_soc_agent *agent);

/**
 * ampl_soc_agent_alive() - whether the process attached as @agent is still running. False when none is attached,
 * and when the one recorded died without detaching (gone, a zombie, or its pid now another process's) and no
 * attached process has noticed yet; true when it cannot tell (no /proc). Context: any thread.
 */
bool ampl_soc_agent_alive(const struct ampl_soc *soc, const struct ampl_soc_agent *agent);

/**
 * ampl_soc_agent_set_online() - hotplug: take a processor offline or bring it back.
 * Offline: every process's channels to (and of) that agent fail their pending requests with -ESHUTDOWN (tx_done
 * reports them) and new sends fail at once with -ESHUTDOWN. Online: requests left pending at the agent from before
 * are discarded (their senders were told), and traffic resumes.
 * Who may: the supervisor (a handle attached as no agent: an operator's offline, which outlasts any attach; its
 * online clears every mark) and a handle attached as @agent itself (its own mark only); from a handle attached as
 * another agent it is an access fault (counted in that agent's record, aperture "hotplug:AGENT").
 * Crash detection: a process that dies while attached (no detach, e.g. SIGKILL) takes its agent offline the same
 * way in every other attached process, each seeing it for itself (each checks every 10 ms: pid gone, a zombie, or
 * reused by a process with another start time); the next ampl_agent_attach() of that agent brings it back online.
 * Return: 0; -EINVAL; -EALREADY (already in that state); -EACCES (an access fault, see above); -EPERM (@agent's own
 * online while the supervisor holds it offline).
 */
int ampl_soc_agent_set_online(struct ampl_soc *soc, const struct ampl_soc_agent *agent, bool online);

/** ampl_soc_agent_online() - false while @agent is offline. */
bool ampl_soc_agent_online(const struct ampl_soc *soc, const struct ampl_soc_agent *agent);

/* ---- access control ----
 *
 * A process attached as an agent may write only what that agent's role allows (docs/security.md): its own IPI
 * register state, not another agent's. A register access through ampl_soc_agent_regs() of an agent the SoC handle
 * is not attached as (when it is attached as any) is an access fault: a write is dropped, a read returns 0, and the
 * fault is counted and recorded in the register state of the agent the handle is attached as. A plain store into
 * another agent's register state raises SIGSEGV. A handle attached as no agent (tools, the creator) is not limited.
 */

/** struct ampl_soc_fault - access faults of the process attached as one agent (ampl_soc_agent_faults()). */
struct ampl_soc_fault {
	uint32_t count;    /* access faults so far */
	uint64_t addr;     /* the last one's physical address */
	char aperture[48]; /* the aperture the last one fell outside of: "ipi:apu" (apu's IPI register block) */
	char access[16];   /* "read" or "write" */
};

/**
 * ampl_soc_agent_faults() - the access faults recorded for @agent (by the processes attached as it).
 * Return: 0; -EINVAL (NULL, or not an agent of @soc). Context: any thread.
 */
int ampl_soc_agent_faults(const struct ampl_soc *soc, const struct ampl_soc_agent *agent, struct ampl_soc_fault *out);

/* ---- Dynamic agents ----
 *
 * A process's role can change at run time: it retires its agent (the id goes offline, so its peers' traffic fails
 * cleanly) and attaches as another. A retired id comes back online when a process attaches as it; the peers' old
 * channels to it see it go offline, then online, and what was sent to the old process never reaches the new one.
 */

/**
 * ampl_agent_retire() - retire this process's agent and detach (@ag is freed). The interrupt context stops
 * first, then the agent goes offline as with ampl_soc_agent_set_online(false): every request sent to it is either
 * delivered and acknowledged before, or discarded and reported -ESHUTDOWN to its sender, never both; peers' sends
 * to it fail at once with -ESHUTDOWN until a process attaches as it, which brings it back online.
 * Return: 0; -EINVAL (NULL). Context: thread (not the agent's interrupt context).
 */
int ampl_agent_retire(struct ampl_agent *ag);

/**
 * ampl_agent_reassign() - bring this process up as agent @agent instead of *@ag: attach as @agent (with @opts, or
 * the old attach's options if NULL), then retire the old agent; *@ag becomes the new handle. The devices of the old
 * agent are gone: take the new agent's channels.
 * Return: 0; as ampl_agent_attach() (nothing changed: *@ag is still the old agent, still attached); -EINVAL (NULL,
 * or @agent is the current one). Context: thread.
 */
struct ampl_agent_opts;
int ampl_agent_reassign(struct ampl_agent **ag, const char *agent, const struct ampl_agent_opts *opts);

/**
 * ampl_soc_agent_retire() - retire @agent from any process (`amplink agent retire`): if this process holds it,
 * as ampl_agent_retire(); otherwise it goes offline, retired, and the process holding it (if any) keeps its handle
 * with every channel offline until it detaches; the next attach brings it back online. Only the supervisor (a
 * handle attached as no agent) or a handle attached as @agent may.
 * Return: 0; -EINVAL; -EALREADY (retired already); -EACCES (attached as another agent: an access fault, the last
 * error says so). Context: thread.
 */
int ampl_soc_agent_retire(struct ampl_soc *soc, const struct ampl_soc_agent *agent);

/** ampl_soc_agent_retired() - true while @agent is retired (offline until a process attaches as it). */
bool ampl_soc_agent_retired(const struct ampl_soc *soc, const struct ampl_soc_agent *agent);

/* ---- IPI message buffers ----
 *
 * The IPI block's buffer RAM holds one 32-byte request and one 32-byte response buffer for every (owner, target)
 * pair of buffered agents' slots: 8 x 8 = 64 pairs on ZynqMP and Versal (the seed's "64 request message buffers,
 * 32 bytes each"; none on imx). A channel between two buffered agents uses two of them: local -> remote (its
 * requests, the remote's responses) and remote -> local. Binding a channel (ampl_agent_attach() for the devicetree's
 * channels, ampl_agent_channel() / ampl_agent_mbox() for the others) allocates both to it, recorded in the image
 * so every process sees the same state; a reserved buffer cannot be bound. Bufferless channels use none.
 * ZynqMP's PMU1-3 share the PMU's slot: a buffer of that slot is listed once, under pmu0.
 */

/**
 * struct ampl_soc_buf - one request/response buffer pair (ampl_soc_buf_info()).
 * @index:    0 .. ampl_soc_num_bufs() - 1 (owner slot * 8 + target slot)
 * @owner:    the agent that writes the request (and reads the response); @peer: the agent it targets
 * @request, @response: physical addresses
 * @reserved: reserved with ampl_soc_buf_reserve(): no channel may use it
 * @pid:      the live process whose channel uses it, [0] on the owner's side, [1] on the peer's (0: none)
 * @chan:     those channels' names ("" for none)
 */
struct ampl_soc_buf {
	unsigned index;
	const struct ampl_soc_agent *owner, *peer;
	uint64_t request, response;
	bool reserved;
	int pid[2];
	char chan[2][64];
};

/** ampl_soc_num_bufs() - how many buffer pairs the SoC's IPI block has (0 without buffer RAM or for NULL). */
unsigned ampl_soc_num_bufs(const struct ampl_soc *soc);

/** ampl_soc_buf_info() - buffer pair @index. Return: 0; -EINVAL (NULL, or @index out of range). Context: thread. */
int ampl_soc_buf_info(const struct ampl_soc *soc, unsigned index, struct ampl_soc_buf *out);

/** ampl_soc_buf_find() - the index of the pair @owner -> @peer. Return: the index; -EINVAL; -ENOENT (either agent
 * is bufferless). */
int ampl_soc_buf_find(const struct ampl_soc *soc, const struct ampl_soc_agent *owner, const struct ampl_soc_agent *peer);

/**
 * ampl_soc_buf_reserve() - reserve pair @index: from now on a channel that would use it is refused with -EACCES
 * (by every process of the SoC) until ampl_soc_buf_release(). Reservations are the supervisor's: @soc must be
 * attached as no agent (from one attached as an agent it is an access fault, aperture "supervisor").
 * Return: 0; -EINVAL; -EALREADY (reserved already); -EBUSY (a live process's channel uses it: the last error names
 * the process and the channel); -EACCES (@soc is attached as an agent). Context: thread.
 */
int ampl_soc_buf_reserve(struct ampl_soc *soc, unsigned index);

/**
 * ampl_soc_buf_release() - end a reservation (the supervisor's, as ampl_soc_buf_reserve()).
 * Return: 0; -EINVAL; -EALREADY (not reserved); -EACCES (@soc is attached as an agent). Context: thread.
 */
int ampl_soc_buf_release(struct ampl_soc *soc, unsigned index);

/** Per-attach options. */
struct ampl_agent_opts {
	enum ampl_wait_mode mode; /* interrupt thread and acknowledgement waits */
	bool no_irq_thread;       /* run interrupts from the application's loop with ampl_agent_poll() */
	bool no_ipc_poll;         /* with no_irq_thread: ampl_agent_poll() does not read the IPC rings itself, so each
				   * message to this agent rings it (as with an interrupt thread); see ampl_agent_poll() */
	bool no_dt_devices;       /* do not register the devicetree's channels */
	uint32_t ack_timeout_us;  /* ipm_send(wait) bound; 0 = driver default */
};

/**
 * ampl_agent_attach() - take the role of one agent.
 * Registers an IPM device for each devicetree channel of this agent (named by node name and label) and starts
 * its interrupt context. Records this process as the agent's (pid and start time) and, while any agent of @soc is
 * attached, runs a crash-detection thread that checks the other agents' processes; an agent left offline by the
 * death of its previous process is brought back online. For each Messaging Unit with a side of this agent: a mailbox-framework controller
 * registered as "SOC:<node path>" (16 channels, `#mbox-cells = <2>`) and an IPM device of 16-byte messages named
 * after the node, labelled with its alias (e.g. "ipm@40028000", "ipm0"); only one of the two may be used. When one
 * process attaches both sides, the second side's names get the suffix ":<agent>".
 * One agent has one process: while the process recorded for it is alive (this one, through any SoC handle, or
 * another), the attach is refused; one that died without detaching (crash detection's test) is taken over.
 * Return: 0; -EINVAL (unknown agent name); -EBUSY (a live process holds the agent: the last error names its pid);
 *         -EIO (the image is damaged, see ampl_soc_check()); -EEXIST (a device name is taken); -ENOMEM; -EACCES
 *         (a devicetree channel's message buffer is reserved: ampl_soc_buf_reserve()).
 */
int ampl_agent_attach(struct ampl_soc *soc, const char *agent, const struct ampl_agent_opts *opts,
		      struct ampl_agent **out);

/** ampl_agent_detach() - stop the interrupt context, unregister and free the agent's devices. */
void ampl_agent_detach(struct ampl_agent *agent);

/**
 * ampl_agent_channel() - the IPM device from this agent to @remote: the devicetree's if it has one, else one made
 * from the SoC profile's buffer layout (registered as "<local>-<remote>@<soc>"). On a profile without an IPI block
 * (imx): the IPM device of the first Messaging Unit between the two agents.
 * Return: 0; -EINVAL (unknown agent); -ENOENT (imx: no Messaging Unit between them); -ENOMEM; -EEXIST; -EACCES
 * (a message buffer the channel needs is reserved: ampl_soc_buf_reserve()).
 */
int ampl_agent_channel(struct ampl_agent *agent, const char *remote, const struct ampl_device **dev);

/**
 * ampl_agent_mbox() - the mailbox-framework controller from this agent to @remote (channel 0 TX, 1 RX): the
 * devicetree's if it has one, else one made from the profile. The same controller backs ampl_agent_channel()'s
 * IPM device: the first user of a channel owns it. On a profile without an IPI block (imx): the Messaging Unit's
 * controller (`#mbox-cells = <2>`: type TX 0, RX 1, TXDB 2, RXDB 3, and index 0-3; channel type * 4 + index).
 * Return: 0; -EINVAL; -ENOENT; -ENOMEM; -EEXIST; -EACCES (a message buffer it needs is reserved).
 */
struct mbox_controller;
int ampl_agent_mbox(struct ampl_agent *agent, const char *remote, struct mbox_controller **mbox);

/**
 * ampl_agent_mbox_of() - this agent's side of the mailbox controller node @node (its path, name, label or alias)
 * other than the IPI's (a Messaging Unit, or a controller a program added: every instance of the SoC's controller
 * models): its mailbox-framework controller, registered as "<soc>:<path>" (what a consumer's mboxes name), opened
 * at attach or, with no_dt_devices, on first use. Context: thread.
 * Return: 0; -EINVAL; -ENOENT (no such controller); -ENODEV (no side of it is this agent's); -ENOMEM; -EEXIST.
 */
int ampl_agent_mbox_of(struct ampl_agent *agent, const char *node, struct mbox_controller **mbox);

/**
 * ampl_agent_mbox_consumer() - the devicetree node @node (path, name or label) that has `mboxes`, ready for
 * mbox_request_channel() / mbox_request_channel_byname(): set it as your client's `node`. Valid until detach.
 * Return: 0; -ENOENT (no such consumer node).
 */
struct mbox_consumer;
int ampl_agent_mbox_consumer(struct ampl_agent *agent, const char *node, const struct mbox_consumer **consumer);

/**
 * ampl_agent_ipc_instance() - the IPC service instance of the devicetree's `zephyr,ipc-icmsg` node @label (label,
 * name or path) for this agent: an ICMsg device (<amplink/ipc/ipc_icmsg.h>) over the node's tx/rx regions and the
 * mailbox channels its `mboxes` name ("tx", "rx"), which must be this agent's. Registered under the node name and
 * label; made on first call (later calls give the same device); freed at detach (an endpoint still registered is
 * closed). The receive buffer takes the largest packet the rx ring can hold (advertised to the peer).
 * An `amplink,ipc-multi` node gives a multi-endpoint zero-copy device (<amplink/ipc/ipc_multi.h>) instead, with the
 * node's block-size / block-count; open it with ipc_service_open_instance() before registering endpoints.
 * Return: 0; -EINVAL (NULL argument, or the node's mailbox belongs to another agent); -ENOENT (no such node);
 * -ENOMEM; -EEXIST (a device of that name is registered).
 */
int ampl_agent_ipc_instance(struct ampl_agent *ag, const char *label, const struct ampl_device **dev);

/**
 * ampl_agent_poll() - the agent's interrupt context, once, in the caller's thread (an agent attached with
 * no_irq_thread). First the rings of its IPC instances (ICMsg, multi-endpoint, RPMsg), unless no_ipc_poll:
 * their readers stay held between polls, so a peer that sends meanwhile sees this side behind and does not ring
 * it; what it sent is read by the next poll. Then the interrupt handler (doorbells, requests, TX done, hotplug).
 * Return: 0; -EINVAL (NULL). Context: the agent's interrupt context (one thread).
 */
int ampl_agent_poll(struct ampl_agent *agent);

/** ampl_agent_profile() - the SoC profile of the agent's SoC. */
const struct ampl_soc_profile *ampl_agent_profile(const struct ampl_agent *agent);

/** ampl_agent_info() - the profile's agent this handle is. */
const struct ampl_soc_agent *ampl_agent_info(const struct ampl_agent *agent);

/* ---- Interrupt routing ----
 *
 * An agent's IPI interrupt is split into AMPL_IRQ_LINES lines (the driver's xlnx_ipi_route(), on the virtual SoC
 * each line its own interrupt thread): each source agent is routed to one line, line 0 by default (the interrupt
 * thread of ampl_agent_attach()), and a line's handler sees each request it takes, in that line's thread, before
 * the request goes to its channel's client. Routes and masks belong to the attached process; ampl_soc_irq_route()
 * and ampl_soc_irq_mask() let another process (`amplink agent route/mask/unmask`) ask it to change them.
 * Sources are masks of agents' IPI bits (1u << agent->ipi->bit).
 */
#define AMPL_IRQ_LINES 4u

/** A line's handler: @source sent the request that @line is about to deliver. Context: that line's thread. */
typedef void (*ampl_irq_line_fn)(void *arg, unsigned line, const struct ampl_soc_agent *source);

/**
 * ampl_agent_irq_route() - route the requests of @sources to interrupt line @line. The line's thread is started on
 * first use (none with no_irq_thread: ampl_agent_poll() runs every line). A change under traffic loses and
 * duplicates nothing; a request in delivery when its source moves finishes on the line it left.
 * Return: 0; -EINVAL (NULL, @line >= AMPL_IRQ_LINES, a bit that is no agent of the profile, or a profile
 * without an IPI block); -errno (the line's thread could not start). Context: thread.
 */
int ampl_agent_irq_route(struct ampl_agent *ag, uint32_t sources, unsigned line);

/**
 * ampl_agent_irq_connect() - call @fn(@arg, line, source) for each request @line takes (NULL: no handler).
 * Starts the line's thread as ampl_agent_irq_route() does. Return: 0; -EINVAL; -errno. Context: thread.
 */
int ampl_agent_irq_connect(struct ampl_agent *ag, unsigned line, ampl_irq_line_fn fn, void *arg);

/**
 * ampl_agent_irq_mask() - mask (true) or unmask (false) the requests of @sources through IDR / IER: a masked
 * source interrupts no line, its request stays pending at the sender (OBS) and is delivered once unmasked; the
 * other sources are not affected. Return: 0; -EINVAL. Context: any.
 */
int ampl_agent_irq_mask(struct ampl_agent *ag, uint32_t sources, bool mask);

/** struct ampl_irq_table - an agent's routing as its process applies it: the sources on each line, the masked. */
struct ampl_irq_table {
	uint32_t line_src[AMPL_IRQ_LINES];
	uint32_t masked;
};

/**
 * ampl_soc_irq_table() - the routing the process attached as @agent applies (published in the image).
 * Return: 0; -EINVAL; -ENOENT (no process is attached as @agent). Context: any.
 */
int ampl_soc_irq_table(const struct ampl_soc *soc, const struct ampl_soc_agent *agent, struct ampl_irq_table *out);

/**
 * ampl_soc_irq_route() / ampl_soc_irq_mask() - as ampl_agent_irq_route() / _mask(), from any process: a request
 * in the image that the process attached as @agent applies in its interrupt context (directly when it is this
 * process). Waits at most @timeout_ms for it.
 * Return: 0; -EINVAL (as above; the attached process checks the request too); -ENOENT (no process attached);
 * -ETIMEDOUT (it did not answer: it runs no interrupt thread and did not poll, or it is stuck); -EBUSY (another
 * request is in progress); the attached process's error. Context: thread.
 */
int ampl_soc_irq_route(struct ampl_soc *soc, const struct ampl_soc_agent *agent, uint32_t sources, unsigned line,
		       unsigned timeout_ms);
int ampl_soc_irq_mask(struct ampl_soc *soc, const struct ampl_soc_agent *agent, uint32_t sources, bool mask,
		      unsigned timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_SOC_H */
