#include <gtest/gtest.h>

#include <string>

#include "server/frontend.h"

namespace berth::server {
namespace {

using Phase = RequestReader::Phase;

const std::string kGet = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kPost = "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n{\"a\":1}";

TEST(RequestReaderTest, WholeRequestInOneRead) {
  RequestReader r(16384, 1024);
  EXPECT_EQ(r.add(kGet), Phase::kReady);
  EXPECT_EQ(r.take(), kGet);
  EXPECT_EQ(r.phase(), Phase::kIdle);
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(RequestReaderTest, ByteByByteReadsGoThroughHeadersThenBody) {
  RequestReader r(16384, 1024);
  const size_t header_end = kPost.find("\r\n\r\n") + 4;
  for (size_t i = 0; i + 1 < kPost.size(); ++i) {
    const Phase p = r.add(kPost.substr(i, 1));
    EXPECT_EQ(p, i + 1 < header_end ? Phase::kHeaders : Phase::kBody) << "after byte " << i;
  }
  EXPECT_EQ(r.add(kPost.substr(kPost.size() - 1)), Phase::kReady);
  EXPECT_EQ(r.take(), kPost);
}

TEST(RequestReaderTest, PipelinedRequestsComeOutOneAtATime) {
  RequestReader r(16384, 1024);
  const std::string third_part = "GET /v1/nodes HTTP/1.1\r\n";
  EXPECT_EQ(r.add(kPost + kGet + third_part), Phase::kReady);
  EXPECT_EQ(r.add("Host: y\r\n"), Phase::kReady);  // more bytes do not disturb the ready request
  EXPECT_EQ(r.take(), kPost);
  EXPECT_EQ(r.phase(), Phase::kReady);
  EXPECT_EQ(r.take(), kGet);
  EXPECT_EQ(r.phase(), Phase::kHeaders);
  EXPECT_EQ(r.add("\r\n"), Phase::kReady);
  EXPECT_EQ(r.take(), third_part + "Host: y\r\n\r\n");
  EXPECT_EQ(r.phase(), Phase::kIdle);
}

TEST(RequestReaderTest, BlankLinesBetweenRequestsAreSkipped) {
  RequestReader r(16384, 1024);
  EXPECT_EQ(r.add("\r\n" + kGet), Phase::kReady);
  EXPECT_EQ(r.take(), kGet);
}

TEST(RequestReaderTest, HeadersOverTheLimitAre431EvenUnfinished) {
  RequestReader r(1024, 1024);
  EXPECT_EQ(r.add("GET / HTTP/1.1\r\nX-Long: " + std::string(1000, 'a')), Phase::kHeaders);
  EXPECT_EQ(r.add(std::string(100, 'a')), Phase::kRefused);
  EXPECT_EQ(r.refusal_status(), 431);

  RequestReader whole(1024, 1024);
  EXPECT_EQ(whole.add("GET / HTTP/1.1\r\nX-Long: " + std::string(1100, 'a') + "\r\n\r\n"),
            Phase::kRefused);
  EXPECT_EQ(whole.refusal_status(), 431);
}

TEST(RequestReaderTest, BodyOverTheLimitIs413BeforeItArrives) {
  RequestReader r(16384, 1024);
  EXPECT_EQ(r.add("POST /v1/jobs HTTP/1.1\r\nContent-Length: 1025\r\n\r\n"), Phase::kRefused);
  EXPECT_EQ(r.refusal_status(), 413);
  EXPECT_NE(r.refusal_message().find("1024"), std::string::npos) << r.refusal_message();
}

TEST(RequestReaderTest, ChunkedBodiesAre411) {
  RequestReader r(16384, 1024);
  EXPECT_EQ(
      r.add("POST /v1/jobs HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
      Phase::kRefused);
  EXPECT_EQ(r.refusal_status(), 411);
}

TEST(RequestReaderTest, BadOrConflictingContentLengthIs400) {
  for (const std::string& headers :
       {std::string("Content-Length: 5abc\r\n"), std::string("Content-Length: -1\r\n"),
        std::string("Content-Length: 3\r\ncontent-length: 4\r\n"), std::string(" folded: line\r\n"),
        std::string("no colon\r\n")}) {
    RequestReader r(16384, 1024);
    EXPECT_EQ(r.add("POST /v1/jobs HTTP/1.1\r\n" + headers + "\r\n"), Phase::kRefused) << headers;
    EXPECT_EQ(r.refusal_status(), 400) << headers;
  }
  RequestReader same(16384, 1024);
  EXPECT_EQ(same.add("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab"),
            Phase::kReady);
}

TEST(RequestReaderTest, RefusalIsFinal) {
  RequestReader r(16384, 1024);
  EXPECT_EQ(r.add("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), Phase::kRefused);
  EXPECT_EQ(r.add(kGet), Phase::kRefused);
  EXPECT_EQ(r.take(), "");
}

}  // namespace
}  // namespace berth::server
