/* Consumer of the installed package, compiled with `pkg-config --cflags --libs mimalloc`. */
#include "../consumer-common.h"

int main(void) { return mi_consumer_run("pkgconfig", true); }
