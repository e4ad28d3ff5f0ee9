#include <algorithm>

#include "lab/Incidents.hpp"

namespace flowlier::lab::sim {

namespace {

// The window's share of a list spread evenly over the incident's minutes.
std::pair<std::size_t, std::size_t> slice(const Injection& inj, std::int64_t w, std::size_t total) {
  const auto minutes = static_cast<std::size_t>((inj.end - inj.start) / minute);
  const auto index = static_cast<std::size_t>((w - inj.start) / minute);
  return {total * index / minutes, total * (index + 1) / minutes};
}

// One probe of a scan: a handshake on open web ports, else a REJECT.
void probe(FlowEmitter& emit, Rng& r, const Injection& inj, std::size_t victim, std::uint16_t port, std::int64_t t0) {
  const Role role = emit.env().host(victim).role;
  if ((port == 80 || port == 443) && (role == Role::web || role == Role::lb)) {
    emit.connection(FlowEmitter::external(inj.actor), emit.internal(victim), inj.actor_port, port, 6, 1, 44, 1, 44, t0,
                    t0, 2, 18);
  } else {
    emit.rejected(r, FlowEmitter::external(inj.actor), victim, inj.actor_port, port, 1);
  }
}

void port_scan(Injection& inj, FlowEmitter& emit) {
  const auto [from, to] = slice(inj, emit.window(), inj.ports.size());
  for (std::size_t i = from; i < to; ++i) {
    probe(emit, inj.rng, inj, inj.hosts.front(), inj.ports[i], emit.window() + uniform_int(inj.rng, 0, 59));
  }
}

void slow_scan(Injection& inj, FlowEmitter& emit) {
  const std::int64_t w = emit.window();
  while (inj.next < inj.times.size() && inj.times[inj.next] < w + minute) {
    const std::size_t i = inj.next++;
    probe(emit, inj.rng, inj, inj.hosts.front(), inj.ports[i], std::max(inj.times[i], w));
  }
}

void sweep(Injection& inj, FlowEmitter& emit) {
  Rng& r = inj.rng;
  const std::int64_t w = emit.window();
  const auto [from, to] = slice(inj, w, inj.targets.size());
  const Endpoint actor = emit.internal(inj.hosts.front());
  for (std::size_t i = from; i < to; ++i) {
    const auto target = emit.env().find(inj.targets[i]);
    const std::uint16_t sport = ephemeral_port(r);
    if (target) {
      emit.rejected(r, actor, *target, sport, inj.ports[i], static_cast<std::uint32_t>(uniform_int(r, 1, 2)));
    } else {
      const std::int64_t t0 = w + uniform_int(r, 0, 59);
      emit.connection(actor, {inj.targets[i], -1}, sport, inj.ports[i], 6,
                      static_cast<std::uint32_t>(uniform_int(r, 1, 3)), 0, 0, 0, t0,
                      std::min<std::int64_t>(w + 59, t0 + 3), 2, 0);
    }
  }
}

void exfiltration(Injection& inj, FlowEmitter& emit) {
  Rng& r = inj.rng;
  if (emit.window() != inj.start) return;  // the sessions carry it from here
  const int connections = uniform_int(r, 1, 3);
  for (int c = 0; c < connections; ++c) {
    Session s;
    s.client = emit.internal(inj.hosts.front());
    s.server = FlowEmitter::external(inj.actor);
    s.sport = ephemeral_port(r);
    s.dport = inj.port;
    s.start = inj.start + uniform_int(r, 0, 20);
    s.end = inj.end - uniform_int(r, 1, 20);
    s.request_bytes_per_minute = inj.rate / connections;
    s.response_bytes_per_minute = inj.rate / connections / 1400 * 52 / 2;
    s.request_packet_size = 1400;
    s.response_packet_size = 52;
    emit.add_session(s);
  }
}

void slow_exfiltration(Injection& inj, FlowEmitter& emit) {
  Rng& r = inj.rng;
  const std::int64_t w = emit.window();
  while (inj.next < inj.times.size() && inj.times[inj.next] < w + minute) {
    const std::int64_t t0 = std::max(inj.times[inj.next++], w);
    const std::int64_t t1 = std::min<std::int64_t>(w + 59, t0 + uniform_int(r, 2, 20));
    const double bytes = inj.rate * uniform_real(r, 0.7, 1.3);
    const auto packets = static_cast<std::uint32_t>(bytes / 1400) + 1;
    emit.connection(emit.internal(inj.hosts.front()), FlowEmitter::external(inj.actor), ephemeral_port(r), inj.port, 6,
                    packets, static_cast<std::uint64_t>(bytes), packets / 2 + 1, (packets / 2 + 1) * 52ull, t0, t1, 3,
                    19);
  }
}

void ddos(Injection& inj, FlowEmitter& emit) {
  Rng& r = inj.rng;
  const std::int64_t w = emit.window();
  for (const std::size_t target : inj.hosts) {
    const int n = poisson(r, inj.rate);
    for (int i = 0; i < n; ++i) {
      const std::int64_t t0 = w + uniform_int(r, 0, 59);
      const std::int64_t t1 = std::min<std::int64_t>(w + 59, t0 + uniform_int(r, 0, 10));
      const auto packets = static_cast<std::uint32_t>(uniform_int(r, 10, 200));
      emit.connection(FlowEmitter::external(pick(r, inj.sources)), emit.internal(target), ephemeral_port(r),
                      chance(r, 0.8) ? 443 : 80, 6, packets,
                      packets * static_cast<std::uint64_t>(uniform_int(r, 40, 600)), packets / 4 + 1,
                      (packets / 4 + 1) * static_cast<std::uint64_t>(uniform_int(r, 40, 200)), t0, t1, 3, 19);
    }
  }
}

// Short login connections; telnet on a Windows host is closed, so those are rejected.
void login_attempts(Injection& inj, FlowEmitter& emit, int n) {
  Rng& r = inj.rng;
  const std::int64_t w = emit.window();
  const std::size_t victim = inj.hosts.front();
  for (int i = 0; i < n; ++i) {
    if (inj.port == 23) {
      emit.rejected(r, FlowEmitter::external(inj.actor), victim, ephemeral_port(r), 23,
                    static_cast<std::uint32_t>(uniform_int(r, 1, 3)));
      continue;
    }
    const std::int64_t t0 = w + uniform_int(r, 0, 59);
    const std::int64_t t1 = std::min<std::int64_t>(w + 59, t0 + uniform_int(r, 2, 8));
    const auto req = static_cast<std::uint32_t>(uniform_int(r, 12, 25));
    const auto resp = static_cast<std::uint32_t>(uniform_int(r, 15, 30));
    emit.connection(FlowEmitter::external(inj.actor), emit.internal(victim), ephemeral_port(r), inj.port, 6, req,
                    req * static_cast<std::uint64_t>(uniform_int(r, 80, 160)), resp,
                    resp * static_cast<std::uint64_t>(uniform_int(r, 90, 200)), t0, t1, 3, 19);
  }
}

void brute_force(Injection& inj, FlowEmitter& emit) { login_attempts(inj, emit, poisson(inj.rng, inj.rate)); }

void brute_force_burst(Injection& inj, FlowEmitter& emit) {
  // The drawn count exactly: spread evenly, so that 20 attempts are 20 attempts.
  const auto total = static_cast<std::size_t>(inj.rate * static_cast<double>((inj.end - inj.start) / minute) + 0.5);
  const auto [from, to] = slice(inj, emit.window(), total);
  login_attempts(inj, emit, static_cast<int>(to - from));
}

void unusual_port(Injection& inj, FlowEmitter& emit) {
  Rng& r = inj.rng;
  const std::int64_t w = emit.window();
  const int n = std::max(w == inj.start ? 1 : 0, poisson(r, inj.rate));
  for (int i = 0; i < n; ++i) {
    const std::int64_t t0 = w + uniform_int(r, 0, 59);
    const std::int64_t t1 = std::min<std::int64_t>(w + 59, t0 + uniform_int(r, 1, 30));
    const auto req = static_cast<std::uint32_t>(uniform_int(r, 5, 60));
    const auto resp = static_cast<std::uint32_t>(uniform_int(r, 5, 150));
    emit.connection(emit.internal(inj.hosts.front()), FlowEmitter::external(inj.actor), ephemeral_port(r), inj.port, 6,
                    req, req * static_cast<std::uint64_t>(uniform_int(r, 100, 800)), resp,
                    resp * static_cast<std::uint64_t>(uniform_int(r, 200, 1400)), t0, t1, 3, 19);
  }
}

void beacon(Injection& inj, FlowEmitter& emit) {
  Rng& r = inj.rng;
  const std::int64_t w = emit.window();
  while (inj.next < inj.times.size() && inj.times[inj.next] < w + minute) {
    const std::int64_t t0 = std::max(inj.times[inj.next++], w);
    const std::int64_t t1 = std::min<std::int64_t>(w + 59, t0 + uniform_int(r, 0, 2));
    const auto req = static_cast<std::uint32_t>(uniform_int(r, 3, 6));
    const auto resp = static_cast<std::uint32_t>(uniform_int(r, 3, 6));
    emit.connection(emit.internal(inj.hosts.front()), FlowEmitter::external(inj.actor), ephemeral_port(r), inj.port, 6,
                    req, req * static_cast<std::uint64_t>(uniform_int(r, 60, 150)), resp,
                    resp * static_cast<std::uint64_t>(uniform_int(r, 60, 250)), t0, t1, 3, 19);
  }
}

}  // namespace

void emit_incident(Injection& inj, FlowEmitter& emit) {
  switch (inj.type) {
    case IncidentType::port_scan: port_scan(inj, emit); break;
    case IncidentType::sweep: sweep(inj, emit); break;
    case IncidentType::exfiltration: exfiltration(inj, emit); break;
    case IncidentType::ddos: ddos(inj, emit); break;
    case IncidentType::brute_force: brute_force(inj, emit); break;
    case IncidentType::unusual_port: unusual_port(inj, emit); break;
    case IncidentType::beacon: beacon(inj, emit); break;
    case IncidentType::reject_storm: break;  // applied inside the benign generators
    case IncidentType::slow_scan: slow_scan(inj, emit); break;
    case IncidentType::slow_exfiltration: slow_exfiltration(inj, emit); break;
    case IncidentType::brute_force_burst: brute_force_burst(inj, emit); break;
  }
}

}  // namespace flowlier::lab::sim
