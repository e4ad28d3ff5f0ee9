#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "transport/HttpIngestServer.hpp"

using namespace flowlier::transport;

namespace {
std::string exchange(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response;
  char buffer[1024];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) response.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return response;
}
}  // namespace

TEST_CASE("HttpIngestServer hands POST bodies and lower-cased headers to the handler") {
  InboundRequest seen;
  HttpIngestServer server(
      [&seen](const InboundRequest& r) {
        seen = r;
        return MetricsReply{200, "application/json", "{\"ok\":1}"};
      },
      16);
  REQUIRE(server.start("127.0.0.1:0").empty());
  const auto ok = exchange(server.port(),
                           "POST /in?x=1 HTTP/1.1\r\nX-Amz-Firehose-Access-Key:  k \r\nContent-Length: 5\r\n\r\nhello");
  CHECK(ok.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(ok.ends_with("\r\n\r\n{\"ok\":1}"));
  CHECK(seen.method == "POST");
  CHECK(seen.path == "/in");
  CHECK(seen.body == "hello");
  CHECK(seen.header("x-amz-firehose-access-key") == "k");
  // Over the bound: refused before the body is read.
  seen = {};
  CHECK(exchange(server.port(), "POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n").starts_with("HTTP/1.1 413 "));
  CHECK(exchange(server.port(), "POST / HTTP/1.1\r\n\r\n").starts_with("HTTP/1.1 411 "));
  CHECK(exchange(server.port(), "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n").starts_with("HTTP/1.1 400 "));
  CHECK(exchange(server.port(), "garbage\r\n\r\n").starts_with("HTTP/1.1 400 "));
  CHECK(seen.method.empty());  // none of those reached the handler
  server.stop();
}

TEST_CASE("HttpIngestServer refuses an address that is not host:port") {
  HttpIngestServer server([](const InboundRequest&) { return MetricsReply{}; }, 16);
  CHECK_FALSE(server.start("nowhere").empty());
  CHECK_FALSE(server.start("example.com:80").empty());
}
