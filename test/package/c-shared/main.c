/* Consumer of the installed package (shared library, found with find_package). */
#include "../consumer-common.h"

int main(void) { return mi_consumer_run("c-shared", true); }
