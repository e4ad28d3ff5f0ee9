#include "transport/MetricsServer.hpp"

#include "transport/TcpServerSocket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace flowlier::transport {

MetricsServer::MetricsServer(Handler handler)
    : handler_([handler = std::move(handler)](std::string_view path, std::string_view) { return handler(path); }) {}

MetricsServer::MetricsServer(QueryHandler handler) : handler_(std::move(handler)) {}

MetricsServer::~MetricsServer() { stop(); }

std::string MetricsServer::start(const std::string& host_port) {
  if (auto error = loop_.start(host_port, 16, [this](int client) { answer(client); }); !error.empty()) {
    return "metrics endpoint " + error;
  }
  return {};
}

void MetricsServer::stop() { loop_.stop(); }

void MetricsServer::answer(int client) {
  std::string request;
  char buffer[2048];
  while (request.find("\r\n\r\n") == std::string::npos && request.find("\n\n") == std::string::npos) {
    pollfd p{client, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) return;  // too slow: drop it
    const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    request.append(buffer, static_cast<std::size_t>(n));
    if (request.size() > 8192) break;
  }
  MetricsReply response;
  const auto line_end = request.find_first_of("\r\n");
  const std::string_view line = std::string_view(request).substr(0, line_end);
  const auto space1 = line.find(' ');
  const auto space2 = space1 == std::string_view::npos ? space1 : line.find(' ', space1 + 1);
  if (request.size() > 8192 || space1 == std::string_view::npos || space2 == std::string_view::npos) {
    response = {400, "text/plain; charset=utf-8", "bad request\n"};
  } else if (line.substr(0, space1) != "GET" && line.substr(0, space1) != "HEAD") {
    response = {405, "text/plain; charset=utf-8", "only GET\n"};
  } else {
    std::string_view path = line.substr(space1 + 1, space2 - space1 - 1);
    std::string_view query;
    if (const auto q = path.find('?'); q != std::string_view::npos) {
      query = path.substr(q + 1);
      path = path.substr(0, q);
    }
    try {
      response = handler_(path, query);
    } catch (const std::exception& e) {
      response = {503, "text/plain; charset=utf-8", std::string(e.what()) + "\n"};
    }
  }
  const bool head = line.substr(0, 4) == "HEAD";
  send_all(client, fmt::format("HTTP/1.0 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                response.status, http_reason_phrase(response.status), response.content_type,
                                response.body.size()));
  if (!head) send_all(client, response.body);
}

}  // namespace flowlier::transport
