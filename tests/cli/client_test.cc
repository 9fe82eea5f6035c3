#include "cli/client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace berth::cli {
namespace {

using nlohmann::json;

TEST(ServerUrl, Forms) {
  Result<ServerUrl> u = parse_server_url("http://127.0.0.1:8765");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8765);
  EXPECT_EQ(u->base_path, "");
  u = parse_server_url("http://gpu.example.org/berth/");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "gpu.example.org");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->base_path, "/berth");
  u = parse_server_url("localhost:9000");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->port, 9000);
  u = parse_server_url("http://[::1]:8765");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8765);
}

TEST(ServerUrl, RefusesTlsAndGarbage) {
  Result<ServerUrl> u = parse_server_url("https://x:443");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("only http://"), std::string::npos);
  for (const char* bad : {"", "http://", "http://:80", "http://x:", "http://x:0", "http://x:70000",
                          "http://x:ab", "ftp://x", "http://[::1"}) {
    EXPECT_FALSE(parse_server_url(bad).ok()) << bad;
  }
}

TEST(PathSegment, EncodesReservedCharacters) {
  EXPECT_EQ(path_segment("vision"), "vision");
  EXPECT_EQ(path_segment("a b/c?d"), "a%20b%2Fc%3Fd");
  EXPECT_EQ(path_segment("é"), "%C3%A9");
  EXPECT_EQ(path_segment("a-b_c.d~e"), "a-b_c.d~e");
}

TEST(QueryString, SkipsEmptyValues) {
  EXPECT_EQ(query_string({}), "");
  EXPECT_EQ(query_string({{"state", ""}}), "");
  EXPECT_EQ(query_string({{"state", "PENDING,RUNNING"}, {"project", ""}, {"user", "al ice"}}),
            "?state=PENDING%2CRUNNING&user=al%20ice");
}

TEST(StatusFromReply, UsesTheServersErrorObject) {
  Status s = status_from_reply(
      409, R"({"error":{"code":"insufficient_funds","message":"wallet is short"}})");
  EXPECT_EQ(s.code(), Code::kInsufficientFunds);
  EXPECT_EQ(s.message(), "wallet is short");
  s = status_from_reply(404, R"({"error":{"message":"no such job"}})");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "no such job");
}

TEST(StatusFromReply, FallsBackToHttpStatusAndBody) {
  Status s = status_from_reply(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(s.message(), "server replied HTTP 502: <html>Bad Gateway</html>");
  s = status_from_reply(401, "");
  EXPECT_EQ(s.code(), Code::kUnauthenticated);
  EXPECT_EQ(s.message(), "server replied HTTP 401");
  s = status_from_reply(400, std::string(1000, 'x'));
  EXPECT_LT(s.message().size(), 260u);
}

// A real HTTP server on a free local port, answering a few paths the way berthd would.
class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/v1/whoami", [](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") != "Bearer secret") {
        res.status = 401;
        res.set_content(R"({"error":{"code":"unauthenticated","message":"unknown token"}})",
                        "application/json");
        return;
      }
      res.set_content(R"({"user":"alice","role":"member"})", "application/json");
    });
    server_.Post("/v1/jobs", [](const httplib::Request& req, httplib::Response& res) {
      const json body = json::parse(req.body);
      res.status = 201;
      res.set_content(
          json{{"id", 7}, {"echo", body}, {"key", req.get_header_value("Idempotency-Key")}}.dump(),
          "application/json");
    });
    server_.Get("/v1/broken", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("not json", "text/plain");
    });
    server_.Get("/v1/standby", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_header("Retry-After", "1");
      res.set_content(R"({"error":{"code":"not_leader","message":"this berthd (b) is a standby; )"
                      R"(a leads at http://a:8765"},"leader":"http://a:8765"})",
                      "application/json");
    });
    server_.Get("/v1/stopping", [](const httplib::Request&, httplib::Response& res) {
      res.status = 503;
      res.set_content(R"({"error":{"code":"unavailable","message":"berthd is stopping"}})",
                      "application/json");
    });
    server_.Get("/base/v1/whoami", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"user":"prefixed"})", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 200 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::unique_ptr<HttpApi> api(const std::string& token, const std::string& suffix = "") {
    Result<std::unique_ptr<HttpApi>> a = HttpApi::Create(url() + suffix, token);
    EXPECT_TRUE(a.ok());
    return std::move(*a);
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(HttpApiTest, SendsBearerTokenAndDecodesJson) {
  Result<json> me = api("secret")->get("/v1/whoami");
  ASSERT_TRUE(me.ok()) << me.status().ToString();
  EXPECT_EQ((*me)["user"], "alice");
}

TEST_F(HttpApiTest, ErrorReplyBecomesStatusWithServerMessage) {
  Result<json> me = api("wrong")->get("/v1/whoami");
  ASSERT_FALSE(me.ok());
  EXPECT_EQ(me.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(me.status().message(), "unknown token");
  Result<json> none = api("")->get("/v1/whoami");
  EXPECT_EQ(none.status().code(), Code::kUnauthenticated);
}

TEST_F(HttpApiTest, PostsJsonBody) {
  Result<json> reply = api("secret")->post("/v1/jobs", json{{"gpus", 2}});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ((*reply)["id"], 7);
  EXPECT_EQ((*reply)["echo"]["gpus"], 2);
}

TEST_F(HttpApiTest, PostsTheHeadersGiven) {
  Result<json> reply =
      api("secret")->post("/v1/jobs", json{{"gpus", 2}}, {{"Idempotency-Key", "k-123"}});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ((*reply)["key"], "k-123");
}

TEST_F(HttpApiTest, UnknownPathIsNotFound) {
  Result<json> reply = api("secret")->get("/v1/nope");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kNotFound);
}

TEST_F(HttpApiTest, NonJsonReplyIsAnError) {
  Result<json> reply = api("secret")->get("/v1/broken");
  ASSERT_FALSE(reply.ok());
  EXPECT_NE(reply.status().message().find("not JSON"), std::string::npos);
}

TEST_F(HttpApiTest, TextReplyComesAsItIsAndErrorsStayStatuses) {
  Result<std::string> text = api("secret")->get_text("/v1/broken");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "not json");
  Result<std::string> denied = api("wrong")->get_text("/v1/whoami");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(denied.status().message(), "unknown token");
}

TEST_F(HttpApiTest, BasePathIsPrefixed) {
  Result<json> reply = api("secret", "/base/")->get("/v1/whoami");
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ((*reply)["user"], "prefixed");
}

TEST_F(HttpApiTest, InvalidUtf8IsRefusedLocally) {
  Result<json> reply =
      api("secret")->post("/v1/jobs", json{{"script", std::string("#!/bin/sh\n# caf\xe9\n")}});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kInvalidArgument);
  EXPECT_NE(reply.status().message().find("UTF-8"), std::string::npos);
}

TEST_F(HttpApiTest, AStandbysReplyNamesTheLeaderAndWasNotServed) {
  std::unique_ptr<HttpApi> a = api("secret");
  Result<json> reply = a->get("/v1/standby");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kUnavailable);
  EXPECT_EQ(reply.status().message(), "this berthd (b) is a standby; a leads at http://a:8765");
  ASSERT_TRUE(a->not_served().has_value());
  EXPECT_FALSE(a->not_served()->unreachable);
  EXPECT_EQ(a->not_served()->leader, "http://a:8765");
  // The next call's outcome replaces it.
  ASSERT_TRUE(a->get("/v1/whoami").ok());
  EXPECT_FALSE(a->not_served().has_value());
}

TEST_F(HttpApiTest, AnyOtherFailureMayHaveBeenServed) {
  std::unique_ptr<HttpApi> a = api("secret");
  Result<json> reply = a->get("/v1/stopping");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kUnavailable);
  EXPECT_FALSE(a->not_served().has_value());
  EXPECT_FALSE(a->get("/v1/broken").ok());
  EXPECT_FALSE(a->not_served().has_value());
}

TEST(NotLeaderReply, OnlyA503NotLeader) {
  std::optional<NotServed> s =
      not_leader_reply(503, R"({"error":{"code":"not_leader","message":"m"},"leader":""})");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->leader, "");
  EXPECT_FALSE(s->unreachable);
  EXPECT_TRUE(not_leader_reply(503, R"({"error":{"code":"not_leader"}})").has_value());
  EXPECT_FALSE(not_leader_reply(503, R"({"error":{"code":"unavailable"}})").has_value());
  EXPECT_FALSE(not_leader_reply(500, R"({"error":{"code":"not_leader"}})").has_value());
  EXPECT_FALSE(not_leader_reply(503, "<html>busy</html>").has_value());
}

TEST(HttpApi, ConnectionFailureNamesTheServer) {
  // Bind a free port without listening, then close it, so that nothing is there to answer.
  int port = 0;
  {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  Result<std::unique_ptr<HttpApi>> api = HttpApi::Create(url, "t");
  ASSERT_TRUE(api.ok());
  Result<json> reply = (*api)->get("/v1/health");
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), Code::kUnavailable);
  EXPECT_NE(reply.status().message().find(url), std::string::npos) << reply.status().message();
  ASSERT_TRUE((*api)->not_served().has_value());  // nothing reached a server: sent elsewhere
  EXPECT_TRUE((*api)->not_served()->unreachable);
}

TEST(HttpApi, CreateRefusesBadUrl) { EXPECT_FALSE(HttpApi::Create("https://x", "").ok()); }

}  // namespace
}  // namespace berth::cli
