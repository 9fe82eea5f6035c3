// The HTTP front end against hostile clients, and listings in pages: a real berthd over TCP.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "harness.h"

namespace berth::testing {
namespace {

// The embedded default configuration with [http] settings replaced by `http_lines`.
std::string config_with_http(const std::string& http_lines) {
  FILE* p = popen((bin_dir() + "/berthd --print-default-config").c_str(), "r");
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) text.append(buf, n);
  pclose(p);
  const size_t at = text.find("[http]\n");
  const size_t end = text.find("\n[[", at);
  if (at == std::string::npos || end == std::string::npos)
    throw std::runtime_error("no [http] in the default configuration");
  return text.substr(0, at) + "[http]\n" + http_lines + "\n" + text.substr(end);
}

// A TCP connection to 127.0.0.1:port from the local address `from` (any 127.x.y.z), non-blocking.
int connect_from(const std::string& from, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  inet_pton(AF_INET, from.c_str(), &local.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    ::close(fd);
    return -1;
  }
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &server.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Whether the server has closed the connection (a read says end of file or reset), not waiting.
bool closed_by_server(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  char buf[4096];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

bool send_text(int fd, const std::string& s) {
  return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
}

class FrontendTest : public ::testing::Test {
 protected:
  void start(const std::string& http_lines) {
    dir = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::ofstream(dir + "/berth.toml") << config_with_http(http_lines);
    daemon = std::make_unique<Berthd>(dir + "/state", dir + "/berth.toml");
    daemon->start();
  }
  void TearDown() override {
    for (int fd : sockets) ::close(fd);
    daemon.reset();
    if (!HasFailure() && !dir.empty()) fs::remove_all(dir);
  }
  int open_from(const std::string& from) {
    const int fd = connect_from(from, daemon->port());
    if (fd >= 0) sockets.push_back(fd);
    return fd;
  }
  // An org, a funded project and a job script: enough to submit jobs.
  void make_project() {
    must_succeed(*daemon, "POST", "/v1/orgs", R"({"name":"hku","kind":"university"})");
    must_succeed(*daemon, "POST", "/v1/projects", R"({"name":"vision","org":"hku"})");
    must_succeed(*daemon, "POST", "/v1/projects/vision/topups",
                 R"({"amount":"1000000","reference":"INV-1"})");
  }
  std::string held_job(const std::string& array = "") {
    json b = {{"project", "vision"},
              {"gpus", 1},
              {"script", "#!/bin/sh\ntrue\n"},
              {"workdir", dir},
              {"hold", true}};
    if (!array.empty()) b["array"] = array;
    return b.dump();
  }

  std::string dir;
  std::unique_ptr<Berthd> daemon;
  std::vector<int> sockets;
};

// 50 clients dribbling a header byte every 100 ms and 1,000 half-sent requests held open from
// other addresses: berthd still answers /v1/health and an authenticated submit from 127.0.0.1,
// and the header deadline closes every slow connection.
TEST_F(FrontendTest, SlowClientsDoNotStarveTheApiAndAreClosedByTheHeaderDeadline) {
  start("header_timeout_s = 1\nmax_connections_per_client = 600");
  make_project();
  std::vector<int> idle;
  for (int i = 0; i < 1000; ++i) {
    const int fd = open_from(i % 2 ? "127.0.0.2" : "127.0.0.3");
    ASSERT_GE(fd, 0) << "connection " << i;
    ASSERT_TRUE(send_text(fd, "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Le"));
    idle.push_back(fd);
  }
  std::vector<int> dribblers;
  for (int i = 0; i < 50; ++i) {
    const int fd = open_from("127.0.0.4");
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(send_text(fd, "GET /v1/health HTTP/1.1\r\nX-Slow: "));
    dribblers.push_back(fd);
  }
  std::atomic<bool> done{false};
  std::atomic<size_t> dribblers_closed{0};
  std::thread dribble([&] {
    std::set<int> closed;
    while (!done && closed.size() < dribblers.size()) {
      for (int fd : dribblers) {
        if (closed.count(fd)) continue;
        if (closed_by_server(fd) || !send_text(fd, "a")) closed.insert(fd);
      }
      dribblers_closed = closed.size();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  for (int round = 0; round < 3; ++round) {
    auto [health, body] = daemon->api("GET", "/v1/health", "", "");
    EXPECT_EQ(health, 200) << body.dump();
    auto [submitted, job] = daemon->api("POST", "/v1/jobs", held_job());
    EXPECT_EQ(submitted, 201) << job.dump();
  }
  // The dribblers never finish their headers: the 1 s deadline (total, not per byte) ends them.
  EXPECT_TRUE(
      eventually([&] { return dribblers_closed == dribblers.size(); }, std::chrono::seconds(60)));
  done = true;
  dribble.join();
  size_t idle_closed = 0;
  EXPECT_TRUE(eventually(
      [&] {
        idle_closed = static_cast<size_t>(
            std::count_if(idle.begin(), idle.end(), [](int fd) { return closed_by_server(fd); }));
        return idle_closed == idle.size();
      },
      std::chrono::seconds(60)))
      << idle_closed << " of " << idle.size() << " closed";
  EXPECT_EQ(daemon->api("GET", "/v1/health", "", "").first, 200);
}

// Beyond the cap per client address, a new connection is closed at once; other addresses and
// connections within the cap are served.
TEST_F(FrontendTest, ConnectionsBeyondThePerClientCapAreClosedAtOnce) {
  start("max_connections_per_client = 3");
  for (int i = 0; i < 3; ++i) ASSERT_GE(open_from("127.0.0.2"), 0);
  const int over = open_from("127.0.0.2");
  ASSERT_GE(over, 0);  // the kernel accepts it; berthd closes it
  EXPECT_TRUE(eventually([&] { return closed_by_server(over); }, std::chrono::seconds(30)));
  // The three within the cap still get answers.
  const int within = sockets[0];
  ASSERT_TRUE(send_text(within, "GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string reply;
  ASSERT_TRUE(eventually(
      [&] {
        char buf[4096];
        const ssize_t n = ::recv(within, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) reply.append(buf, static_cast<size_t>(n));
        return n == 0;
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  EXPECT_EQ(daemon->api("GET", "/v1/health", "", "").first, 200);
}

// Pipelined requests on one connection are each answered, in order.
TEST_F(FrontendTest, PipelinedRequestsAreAnsweredInOrder) {
  start("");
  const int fd = open_from("127.0.0.1");
  ASSERT_GE(fd, 0);
  const std::string auth = "Authorization: Bearer " + daemon->admin_token() + "\r\n";
  ASSERT_TRUE(send_text(fd,
                        "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n"
                        "GET /v1/whoami HTTP/1.1\r\nHost: x\r\n" +
                            auth +
                            "\r\n"
                            "GET /v1/nodes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                            auth + "\r\n"));
  std::string reply;
  ASSERT_TRUE(eventually(
      [&] {
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) reply.append(buf, static_cast<size_t>(n));
        return n == 0;
      },
      std::chrono::seconds(30)));
  const size_t health = reply.find("\"status\":\"ok\"");
  const size_t whoami = reply.find("\"user\":\"admin\"");
  const size_t nodes = reply.find("\"nodes\":[");
  ASSERT_NE(health, std::string::npos) << reply;
  ASSERT_NE(whoami, std::string::npos) << reply;
  ASSERT_NE(nodes, std::string::npos) << reply;
  EXPECT_LT(health, whoami);
  EXPECT_LT(whoami, nodes);
}

// A chunked request body is refused with 411 and a JSON error.
TEST_F(FrontendTest, ChunkedBodyIs411) {
  start("");
  const int fd = open_from("127.0.0.1");
  ASSERT_TRUE(send_text(fd,
                        "POST /v1/orgs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                        "chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"));
  std::string reply;
  ASSERT_TRUE(eventually(
      [&] {
        char buf[4096];
        const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) reply.append(buf, static_cast<size_t>(n));
        return n == 0 || (n < 0 && errno != EAGAIN);
      },
      std::chrono::seconds(30)));
  EXPECT_EQ(reply.rfind("HTTP/1.1 411", 0), 0u) << reply;
  EXPECT_NE(reply.find("\"length_required\""), std::string::npos) << reply;
}

TEST_F(FrontendTest, WrongMethodOnAKnownPathIs405WithAllow) {
  start("");
  httplib::Client c("127.0.0.1", daemon->port());
  httplib::Headers h = {{"Authorization", "Bearer " + daemon->admin_token()}};
  auto del = c.Delete("/v1/jobs", h);
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 405);
  EXPECT_EQ(del->get_header_value("Allow"), "GET, HEAD, POST");
  const json body = json::parse(del->body);
  EXPECT_EQ(body["error"]["code"], "method_not_allowed");
  auto get_cancel = c.Get("/v1/jobs/12/cancel", h);
  ASSERT_TRUE(get_cancel);
  EXPECT_EQ(get_cancel->status, 405);
  EXPECT_EQ(get_cancel->get_header_value("Allow"), "POST");
  auto post_health = c.Post("/v1/health", h, "{}", "application/json");
  ASSERT_TRUE(post_health);
  EXPECT_EQ(post_health->status, 405);
  EXPECT_EQ(post_health->get_header_value("Allow"), "GET, HEAD");
  auto unknown = c.Get("/v1/nothing-here", h);
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body)["error"]["code"], "not_found");
}

// 6,000 jobs (two arrays): a walk with the cursor sees each once, in id order; a filter that
// matches nothing still answers at once, with partial pages that carry on.
TEST_F(FrontendTest, JobListingCursorWalksEveryJobOnceAndBoundsEachScan) {
  start("");
  make_project();
  for (const char* range : {"0-2999", "0-2999"}) {
    auto [st, out] = daemon->api("POST", "/v1/jobs", held_job(range));
    ASSERT_EQ(st, 201) << out.dump();
  }
  const json first = must_succeed(*daemon, "GET", "/v1/jobs", "");
  EXPECT_EQ(first["jobs"].size(), 100u);  // the default page
  EXPECT_EQ(first["next"], 100);
  std::vector<uint64_t> seen;
  std::string after = "0";
  int pages = 0;
  while (true) {
    const json page = must_succeed(*daemon, "GET", "/v1/jobs?limit=1000&after=" + after, "");
    EXPECT_LE(page["jobs"].size(), 1000u);
    for (const json& j : page["jobs"]) seen.push_back(j["id"].get<uint64_t>());
    ++pages;
    if (page["next"].is_null()) break;
    after = page["next"].dump();
  }
  ASSERT_EQ(seen.size(), 6000u);
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i + 1) << "position " << i;
  EXPECT_EQ(pages, 6);

  // A filter that matches nothing: each request looks at a bounded number of jobs and says where
  // to go on; walking on ends with nothing found.
  const json none = must_succeed(*daemon, "GET", "/v1/jobs?user=nobody&limit=1000", "");
  EXPECT_TRUE(none["jobs"].empty());
  ASSERT_FALSE(none["next"].is_null());
  EXPECT_LT(none["next"].get<uint64_t>(), 6000u);
  EXPECT_EQ(every_page(*daemon, "/v1/jobs?user=nobody&limit=1000", "jobs")["jobs"].size(), 0u);
  // A filter that matches: the walk still sees all, once.
  EXPECT_EQ(every_page(*daemon, "/v1/jobs?state=PENDING&limit=1000", "jobs")["jobs"].size(), 6000u);
  EXPECT_TRUE(must_succeed(*daemon, "GET", "/v1/jobs?after=6000", "")["next"].is_null());

  // berth queue follows the cursor: it shows every pending job, not a first page.
  const CliResult queue = berth_cli(*daemon, "--json queue", "", dir);
  ASSERT_EQ(queue.exit_code, 0) << queue.out.substr(0, 500);
  EXPECT_EQ(json::parse(queue.out)["jobs"].size(), 6000u);
}

TEST_F(FrontendTest, BadLimitOrAfterIs400NamingTheParameter) {
  start("");
  for (const std::string path : {"/v1/jobs", "/v1/transfers"}) {
    for (const char* query : {"limit=5abc", "limit=0", "limit=1001", "limit=-1", "limit="}) {
      auto [st, out] = daemon->api("GET", path + "?" + std::string(query));
      EXPECT_EQ(st, 400) << path << "?" << query;
      EXPECT_NE(out["error"].value("message", "").find("'limit'"), std::string::npos) << out.dump();
    }
    for (const char* query : {"after=x", "after=-3", "after=1.5"}) {
      auto [st, out] = daemon->api("GET", path + "?" + std::string(query));
      EXPECT_EQ(st, 400) << path << "?" << query;
      EXPECT_NE(out["error"].value("message", "").find("'after'"), std::string::npos) << out.dump();
    }
  }
  auto [st, out] = daemon->api("GET", "/v1/transfers?job=12x");
  EXPECT_EQ(st, 400);
  EXPECT_NE(out["error"].value("message", "").find("'job'"), std::string::npos) << out.dump();
}

TEST_F(FrontendTest, TransferListingCursorWalksEveryTransferOnce) {
  start("");
  make_project();
  for (int i = 0; i < 30; ++i)
    must_succeed(*daemon, "POST", "/v1/projects/vision/topups",
                 json{{"amount", "1"}, {"reference", "T-" + std::to_string(i)}}.dump());
  const json whole = must_succeed(*daemon, "GET", "/v1/transfers?limit=1000", "");
  ASSERT_TRUE(whole["next"].is_null());
  ASSERT_GE(whole["transfers"].size(), 31u);
  const json paged = every_page(*daemon, "/v1/transfers?limit=7", "transfers");
  EXPECT_EQ(paged["transfers"], whole["transfers"]);
}

}  // namespace
}  // namespace berth::testing
