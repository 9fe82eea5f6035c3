// The step socket's messages and its abstract-namespace sockets (common/step_wire.h).
#include "common/step_wire.h"

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

namespace berth {
namespace {

TEST(StepWireTest, ACallAndAResultRoundTrip) {
  StepCall call{42, {"sh", "-c", "echo \"a b\"\n"}, "/scratch/x"};
  const std::string line = encode_step_call(call);
  ASSERT_EQ(line.back(), '\n');
  Result<StepCall> back = decode_step_call(line.substr(0, line.size() - 1));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->job, 42u);
  EXPECT_EQ(back->argv, call.argv);
  EXPECT_EQ(back->workdir, "/scratch/x");
  StepResult r{3, 0, 15, 2, ""};
  Result<StepResult> rb = decode_step_result(encode_step_result(r));
  ASSERT_TRUE(rb.ok());
  EXPECT_EQ(rb->step, 3u);
  EXPECT_EQ(rb->signal, 15);
  EXPECT_EQ(rb->ranks, 2u);
  EXPECT_EQ(rb->error, "");
}

TEST(StepWireTest, ABadCallIsRefusedNamingWhatIsWrong) {
  EXPECT_NE(decode_step_call("not json").status().message().find("not a JSON object"),
            std::string::npos);
  EXPECT_NE(decode_step_call(R"({"job":"7","argv":["x"]})").status().message().find("'job'"),
            std::string::npos);
  EXPECT_NE(decode_step_call(R"({"job":7,"argv":[]})").status().message().find("'argv'"),
            std::string::npos);
  EXPECT_NE(decode_step_call(R"({"job":7,"argv":["x",1]})").status().message().find("non-string"),
            std::string::npos);
  EXPECT_NE(decode_step_call(R"({"job":7,"argv":["x"],"workdir":3})")
                .status()
                .message()
                .find("'workdir'"),
            std::string::npos);
}

TEST(StepWireTest, AnAbstractSocketCarriesOneLineEachWay) {
  const std::string address = "@berth-step-wire-test-" + std::to_string(::getpid());
  Result<int> server = listen_step_socket(address);
  ASSERT_TRUE(server.ok()) << server.status().message();
  EXPECT_FALSE(listen_step_socket(address).ok()) << "one listener per address";
  std::thread peer([&] {
    const int fd = ::accept(*server, nullptr, nullptr);
    Result<std::string> line = read_step_line(fd);
    EXPECT_TRUE(line.ok());
    EXPECT_TRUE(write_step_line(fd, "got " + (line.ok() ? *line : std::string("?")) + "\n").ok());
    ::close(fd);
  });
  Result<int> client = connect_step_socket(address);
  ASSERT_TRUE(client.ok()) << client.status().message();
  ASSERT_TRUE(write_step_line(*client, "hello\n").ok());
  Result<std::string> answer = read_step_line(*client);
  peer.join();
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(*answer, "got hello");
  EXPECT_FALSE(read_step_line(*client).ok()) << "closed";
  ::close(*client);
  ::close(*server);
  EXPECT_FALSE(connect_step_socket(address).ok()) << "gone with its listener";
  EXPECT_FALSE(connect_step_socket("/not/abstract").ok());
}

}  // namespace
}  // namespace berth
