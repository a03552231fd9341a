#include <amplink/errno.h>

const char *ampl_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		return "success";
	if (err == AMPL_EPROBE_DEFER)
		return "provider not registered yet";
#define AMPL_ERR_MSG_(name, val, msg) \
	if (err == name)              \
		return msg;
	AMPL_ERRNO_LIST(AMPL_ERR_MSG_)
#undef AMPL_ERR_MSG_
	return "unknown error";
}

const char *ampl_errname(int err)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		return "OK";
	if (err == AMPL_EPROBE_DEFER)
		return "EPROBE_DEFER";
#define AMPL_ERR_NAME_(name, val, msg) \
	if (err == name)               \
		return #name;
	AMPL_ERRNO_LIST(AMPL_ERR_NAME_)
#undef AMPL_ERR_NAME_
	return "E?";
}
