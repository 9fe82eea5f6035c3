// berth: the command-line client for berthd. All the work is in src/cli (see src/cli/README.md);
// main only hands it the process's effects, with the store's offline reconciliation for
// `berth reconcile --state-dir` (so the CLI library itself links no store).
#include "cli/app.h"
#include "store/state_dir.h"

int main(int argc, char** argv) {
  berth::cli::CliIo io = berth::cli::process_io();
  io.reconcile_state_dir = berth::store::ReconcileStateDir;
  return berth::cli::run_cli(argc, argv, io);
}
