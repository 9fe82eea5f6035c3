// The scenario driver: runs a scenario (a short, line-oriented story of commands and
// expectations, described in tests/scenario/README.md) through a sim::VirtualCluster.
//
// A scenario runs to its end unless a line cannot be carried out (a syntax error, an unknown
// name, a command the engine refuses that was not marked `expect refused`): that stops it with
// an error naming file:line. A failed `expect` is recorded (file:line, what was expected, what
// was found) and the run goes on, so one run reports every mismatch. After every line the
// driver checks the engine's books (Engine::verify); a violation is a failure at that line.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace berth::scenario {

struct Outcome {
  std::vector<std::string> failures;  // each "file:line: ...", in order
  int lines_run = 0;                  // command and expect lines carried out
  int expectations = 0;               // expect lines checked
  bool ok() const { return failures.empty(); }
};

// Runs the scenario in `text`; `file_name` names it in messages.
Outcome run_scenario(const std::string& text, const std::string& file_name);
// Reads and runs a scenario file.
Outcome run_scenario_file(const std::filesystem::path& path);

}  // namespace berth::scenario
