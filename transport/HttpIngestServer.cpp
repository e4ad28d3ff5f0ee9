#include "transport/HttpIngestServer.hpp"

#include "transport/TcpServerSocket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

namespace flowlier::transport {

namespace {
constexpr std::size_t kMaxHeaderBytes = 16 << 10;
constexpr int kTimeoutMs = 5000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void reply(int client, const MetricsReply& r) {
  send_all(client, fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                r.status, http_reason_phrase(r.status), r.content_type, r.body.size()));
  send_all(client, r.body);
}
}  // namespace

std::string_view InboundRequest::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? std::string_view() : std::string_view(it->second);
}

HttpIngestServer::HttpIngestServer(Handler handler, std::size_t max_body_bytes)
    : handler_(std::move(handler)), max_body_bytes_(max_body_bytes) {}

HttpIngestServer::~HttpIngestServer() { stop(); }

std::string HttpIngestServer::start(const std::string& host_port) {
  return loop_.start(host_port, 64, [this](int client) { answer(client); });
}

void HttpIngestServer::stop() { loop_.stop(); }

void HttpIngestServer::answer(int client) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
  const auto receive = [&](std::string& into) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{client, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buffer[1 << 16];
    const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    into.append(buffer, static_cast<std::size_t>(n));
    return true;
  };
  std::string data;
  std::size_t header_end = std::string::npos;
  while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
    if (data.size() > kMaxHeaderBytes) return reply(client, {400, "text/plain", "headers too large\n"});
    if (!receive(data)) return;
  }
  InboundRequest request;
  std::string_view head(data.data(), header_end);
  const auto line_end = head.find("\r\n");
  const std::string_view line = head.substr(0, line_end);
  const auto space1 = line.find(' ');
  const auto space2 = space1 == std::string_view::npos ? space1 : line.find(' ', space1 + 1);
  if (space1 == std::string_view::npos || space2 == std::string_view::npos) {
    return reply(client, {400, "text/plain", "bad request\n"});
  }
  request.method = std::string(line.substr(0, space1));
  std::string_view path = line.substr(space1 + 1, space2 - space1 - 1);
  if (const auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
  request.path = std::string(path);
  std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    const auto end = rest.find("\r\n");
    const std::string_view field = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
    const auto colon = field.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(trim(field.substr(0, colon)));
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    request.headers[name] = std::string(trim(field.substr(colon + 1)));
  }
  if (request.method != "POST") return reply(client, handler_(request));  // the handler answers GET / others
  const auto length_text = request.header("content-length");
  if (!request.header("transfer-encoding").empty() || length_text.empty()) {
    return reply(client, {411, "text/plain", "Content-Length required\n"});
  }
  std::size_t length = 0;
  const auto [end, ec] = std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (ec != std::errc() || end != length_text.data() + length_text.size()) {
    return reply(client, {400, "text/plain", "bad Content-Length\n"});
  }
  if (length > max_body_bytes_) return reply(client, {413, "text/plain", "body too large\n"});
  request.body = data.substr(header_end + 4);
  while (request.body.size() < length) {
    if (!receive(request.body)) return;  // too slow or gone
  }
  request.body.resize(length);
  MetricsReply response;
  try {
    response = handler_(request);
  } catch (const std::exception&) {
    response = {503, "text/plain", "internal error\n"};
  }
  reply(client, response);
}

}  // namespace flowlier::transport
