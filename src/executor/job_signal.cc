#include "executor/job_signal.h"

#include <csignal>

#include <array>
#include <charconv>
#include <utility>

namespace berth::executor {
namespace {

// The signals a job may ask for: those a program can catch to save its work. KILL and STOP
// cannot be caught, so warning with them would only end the job early.
constexpr std::array<std::pair<std::string_view, int>, 10> kSignals = {{
    {"HUP", SIGHUP},
    {"INT", SIGINT},
    {"QUIT", SIGQUIT},
    {"USR1", SIGUSR1},
    {"USR2", SIGUSR2},
    {"ALRM", SIGALRM},
    {"TERM", SIGTERM},
    {"CONT", SIGCONT},
    {"URG", SIGURG},
    {"WINCH", SIGWINCH},
}};

bool read_whole_number(std::string_view text, size_t max_digits, int64_t* out) {
  if (text.empty() || text.size() > max_digits ||
      text.find_first_not_of("0123456789") != std::string_view::npos)
    return false;
  return std::from_chars(text.data(), text.data() + text.size(), *out).ec == std::errc();
}

// The signal's number, or 0 when it is not one of kSignals.
int signal_number(std::string_view name) {
  if (name.starts_with("SIG")) name.remove_prefix(3);
  int64_t number = 0;
  const bool numeric = read_whole_number(name, 2, &number);
  for (const auto& [known, value] : kSignals) {
    if (numeric ? number == value : name == known) return value;
  }
  return 0;
}

std::string signal_names() {
  std::string names;
  for (const auto& [known, value] : kSignals)
    names += (names.empty() ? "" : ", ") + std::string(known);
  return names;
}

std::string_view signal_name(int number) {
  for (const auto& [known, value] : kSignals)
    if (value == number) return known;
  return "";
}

}  // namespace

Result<JobSignal> parse_job_signal(std::string_view text) {
  const std::string shown(text);
  const auto bad = [&shown](const std::string& why) {
    return Status::Invalid("signal '" + shown + "' " + why +
                           " (write [B:]SIG[@SECONDS], e.g. B:USR1@60)");
  };
  JobSignal out;
  if (text.starts_with("R:") || text.starts_with("RB:") || text.starts_with("BR:"))
    return bad("uses R: (reservations), which berth does not have");
  if (text.starts_with("B:")) {
    out.batch_only = true;
    text.remove_prefix(2);
  }
  const size_t at = text.find('@');
  if (at != std::string_view::npos) {
    if (!read_whole_number(text.substr(at + 1), 5, &out.before_s) ||
        out.before_s > kMaxSignalBeforeS)
      return bad("has a time after @ that is not 0 to " + std::to_string(kMaxSignalBeforeS) +
                 " seconds");
    text = text.substr(0, at);
  }
  if (text.empty()) return bad("names no signal");
  out.number = signal_number(text);
  if (out.number == 0)
    return bad("names no signal a job can catch to save its work (one of " + signal_names() + ")");
  return out;
}

std::string format_job_signal(const JobSignal& signal) {
  return (signal.batch_only ? "B:" : "") + std::string(signal_name(signal.number)) + "@" +
         std::to_string(signal.before_s);
}

}  // namespace berth::executor
