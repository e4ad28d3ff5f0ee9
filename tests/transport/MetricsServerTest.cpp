#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "transport/MetricsServer.hpp"

using namespace flowlier::transport;

namespace {
std::string http_exchange(std::uint16_t port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  ::send(fd, request.data(), request.size(), 0);
  std::string response;
  char buffer[1024];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) response.append(buffer, static_cast<std::size_t>(n));
  ::close(fd);
  return response;
}
}  // namespace

TEST_CASE("MetricsServer answers GET with the handler's response and a length") {
  MetricsServer server([](std::string_view path) {
    if (path == "/metrics") return MetricsReply{200, "text/plain; version=0.0.4", "x_total 1\n"};
    return MetricsReply{404, "text/plain", "no\n"};
  });
  REQUIRE(server.start("127.0.0.1:0").empty());
  REQUIRE(server.port() != 0);
  const auto ok = http_exchange(server.port(), "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(ok.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
  CHECK(ok.find("Content-Type: text/plain; version=0.0.4\r\n") != std::string::npos);
  CHECK(ok.find("Content-Length: 10\r\n") != std::string::npos);
  CHECK(ok.substr(ok.size() - 10) == "x_total 1\n");
  CHECK(http_exchange(server.port(), "GET /other HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 404", 0) == 0);
  CHECK(http_exchange(server.port(), "POST /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 405", 0) == 0);
  CHECK(http_exchange(server.port(), "garbage\r\n\r\n").rfind("HTTP/1.0 400", 0) == 0);
  server.stop();
}

TEST_CASE("MetricsServer refuses malformed endpoints") {
  MetricsServer server([](std::string_view) { return MetricsReply{}; });
  CHECK(!server.start("no-port").empty());
  CHECK(!server.start("127.0.0.1:99999").empty());
  CHECK(!server.start("example.com:80").empty());
}

TEST_CASE("MetricsServer hands a query-aware handler the query string, still encoded") {
  std::string seen_path, seen_query;
  MetricsServer server([&](std::string_view path, std::string_view query) {
    seen_path = path;
    seen_query = query;
    return MetricsReply{200, "application/json", "{}\n"};
  });
  REQUIRE(server.start("127.0.0.1:0").empty());
  CHECK(http_exchange(server.port(), "GET /api/v1/episodes?status=open&x=%20 HTTP/1.0\r\n\r\n")
            .rfind("HTTP/1.0 200", 0) == 0);
  CHECK(seen_path == "/api/v1/episodes");
  CHECK(seen_query == "status=open&x=%20");
  CHECK(http_exchange(server.port(), "GET /api/v1/episodes HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 200", 0) == 0);
  CHECK(seen_query.empty());
  server.stop();
}
