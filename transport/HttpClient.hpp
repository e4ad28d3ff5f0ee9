#pragma once
// One libcurl easy handle, reused across requests (keep-alive). Not thread-safe:
// one client per sending thread. No signals (CURLOPT_NOSIGNAL), bounded timeouts.
#include <cstdint>
#include <optional>
#include <string>

#include "transport/SinkEncoders.hpp"

namespace flowlier::transport {

struct HttpResponse {
  long status = 0;    // 0 = no HTTP answer (network error or timeout; see error)
  std::string body;   // at most 64 KiB kept
  std::string error;  // generic libcurl text, never the URL
  bool timed_out = false;
  std::optional<std::uint32_t> retry_after_ms;  // from a Retry-After header in seconds
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse post(const HttpRequest& request, std::uint32_t timeout_ms);

 private:
  void* curl_;  // CURL*, kept out of the header
};

}  // namespace flowlier::transport
