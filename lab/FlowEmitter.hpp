#pragma once
// Turns connections into FlowLine records the way AWS logs them: an accepted connection is
// logged on every internal ENI involved, request and response as separate records; a
// connection the server's security group drops gives one REJECT record on the server's ENI.
// Connections that span several windows are Sessions, ticked once per window.
#include <cstdint>
#include <vector>

#include "lab/Environment.hpp"
#include "lab/FlowLogWriter.hpp"
#include "lab/SimRandom.hpp"

namespace flowlier::lab::sim {

struct Endpoint {
  std::uint32_t address = 0;
  std::int32_t host = -1;  // index into Environment::hosts(), -1 when outside the VPC
};

// A connection that lasts several windows: one record per window per direction per ENI.
struct Session {
  Endpoint client;
  Endpoint server;
  std::uint16_t sport = 0;
  std::uint16_t dport = 0;
  std::int64_t start = 0;
  std::int64_t end = 0;
  double request_bytes_per_minute = 0;
  double response_bytes_per_minute = 0;
  std::uint16_t request_packet_size = 1000;
  std::uint16_t response_packet_size = 1000;
};

class FlowEmitter {
 public:
  explicit FlowEmitter(const Environment& env) : env_(env) {}

  // Records go to `out` for the window starting at w until the next call.
  void begin_window(std::int64_t w, std::vector<FlowLine>& out) {
    w_ = w;
    out_ = &out;
  }
  std::int64_t window() const { return w_; }
  const Environment& env() const { return env_; }

  Endpoint internal(std::size_t host) const { return {env_.host(host).address, static_cast<std::int32_t>(host)}; }
  // A host's ENI carrying another of its addresses (a pod's secondary IP, a NAT's public leg).
  static Endpoint on_host(std::size_t host, std::uint32_t address) {
    return {address, static_cast<std::int32_t>(host)};
  }
  static Endpoint external(std::uint32_t address) { return {address, -1}; }

  std::int64_t flow_start(Rng& rng) const { return w_ + uniform_int(rng, 0, 59); }
  std::int64_t flow_end(Rng& rng, std::int64_t start, int max_seconds) const {
    return std::min<std::int64_t>(w_ + 59, start + uniform_int(rng, 0, max_seconds));
  }

  // An accepted connection inside this window. response_packets == 0: nothing answered.
  void connection(Endpoint c, Endpoint s, std::uint16_t sport, std::uint16_t dport, std::uint8_t proto,
                  std::uint32_t req_packets, std::uint64_t req_bytes, std::uint32_t resp_packets,
                  std::uint64_t resp_bytes, std::int64_t t0, std::int64_t t1, std::uint8_t req_flags,
                  std::uint8_t resp_flags);
  // A short TCP connection (SYN..FIN inside the window) with per-packet sizes.
  void short_tcp(Rng& rng, Endpoint c, Endpoint s, std::uint16_t dport, std::uint32_t req_packets, double req_size,
                 std::uint32_t resp_packets, double resp_size, int max_seconds = 5);
  // A TCP connection of about `bytes` in each direction, inside the window.
  void sized_tcp(Rng& rng, Endpoint c, Endpoint s, std::uint16_t dport, double req_bytes, double resp_bytes,
                 int max_seconds = 20);
  // A connection the server's security group drops: the client's ENI (if internal) logs
  // an accepted egress SYN, the server's ENI one REJECT record; no response.
  void rejected(Rng& rng, Endpoint c, std::size_t server, std::uint16_t sport, std::uint16_t dport,
                std::uint32_t packets);
  void udp(Rng& rng, Endpoint c, Endpoint s, std::uint16_t dport, std::uint64_t req_bytes, std::uint64_t resp_bytes);

  void add_session(const Session& s) { sessions_.push_back(s); }
  // Emits this window's records of every open session and drops the finished ones.
  void tick_sessions();

 private:
  void push(std::int32_t host, std::uint32_t src, std::uint32_t dst, std::uint16_t sport, std::uint16_t dport,
            std::uint8_t protocol, std::uint32_t packets, std::uint64_t bytes, std::int64_t t0, std::int64_t t1,
            bool reject, bool egress, bool peer_internal, std::uint8_t flags);

  const Environment& env_;
  std::vector<FlowLine>* out_ = nullptr;
  std::int64_t w_ = 0;
  std::vector<Session> sessions_;
};

}  // namespace flowlier::lab::sim
