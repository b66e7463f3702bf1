#include "cli/main.h"

int main(int argc, char** argv) { return milf::cli::Main(argc, argv); }
