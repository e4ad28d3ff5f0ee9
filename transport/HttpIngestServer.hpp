#pragma once
// A tiny HTTP/1.1 server for pushed input (Firehose HTTP endpoint deliveries,
// CloudWatch Logs subscription payloads): one thread, one request per connection
// (Connection: close), bodies by Content-Length only. Header names are given to the
// handler lower-cased. A body over max_body_bytes is answered 413 without being read;
// a request slower than five seconds is dropped, so a bad client cannot wedge it.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <thread>

#include "transport/MetricsServer.hpp"

namespace flowlier::transport {

struct InboundRequest {
  std::string method;
  std::string path;  // query string removed
  std::map<std::string, std::string> headers;  // lower-cased names, trimmed values
  std::string body;

  // The header's value, or empty.
  std::string_view header(const std::string& lower_name) const;
};

class HttpIngestServer {
 public:
  using Handler = std::function<MetricsReply(const InboundRequest& request)>;

  HttpIngestServer(Handler handler, std::size_t max_body_bytes);
  ~HttpIngestServer();
  HttpIngestServer(const HttpIngestServer&) = delete;
  HttpIngestServer& operator=(const HttpIngestServer&) = delete;

  // Listens on "host:port" (IPv4 literal or "localhost"; port 0 picks one) and serves
  // on its own thread. Returns an empty string on success, else why not.
  std::string start(const std::string& host_port);
  void stop();
  std::uint16_t port() const { return loop_.port(); }

 private:
  void answer(int client);

  Handler handler_;
  std::size_t max_body_bytes_;
  AcceptLoop loop_;
};

}  // namespace flowlier::transport
