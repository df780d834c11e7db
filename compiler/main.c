#include "mdlc.h"

int main(int argc, char **argv) { return mdlc_main(argc, argv); }
