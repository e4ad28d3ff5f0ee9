#include "transport/TcpServerSocket.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace flowlier::transport {

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

std::string listen_ipv4(const std::string& host_port, int backlog, int& fd, std::uint16_t& port) {
  std::string host;
  std::uint16_t requested = 0;
  if (!split_host_port(host_port, host, requested)) return fmt::format("'{}' is not host:port", host_port);
  if (host == "localhost") host = "127.0.0.1";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(requested);
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    return fmt::format("host '{}' is not an IPv4 address", host);
  }
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return fmt::format("socket: {}", std::strerror(errno));
  const int one = 1;
  ::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(s, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(s, backlog) != 0) {
    const std::string error = fmt::format("cannot listen on {}: {}", host_port, std::strerror(errno));
    ::close(s);
    return error;
  }
  socklen_t length = sizeof address;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&address), &length);
  fd = s;
  port = ntohs(address.sin_port);
  return {};
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string AcceptLoop::start(const std::string& host_port, int backlog, ClientHandler on_client) {
  if (auto error = listen_ipv4(host_port, backlog, listener_, port_); !error.empty()) return error;
  stopping_ = false;
  thread_ = std::thread([this, on_client = std::move(on_client)] {
    while (!stopping_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;  // wake up regularly to notice stop()
      const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      on_client(client);
      ::close(client);
    }
  });
  return {};
}

void AcceptLoop::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
  if (listener_ >= 0) ::close(listener_);
  listener_ = -1;
}

const char* http_reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

}  // namespace flowlier::transport
