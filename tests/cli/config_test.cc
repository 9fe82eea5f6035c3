#include "cli/config.h"

#include <gtest/gtest.h>

#include <map>

namespace berth::cli {
namespace {

using Servers = std::vector<std::string>;

// A fake process environment: variables and files in maps.
struct FakeWorld {
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> files;

  GetEnvFn getenv() const {
    return [this](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
  }
  ReadFileFn read_file() const {
    return [this](const std::string& path) -> Result<std::string> {
      auto it = files.find(path);
      if (it == files.end()) return Status::NotFound("No such file or directory");
      return it->second;
    };
  }
  Connection resolve(const ConnectionFlags& flags = {}) const {
    Result<Connection> c = resolve_connection(flags, getenv(), read_file());
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : Connection{};
  }
};

TEST(CliConfig, ParsesKeysCommentsAndEscapes) {
  Result<std::map<std::string, std::string>> c = parse_cli_config(
      "# berth client\n"
      "\n"
      "server = \"http://gpu.example:8765\"   # the centre\n"
      "token=\"abc\\\"def\"\n"
      "  other_key = 'literal \\n kept'\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->at("server"), "http://gpu.example:8765");
  EXPECT_EQ(c->at("token"), "abc\"def");
  EXPECT_EQ(c->at("other_key"), "literal \\n kept");
}

TEST(CliConfig, MalformedLinesNameTheLine) {
  for (const char* bad : {"server\n", "server = http://x\n", "server = \"open\n", "= \"x\"\n",
                          "a b = \"x\"\n", "server = \"x\" extra\n"}) {
    Result<std::map<std::string, std::string>> c = parse_cli_config(std::string("# ok\n") + bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("line 2"), std::string::npos) << c.status().message();
  }
}

TEST(ResolveConnection, DefaultsWithNothingConfigured) {
  FakeWorld world;
  const Connection c = world.resolve();
  EXPECT_EQ(c.servers, Servers{"http://127.0.0.1:8765"});
  EXPECT_EQ(c.token, "");
  EXPECT_EQ(c.token_source, "");
}

TEST(ResolveConnection, LocalAdminTokenAfterMakeRun) {
  FakeWorld world;
  world.files["berth-state/admin.token"] = "local-admin\n";
  const Connection c = world.resolve();
  EXPECT_EQ(c.token, "local-admin");
  EXPECT_EQ(c.token_source, "berth-state/admin.token");
}

TEST(ResolveConnection, ConfigFileBeatsLocalToken) {
  FakeWorld world;
  world.env["HOME"] = "/home/alice";
  world.files["/home/alice/.config/berth/cli.toml"] =
      "server = \"http://cfg:1\"\ntoken = \"from-config\"\n";
  world.files["berth-state/admin.token"] = "local-admin";
  const Connection c = world.resolve();
  EXPECT_EQ(c.servers, Servers{"http://cfg:1"});
  EXPECT_EQ(c.token, "from-config");
}

TEST(ResolveConnection, XdgConfigHomeIsHonoured) {
  FakeWorld world;
  world.env["HOME"] = "/home/alice";
  world.env["XDG_CONFIG_HOME"] = "/cfg";
  world.files["/cfg/berth/cli.toml"] = "token_file = \"/secrets/t\"\n";
  world.files["/secrets/t"] = "  from-token-file \n";
  EXPECT_EQ(world.resolve().token, "from-token-file");
}

TEST(ResolveConnection, EnvironmentBeatsConfigFile) {
  FakeWorld world;
  world.env["HOME"] = "/h";
  world.files["/h/.config/berth/cli.toml"] = "server = \"http://cfg:1\"\ntoken = \"cfg\"\n";
  world.env["BERTH_SERVER"] = "http://env:2";
  world.env["BERTH_TOKEN_FILE"] = "/t";
  world.files["/t"] = "file-token\n";
  Connection c = world.resolve();
  EXPECT_EQ(c.servers, Servers{"http://env:2"});
  EXPECT_EQ(c.token, "file-token");
  world.env["BERTH_TOKEN"] = "env-token";
  c = world.resolve();
  EXPECT_EQ(c.token, "env-token");  // BERTH_TOKEN beats BERTH_TOKEN_FILE.
  EXPECT_EQ(c.token_source, "BERTH_TOKEN");
}

TEST(ResolveConnection, FlagsBeatEverything) {
  FakeWorld world;
  world.env["BERTH_SERVER"] = "http://env:2";
  world.env["BERTH_TOKEN"] = "env-token";
  const Connection c = world.resolve({{"http://flag:3"}, "flag-token"});
  EXPECT_EQ(c.servers, Servers{"http://flag:3"});
  EXPECT_EQ(c.token, "flag-token");
  EXPECT_EQ(c.token_source, "--token");
}

TEST(ResolveConnection, EmptyEnvironmentVariablesAreUnset) {
  FakeWorld world;
  world.env["BERTH_SERVER"] = "";
  world.env["BERTH_TOKEN"] = "";
  EXPECT_EQ(world.resolve().servers, Servers{"http://127.0.0.1:8765"});
}

TEST(ResolveConnection, ServersAreListedWithCommasOrRepeatedFlags) {
  FakeWorld world;
  world.env["HOME"] = "/h";
  world.files["/h/.config/berth/cli.toml"] = "server = \"http://c1:1, http://c2:1\"\n";
  EXPECT_EQ(world.resolve().servers, (Servers{"http://c1:1", "http://c2:1"}));
  world.env["BERTH_SERVER"] = "http://e1:2,,http://e2:2 ,";
  EXPECT_EQ(world.resolve().servers, (Servers{"http://e1:2", "http://e2:2"}));
  EXPECT_EQ(world.resolve({{"http://f1:3,http://f2:3", "http://f3:3"}, ""}).servers,
            (Servers{"http://f1:3", "http://f2:3", "http://f3:3"}));
}

TEST(ResolveConnection, AListOfNothingIsAnError) {
  FakeWorld world;
  world.env["BERTH_SERVER"] = " , ";
  Result<Connection> c = resolve_connection({}, world.getenv(), world.read_file());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "BERTH_SERVER names no server");
}

TEST(ResolveConnection, UnreadableTokenFileIsAnError) {
  FakeWorld world;
  world.env["BERTH_TOKEN_FILE"] = "/missing";
  Result<Connection> c = resolve_connection({}, world.getenv(), world.read_file());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/missing"), std::string::npos);
}

TEST(ResolveConnection, BrokenConfigFileIsAnError) {
  FakeWorld world;
  world.env["HOME"] = "/h";
  world.files["/h/.config/berth/cli.toml"] = "server: x\n";
  Result<Connection> c = resolve_connection({}, world.getenv(), world.read_file());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("cli.toml"), std::string::npos);
}

}  // namespace
}  // namespace berth::cli
