// The README runs as written: its tour ("## A short tour") and its `berth sim` example ("##
// Replaying real workloads") are taken from README.md as they stand and run by bash, command by
// command and in order, against a real berthd, as a newcomer would type them after `make run`.
// Any command that exits non-zero fails the test; the README marks none as expected to fail.
//
// Where they run: a folder laid out as a clone after `make run` (the source tree's top-level
// entries linked in, `build` the built binaries, `berth-state` this berthd's state directory),
// so `$PWD/build` and `cat berth-state/admin.token` work as in the README. berthd listens on a
// free port, which BERTH_SERVER names; TMPDIR is inside the test's folder, so the tour's
// `mktemp -d` folder goes with it. Nothing depends on timing: a command that needs an ended job
// waits for it as a user would (`berth submit --wait`).
#include <gtest/gtest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "harness.h"

namespace berth::testing {
namespace {

std::string trimmed(const std::string& line) {
  const size_t first = line.find_first_not_of(" \t");
  return first == std::string::npos ? ""
                                    : line.substr(first, line.find_last_not_of(" \t") - first + 1);
}

// The lines of the first ```sh block after the line `heading`, before the next heading of its
// level.
std::vector<std::string> sh_block_under(const std::string& markdown, const std::string& heading) {
  std::istringstream in(markdown);
  std::vector<std::string> block;
  std::string line;
  bool under = false, inside = false;
  while (std::getline(in, line)) {
    if (inside) {
      if (line == "```") return block;
      block.push_back(line);
    } else if (line == heading) {
      under = true;
    } else if (under && line.rfind("## ", 0) == 0) {
      break;
    } else if (under && line == "```sh") {
      inside = true;
    }
  }
  ADD_FAILURE() << "README.md has no complete ```sh block under \"" << heading << "\"";
  return {};
}

std::string single_quoted(const std::string& text) {
  std::string out = "'";
  for (char ch : text) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

// A bash script that runs `block`'s commands in order in one shell and stops at the first that
// exits non-zero, naming it. A command is a line with its `\` continuations and its here-document;
// blank lines and comments stay as they are.
std::string checked_script(const std::vector<std::string>& block, const std::string& section) {
  static const std::regex here_doc("<<-?\\s*['\"]?([A-Za-z_][A-Za-z0-9_]*)['\"]?");
  std::string script;
  for (size_t i = 0; i < block.size();) {
    const std::string first = block[i];
    const std::string text = trimmed(first);
    if (text.empty() || text[0] == '#') {
      script += first + "\n";
      ++i;
      continue;
    }
    std::string command;
    std::string terminator;
    std::smatch m;
    if (std::regex_search(first, m, here_doc)) terminator = m[1];
    command += block[i++] + "\n";
    while (i < block.size() && !command.empty() && command[command.size() - 2] == '\\')
      command += block[i++] + "\n";
    while (!terminator.empty() && i < block.size()) {
      const bool last = block[i] == terminator;
      command += block[i++] + "\n";
      if (last) break;
    }
    script += command + "rc=$?; if [ $rc -ne 0 ]; then echo \"README.md, " + section +
              ": exit $rc from: \"" + single_quoted(first) + " >&2; exit 1; fi\n";
  }
  return script;
}

class ReadmeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = temp_dir("readme");
    clone = dir + "/clone";
    fs::create_directories(clone);
    fs::create_directories(dir + "/tmp");
    fs::create_directories(dir + "/config");
    for (const fs::directory_entry& entry : fs::directory_iterator(BERTH_SOURCE_DIR)) {
      const std::string name = entry.path().filename().string();
      if (name != "build" && name != "berth-state")
        fs::create_symlink(entry.path(), clone + "/" + name);
    }
    fs::create_directory_symlink(bin_dir(), clone + "/build");
    daemon = std::make_unique<Berthd>(clone + "/berth-state");
    daemon->with_local_agents();  // as `make run` starts it
    daemon->start();
  }
  void TearDown() override {
    daemon->stop();  // its local agent exits once idle; ~Berthd kills what is left
    if (!HasFailure()) fs::remove_all(dir);
  }

  // Runs `script` with bash from the clone folder, as a second terminal after `make run` would.
  CliResult run_script(const std::string& name, const std::string& script) {
    const std::string path = dir + "/" + name + ".sh";
    std::ofstream(path) << script;
    const char* path_env = std::getenv("PATH");
    const std::string cmd =
        "cd '" + clone + "' && env -u BERTH_TOKEN -u BERTH_TOKEN_FILE -u BERTH_SERVER PATH='" +
        bin_dir() + ":" + (path_env ? path_env : "/usr/bin:/bin") +
        "' BERTH_SERVER=" + daemon->url() + " XDG_CONFIG_HOME='" + dir + "/config' TMPDIR='" + dir +
        "/tmp' bash --noprofile --norc '" + path + "' 2>&1";
    return run_shell(cmd);
  }

  std::string dir, clone;
  std::unique_ptr<Berthd> daemon;
};

TEST(ReadmeScript, CommandsAreCheckedOneByOneAndCommentsStayComments) {
  const std::string script =
      checked_script({"# a comment", "cat > a.sh <<'SH'", "#!/bin/bash", "echo \\", "SH", "",
                      "berth award create --a 1 \\", "      --b 2   # why", "false && true"},
                     "tour");
  const std::string check =
      "rc=$?; if [ $rc -ne 0 ]; then echo \"README.md, tour: exit $rc from: \"";
  EXPECT_EQ(script, "# a comment\ncat > a.sh <<'SH'\n#!/bin/bash\necho \\\nSH\n" + check +
                        "'cat > a.sh <<'\\''SH'\\''' >&2; exit 1; fi\n\nberth award create --a 1 "
                        "\\\n      --b 2   # why\n" +
                        check + "'berth award create --a 1 \\' >&2; exit 1; fi\nfalse && true\n" +
                        check + "'false && true' >&2; exit 1; fi\n");
}

TEST_F(ReadmeTest, TheTourAndTheSimExampleRunAsWritten) {
  const std::string readme = read_file(std::string(BERTH_SOURCE_DIR) + "/README.md");
  const std::vector<std::string> tour = sh_block_under(readme, "## A short tour");
  const std::vector<std::string> sim =
      sh_block_under(readme, "## Replaying real workloads: berth sim");
  ASSERT_FALSE(tour.empty());
  ASSERT_FALSE(sim.empty());

  const CliResult toured = run_script("tour", checked_script(tour, "A short tour"));
  EXPECT_EQ(toured.exit_code, 0) << toured.out << "\nberthd's log:\n"
                                 << read_file(daemon->state_dir() + ".log");
  const CliResult simmed = run_script("sim", checked_script(sim, "Replaying real workloads"));
  EXPECT_EQ(simmed.exit_code, 0) << simmed.out;
  EXPECT_TRUE(fs::exists(clone + "/sim-report/index.html")) << simmed.out;
}

}  // namespace
}  // namespace berth::testing
