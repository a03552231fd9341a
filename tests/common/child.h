/*
 * fork() for tests whose children play an agent: the child never outlives the test process. A failed check in the
 * parent ends its test (and, at the end, the process) without reaching its waitpid(); a child left running would
 * keep attaching, sending and holding the test's output pipe open after the test has ended. The child gets SIGKILL
 * when the process that forked it exits, and exits at once if that already happened before it could ask.
 */
#ifndef AMPL_TEST_CHILD_H
#define AMPL_TEST_CHILD_H

#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

/** test_fork() - fork(); in the child, ask for SIGKILL when the parent exits. Returns what fork() returns. */
static inline pid_t test_fork(void)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0 && (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent))
		_exit(127);
	return pid;
}

#endif /* AMPL_TEST_CHILD_H */
