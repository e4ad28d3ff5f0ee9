#pragma once
// A small HTTP/1.1 server for pushed input (Firehose HTTP endpoint deliveries,
// CloudWatch Logs subscription payloads): one request per connection (Connection:
// close), bodies by Content-Length only. Connections are served concurrently, each on
// its own thread, up to max_connections; one more is answered 503 at once. Each
// connection has a deadline for its head (header_timeout) and then one for its body
// (body_timeout), so slow or idle clients cannot hold a valid delivery back. Header
// names are given to the handler lower-cased. The head check runs on every header
// line as it arrives, so a wrong access key is refused before the rest of the head or
// any body is read; a body over max_body_bytes is answered 413 without being read.
// Every refusal is counted by reason (refused()).
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "transport/HttpRequestHead.hpp"
#include "transport/MetricsServer.hpp"

namespace flowlier::transport {

struct HttpIngestLimits {
  std::size_t max_body_bytes = 64 << 20;
  std::size_t max_connections = 64;
  std::chrono::milliseconds header_timeout{5000};  // from accept to the end of the head
  std::chrono::milliseconds body_timeout{30000};   // from the end of the head to the end of the body
};

// Why a request got no 2xx: a bounded set, so it can be a metric label.
enum class HttpRefusal : std::uint8_t {
  slow_client,           // head or body not complete before its deadline (connection dropped)
  too_many_connections,  // 503: max_connections already open
  length_required,       // 411: POST without Content-Length (or chunked)
  bad_request,           // 400: a malformed head or Content-Length
  body_too_large,        // 413
  wrong_key,             // 401 (from the head check or the handler)
  bad_body,              // 400 from the handler: a body that does not decode
  method_not_allowed,    // 405
  unavailable,           // 503 from the handler (shutting down, internal error)
  other,                 // any other non-2xx status
};
inline constexpr std::size_t kHttpRefusalCount = 10;
std::string_view to_string(HttpRefusal reason);

class HttpIngestServer {
 public:
  using Handler = std::function<MetricsReply(const InboundRequest& request)>;
  // Called with the request so far after every complete header line (complete=false)
  // and once the head is whole (complete=true); a reply refuses the request there.
  using HeadCheck = std::function<std::optional<MetricsReply>(const InboundRequest& request, bool complete)>;

  HttpIngestServer(Handler handler, HttpIngestLimits limits, HeadCheck check = {});
  HttpIngestServer(Handler handler, std::size_t max_body_bytes);
  ~HttpIngestServer();
  HttpIngestServer(const HttpIngestServer&) = delete;
  HttpIngestServer& operator=(const HttpIngestServer&) = delete;

  // Listens on "host:port" (IPv4 literal or "localhost"; port 0 picks one) and serves.
  // Returns an empty string on success, else why not.
  std::string start(const std::string& host_port);
  // Stops accepting and waits for the open connections (each ends within its deadline).
  void stop();
  std::uint16_t port() const { return port_; }

  std::uint64_t refused(HttpRefusal reason) const { return refused_[static_cast<std::size_t>(reason)].load(); }
  std::size_t open_connections() const { return active_.load(); }

 private:
  void accept_loop();
  void answer(int client);
  void reply(int client, const MetricsReply& r, HttpRefusal reason_if_refused);
  void count(HttpRefusal reason) { refused_[static_cast<std::size_t>(reason)].fetch_add(1); }

  Handler handler_;
  HeadCheck check_;
  HttpIngestLimits limits_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::atomic<std::size_t> active_{0};
  std::mutex mutex_;
  std::condition_variable idle_;
  std::array<std::atomic<std::uint64_t>, kHttpRefusalCount> refused_{};
};

}  // namespace flowlier::transport
