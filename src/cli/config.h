// Where the CLI finds its server and token.
//
// Each is taken from the first place that has it:
//   server: --server, $BERTH_SERVER, the config file's `server`, then http://127.0.0.1:8765;
//           each may list several berthd (a leader and its standbys), comma separated, and
//           --server may be repeated (cli/failover.h says how the leader among them is found);
//   token:  --token, $BERTH_TOKEN, the file named by $BERTH_TOKEN_FILE, the config file's
//           `token` (or `token_file`), then ./berth-state/admin.token when it exists, so that a
//           user who just ran `make run` in the repository can use the CLI at once.
// The config file is $XDG_CONFIG_HOME/berth/cli.toml, or ~/.config/berth/cli.toml, holding
// lines `key = "value"`; '#' starts a comment. All I/O goes through the injected functions.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace berth::cli {

inline constexpr char kDefaultServer[] = "http://127.0.0.1:8765";
inline constexpr char kLocalAdminTokenPath[] = "berth-state/admin.token";

// Reads a whole file; a missing file is Code::kNotFound.
using ReadFileFn = std::function<Result<std::string>(const std::string& path)>;
// Returns an environment variable, or nullopt when it is unset.
using GetEnvFn = std::function<std::optional<std::string>(const std::string& name)>;

struct ConnectionFlags {
  std::vector<std::string> servers;  // each --server as given; empty when none
  std::string token;
};

struct Connection {
  std::vector<std::string> servers;  // at least one, in the order given
  std::string token;                 // may be empty: requests then go without a token
  std::string token_source;          // where the token came from, for error hints; "" when none
};

// Parses the simple TOML subset of cli.toml. Unknown keys are kept; the caller ignores them.
Result<std::map<std::string, std::string>> parse_cli_config(std::string_view text);

// The config file's keys (empty when there is no file): `server`, `token`, `token_file`, and
// `export_deny`, the patterns of variables `berth submit` leaves out of a job's environment
// (cli/export_env.h).
Result<std::map<std::string, std::string>> load_cli_config(const GetEnvFn& getenv,
                                                           const ReadFileFn& read_file);

// "http://a:8765, http://b:8765" as {"http://a:8765", "http://b:8765"}: split at commas,
// blanks trimmed, empty entries dropped.
std::vector<std::string> split_servers(std::string_view text);

// Resolves server and token as described above.
Result<Connection> resolve_connection(const ConnectionFlags& flags, const GetEnvFn& getenv,
                                      const ReadFileFn& read_file);

}  // namespace berth::cli
