/*
 * The baseline size image: start-up, vector table and an idle main(), built and linked exactly as the
 * configurations are (scripts/cross.sh), so what a configuration adds over it is the IPC stack and the program.
 */
#include "size_image.h"

int main(void)
{
	for (;;)
		size_wait_for_interrupt();
}
