// berth: the command-line client for berthd. All the work is in src/cli (see src/cli/README.md).
#include "cli/app.h"

int main(int argc, char** argv) { return berth::cli::run_cli(argc, argv); }
