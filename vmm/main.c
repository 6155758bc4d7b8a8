/*
 * ember's main(): ember_main (cli.c) does the work, so that libember, which
 * unit tests link whole, has no main() of its own.
 */
#include "vmm/cli.h"

int main(int argc, char **argv)
{
	return ember_main(argc, argv);
}
