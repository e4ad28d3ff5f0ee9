#pragma once
// A tiny HTTP/1.0 responder for /metrics, /healthz and /readyz: one thread, one
// request per connection, GET only. Enough for Prometheus scrapes and probes, with
// no dependency beyond POSIX sockets. Requests larger than 8 KiB or slower than two
// seconds are answered 400 / dropped, so a bad client cannot wedge the thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "transport/TcpServerSocket.hpp"

namespace flowlier::transport {

struct MetricsReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

class MetricsServer {
 public:
  // Called on the server thread with the request path (query string removed).
  using Handler = std::function<MetricsReply(std::string_view path)>;
  // The same with the query string (after '?', still percent-encoded; "" when none).
  using QueryHandler = std::function<MetricsReply(std::string_view path, std::string_view query)>;

  explicit MetricsServer(Handler handler);
  explicit MetricsServer(QueryHandler handler);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Listens on "host:port" (IPv4 literal or "localhost"; port 0 picks a free one) and
  // starts serving. Returns an empty string on success, else why not.
  std::string start(const std::string& host_port);
  void stop();
  std::uint16_t port() const { return loop_.port(); }

 private:
  void answer(int client);

  QueryHandler handler_;
  AcceptLoop loop_;
};

}  // namespace flowlier::transport
