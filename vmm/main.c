#include "vmm/cli.h"

int main(int argc, char **argv)
{
	return ember_main(argc, argv);
}
