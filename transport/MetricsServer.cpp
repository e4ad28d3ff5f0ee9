#include "transport/MetricsServer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace flowlier::transport {

namespace {
const char* reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}
}  // namespace

bool split_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  host = std::string(text.substr(0, colon));
  const auto digits = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

MetricsServer::MetricsServer(Handler handler) : handler_(std::move(handler)) {}

MetricsServer::~MetricsServer() { stop(); }

std::string MetricsServer::start(const std::string& host_port) {
  std::string host;
  std::uint16_t port = 0;
  if (!split_host_port(host_port, host, port)) return fmt::format("metrics endpoint '{}' is not host:port", host_port);
  if (host == "localhost") host = "127.0.0.1";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return fmt::format("metrics host '{}' is not an IPv4 address", host);
  }
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener_ < 0) return fmt::format("socket: {}", std::strerror(errno));
  const int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener_, 16) != 0) {
    const std::string error = fmt::format("cannot listen on {}: {}", host_port, std::strerror(errno));
    ::close(listener_);
    listener_ = -1;
    return error;
  }
  socklen_t length = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
  return {};
}

void MetricsServer::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (listener_ >= 0) ::close(listener_);
  listener_ = -1;
}

void MetricsServer::serve() {
  while (!stopping_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;  // wake up regularly to notice stop()
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    answer(client);
    ::close(client);
  }
}

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
    if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
    try {
      response = handler_(path);
    } catch (const std::exception& e) {
      response = {503, "text/plain; charset=utf-8", std::string(e.what()) + "\n"};
    }
  }
  const bool head = line.substr(0, 4) == "HEAD";
  write_all(client, fmt::format("HTTP/1.0 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                response.status, reason_phrase(response.status), response.content_type,
                                response.body.size()));
  if (!head) write_all(client, response.body);
}

}  // namespace flowlier::transport
