#include "transport/HttpIngestServer.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

#include "transport/TcpServerSocket.hpp"

namespace flowlier::transport {

namespace {
using Clock = std::chrono::steady_clock;
constexpr int kStopCheckMs = 200;  // how often a waiting connection notices stop()

HttpRefusal refusal_for_status(int status) {
  switch (status) {
    case 400: return HttpRefusal::bad_body;
    case 401:
    case 403: return HttpRefusal::wrong_key;
    case 405: return HttpRefusal::method_not_allowed;
    case 411: return HttpRefusal::length_required;
    case 413: return HttpRefusal::body_too_large;
    case 503: return HttpRefusal::unavailable;
    default: return HttpRefusal::other;
  }
}
}  // namespace

std::string_view to_string(HttpRefusal reason) {
  constexpr std::array<std::string_view, kHttpRefusalCount> names{
      "slow_client", "too_many_connections", "length_required", "bad_request", "body_too_large", "wrong_key",
      "bad_body",    "method_not_allowed",   "unavailable",     "other"};
  return names[static_cast<std::size_t>(reason)];
}

HttpIngestServer::HttpIngestServer(Handler handler, HttpIngestLimits limits, HeadCheck check)
    : handler_(std::move(handler)), check_(std::move(check)), limits_(limits) {}

HttpIngestServer::HttpIngestServer(Handler handler, std::size_t max_body_bytes)
    : HttpIngestServer(std::move(handler), HttpIngestLimits{.max_body_bytes = max_body_bytes}) {}

HttpIngestServer::~HttpIngestServer() { stop(); }

std::string HttpIngestServer::start(const std::string& host_port) {
  const int backlog = static_cast<int>(std::clamp<std::size_t>(limits_.max_connections, 16, 1024));
  if (auto error = listen_ipv4(host_port, backlog, listener_, port_); !error.empty()) return error;
  stopping_ = false;
  acceptor_ = std::thread([this] { accept_loop(); });
  return {};
}

void HttpIngestServer::stop() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  if (listener_ >= 0) ::close(listener_);
  listener_ = -1;
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return active_.load() == 0; });
}

void HttpIngestServer::accept_loop() {
  while (!stopping_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, kStopCheckMs) <= 0) continue;
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    if (active_.load() >= limits_.max_connections) {
      // Said at once, so the sender retries elsewhere or later instead of waiting.
      reply(client, {503, "text/plain", "too many connections\n"}, HttpRefusal::too_many_connections);
      ::close(client);
      continue;
    }
    active_.fetch_add(1);
    try {
      std::thread([this, client] {
        answer(client);
        ::close(client);
        std::lock_guard lock(mutex_);
        active_.fetch_sub(1);
        idle_.notify_all();
      }).detach();
    } catch (const std::system_error&) {  // no thread to be had: as if the bound were reached
      reply(client, {503, "text/plain", "too many connections\n"}, HttpRefusal::too_many_connections);
      ::close(client);
      std::lock_guard lock(mutex_);
      active_.fetch_sub(1);
      idle_.notify_all();
    }
  }
}

void HttpIngestServer::reply(int client, const MetricsReply& r, HttpRefusal reason_if_refused) {
  if (r.status < 200 || r.status > 299) count(reason_if_refused);
  send_all(client, fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                               r.status, http_reason_phrase(r.status), r.content_type, r.body.size()));
  send_all(client, r.body);
}

void HttpIngestServer::answer(int client) {
  auto deadline = Clock::now() + limits_.header_timeout;
  // Appends what arrives before the deadline; false when it passed, the peer left or stop() was called.
  const auto receive = [&](std::string& into) {
    while (!stopping_) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        count(HttpRefusal::slow_client);
        return false;
      }
      pollfd p{client, POLLIN, 0};
      const int ready = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, kStopCheckMs)));
      if (ready == 0) continue;
      if (ready < 0) return false;
      char buffer[1 << 16];
      const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) return false;
      into.append(buffer, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  };
  std::string data;
  InboundRequest request;
  std::size_t checked_headers = 0;
  HeadParse head;
  while (true) {
    head = parse_request_head(data, request);
    if (head.status == HeadStatus::bad)
      return reply(client, {400, "text/plain", head.error + "\n"}, HttpRefusal::bad_request);
    // Each header line is checked once it is whole (the key before anything after it).
    if (check_ && (request.headers.size() > checked_headers || head.status == HeadStatus::complete)) {
      checked_headers = request.headers.size();
      if (auto refusal = check_(request, head.status == HeadStatus::complete)) {
        return reply(client, *refusal, refusal_for_status(refusal->status));
      }
    }
    if (head.status == HeadStatus::complete) break;
    if (!receive(data)) return;
  }
  if (request.method == "POST") {
    const auto length_text = request.header("content-length");
    if (!request.header("transfer-encoding").empty() || length_text.empty()) {
      return reply(client, {411, "text/plain", "Content-Length required\n"}, HttpRefusal::length_required);
    }
    const auto length = parse_content_length(length_text);
    if (!length) return reply(client, {400, "text/plain", "bad Content-Length\n"}, HttpRefusal::bad_request);
    if (*length > limits_.max_body_bytes) {
      return reply(client, {413, "text/plain", "body too large\n"}, HttpRefusal::body_too_large);
    }
    request.body = data.substr(head.head_bytes);
    deadline = Clock::now() + limits_.body_timeout;
    while (request.body.size() < *length) {
      if (!receive(request.body)) return;  // too slow or gone
    }
    request.body.resize(*length);
  }
  MetricsReply response;
  try {
    response = handler_(request);  // the handler answers GET and other methods too
  } catch (const std::exception&) {
    response = {503, "text/plain", "internal error\n"};
  }
  reply(client, response, refusal_for_status(response.status));
}

}  // namespace flowlier::transport
