#include "lab/FlowEmitter.hpp"

#include <algorithm>

namespace flowlier::lab::sim {

namespace {
bool is_internal(std::uint32_t address) { return (address >> 24) == 10; }
}  // namespace

void FlowEmitter::push(std::int32_t host, std::uint32_t src, std::uint32_t dst, std::uint16_t sport,
                       std::uint16_t dport, std::uint8_t protocol, std::uint32_t packets, std::uint64_t bytes,
                       std::int64_t t0, std::int64_t t1, bool reject, bool egress, bool peer_internal,
                       std::uint8_t flags) {
  FlowLine l;
  l.start = t0;
  l.end = t1;
  l.host = static_cast<std::uint32_t>(host);
  l.src = src;
  l.dst = dst;
  l.sport = sport;
  l.dport = dport;
  l.protocol = protocol;
  l.reject = reject;
  l.egress = egress;
  l.path = egress ? (peer_internal ? 1 : 8) : 0;
  l.tcp_flags = protocol == 6 ? flags : 0;
  l.packets = std::max<std::uint32_t>(packets, 1);
  l.bytes = std::clamp<std::uint64_t>(bytes, l.packets * 40ull, l.packets * 1500ull);
  out_->push_back(l);
}

void FlowEmitter::connection(Endpoint c, Endpoint s, std::uint16_t sport, std::uint16_t dport, std::uint8_t proto,
                             std::uint32_t req_packets, std::uint64_t req_bytes, std::uint32_t resp_packets,
                             std::uint64_t resp_bytes, std::int64_t t0, std::int64_t t1, std::uint8_t req_flags,
                             std::uint8_t resp_flags) {
  const bool s_internal = s.host >= 0 || is_internal(s.address);
  const bool c_internal = c.host >= 0 || is_internal(c.address);
  if (c.host >= 0) {
    push(c.host, c.address, s.address, sport, dport, proto, req_packets, req_bytes, t0, t1, false, true, s_internal,
         req_flags);
    if (resp_packets) {
      push(c.host, s.address, c.address, dport, sport, proto, resp_packets, resp_bytes, t0, t1, false, false,
           s_internal, resp_flags);
    }
  }
  if (s.host >= 0 && s.host != c.host) {
    push(s.host, c.address, s.address, sport, dport, proto, req_packets, req_bytes, t0, t1, false, false, c_internal,
         req_flags);
    if (resp_packets) {
      push(s.host, s.address, c.address, dport, sport, proto, resp_packets, resp_bytes, t0, t1, false, true, c_internal,
           resp_flags);
    }
  }
}

void FlowEmitter::short_tcp(Rng& rng, Endpoint c, Endpoint s, std::uint16_t dport, std::uint32_t req_packets,
                            double req_size, std::uint32_t resp_packets, double resp_size, int max_seconds) {
  const std::int64_t t0 = flow_start(rng);
  const std::int64_t t1 = flow_end(rng, t0, max_seconds);
  connection(c, s, ephemeral_port(rng), dport, 6, req_packets, static_cast<std::uint64_t>(req_packets * req_size),
             resp_packets, static_cast<std::uint64_t>(resp_packets * resp_size), t0, t1, 3, 19);
}

void FlowEmitter::sized_tcp(Rng& rng, Endpoint c, Endpoint s, std::uint16_t dport, double req_bytes, double resp_bytes,
                            int max_seconds) {
  const auto req_packets = static_cast<std::uint32_t>(req_bytes / 1200) + 2;
  const auto resp_packets = static_cast<std::uint32_t>(resp_bytes / 1200) + 2;
  const std::int64_t t0 = flow_start(rng);
  const std::int64_t t1 = flow_end(rng, t0, max_seconds);
  connection(c, s, ephemeral_port(rng), dport, 6, req_packets, static_cast<std::uint64_t>(req_bytes), resp_packets,
             static_cast<std::uint64_t>(resp_bytes), t0, t1, 3, 19);
}

void FlowEmitter::rejected(Rng& rng, Endpoint c, std::size_t server, std::uint16_t sport, std::uint16_t dport,
                           std::uint32_t packets) {
  const std::int64_t t0 = flow_start(rng);
  const std::int64_t t1 = flow_end(rng, t0, 3);
  const std::uint32_t addr = env_.host(server).address;
  const std::uint64_t bytes = packets * static_cast<std::uint64_t>(uniform_int(rng, 40, 60));
  if (c.host >= 0) push(c.host, c.address, addr, sport, dport, 6, packets, bytes, t0, t1, false, true, true, 2);
  push(static_cast<std::int32_t>(server), c.address, addr, sport, dport, 6, packets, bytes, t0, t1, true, false,
       c.host >= 0, 2);
}

void FlowEmitter::udp(Rng& rng, Endpoint c, Endpoint s, std::uint16_t dport, std::uint64_t req_bytes,
                      std::uint64_t resp_bytes) {
  const std::int64_t t0 = flow_start(rng);
  connection(c, s, ephemeral_port(rng), dport, 17, 1, req_bytes, 1, resp_bytes, t0, t0, 0, 0);
}

void FlowEmitter::tick_sessions() {
  const std::int64_t w_end = w_ + minute;
  for (const Session& s : sessions_) {
    if (s.start >= w_end || s.end <= w_) continue;
    const std::int64_t t0 = std::max(s.start, w_);
    const std::int64_t t1 = std::min(s.end, w_end - 1);
    const double covered = static_cast<double>(t1 - t0 + 1) / minute;
    // Noise derived from the session and the window, not drawn in order: a session's
    // volumes do not depend on which other sessions exist.
    const std::uint64_t h =
        mix(mix(static_cast<std::uint64_t>(s.start) ^ (std::uint64_t{s.client.address} << 32 | s.sport)) ^
            static_cast<std::uint64_t>(w_));
    const double noise = 0.8 + 0.4 * static_cast<double>(h >> 11) / 9007199254740992.0;
    const double req = s.request_bytes_per_minute * covered * noise;
    const double resp = s.response_bytes_per_minute * covered * noise;
    std::uint8_t req_flags = 0;
    std::uint8_t resp_flags = 0;
    if (s.start >= w_) req_flags |= 2, resp_flags |= 18;
    if (s.end < w_end) req_flags |= 1, resp_flags |= 1;
    connection(s.client, s.server, s.sport, s.dport, 6, static_cast<std::uint32_t>(req / s.request_packet_size) + 1,
               static_cast<std::uint64_t>(req), static_cast<std::uint32_t>(resp / s.response_packet_size) + 1,
               static_cast<std::uint64_t>(resp), t0, t1, req_flags, resp_flags);
  }
  std::erase_if(sessions_, [&](const Session& s) { return s.end <= w_end; });
}

}  // namespace flowlier::lab::sim
