#include "models/WindowAccumulator.hpp"

namespace flowlier::models {

bool WindowAccumulator::add(const Observation& o, SeenHistory& history) {
  bool new_peer = false;
  const double w = o.weight;
  const double records = w * o.directions;  // record counts are by direction (Observation)
  flows_ += records;
  packets_ += static_cast<double>(o.packets) * w;
  bytes_in_ += static_cast<double>(o.bytes_in) * w;
  bytes_out_ += static_cast<double>(o.bytes_out) * w;
  if (o.rejected) rejected_ += records;
  if (o.external_peer) external_ += records;
  if (o.external_peer && o.client) external_client_ += records;
  if (o.inbound) inbound_flows_ += records;
  if (o.has_peer) {
    // Distinct peers that opened connections to the entity (its clients, a flood's
    // sources, scanners); fanout_ counts those it opened: the two roles apart.
    if (o.inbound && !o.client) peers_.add(o.peer_hash);
    if (o.client) fanout_.add(o.peer_hash);
    peers_by_flows_.add(o.peer, records);
    peers_by_bytes_.add(o.peer, static_cast<double>(o.bytes_in + o.bytes_out) * w);
    // One per connection the peer opened, in every format: the request record, not
    // the response (AWS, GCP); an Azure connection's first tuple, not its C/E reports.
    if (o.inbound && !o.client && !o.continues) sources_.add(o.peer, w);
    if (o.external_peer && o.bytes_out > 0) uploads_.add(o.peer, static_cast<double>(o.bytes_out) * w);
    // Novelty is about whom the entity reaches out to (a web server meets new
    // clients all day; a new destination is news). Rejected traffic never becomes
    // "known".
    if (!o.rejected && o.client && history.add_peer(o.peer_hash)) {
      new_peer = true;
      new_peer_count_ += 1;
      new_peers_.add(o.peer, 1);
    }
  }
  if (o.has_port) {
    // Keyed by the entity's role, not the record's direction: one connection logs a
    // request (outbound) and a response (inbound) record, and both are one new port.
    const std::uint64_t port_hash =
        (static_cast<std::uint64_t>(o.protocol) << 17 | static_cast<std::uint64_t>(o.service_port) << 1 |
         (o.client ? 1u : 0u)) * 0x9e3779b97f4a7c15ULL;
    ports_.add(port_hash);
    ports_by_flows_.add(PortKey{o.service_port, o.protocol}, records);
    ports_by_bytes_.add(PortKey{o.service_port, o.protocol}, static_cast<double>(o.bytes_in + o.bytes_out) * w);
    // Only ports the entity connects to: a new port a server is probed on is the
    // scan's business (distinct ports, rejects), not a change in what it talks to.
    if (!o.rejected && o.client && history.add_port(port_hash)) {
      new_port_count_ += 1;
      new_ports_.add(PortKey{o.service_port, o.protocol}, 1);
    }
  }
  return new_peer;
}

FeatureVector WindowAccumulator::features() const {
  return FeatureVector{flows_,          packets_,         bytes_in_,        bytes_out_,      peers_.estimate(),
                       ports_.estimate(), rejected_,      external_,        new_peer_count_, new_port_count_,
                       fanout_.estimate(), external_client_, 0.0 /* repeated_source_flows: spans windows */,
                       0.0 /* external_upload_bytes: spans windows */};
}

void WindowAccumulator::save(detectors::StateWriter& w) const {
  for (double v : {flows_, packets_, bytes_in_, bytes_out_, rejected_, external_, new_peer_count_, new_port_count_,
                   inbound_flows_, external_client_}) {
    w.put(v);
  }
  peers_.save(w);
  ports_.save(w);
  fanout_.save(w);
  w.put(peers_by_flows_);
  w.put(peers_by_bytes_);
  w.put(ports_by_flows_);
  w.put(ports_by_bytes_);
  w.put(sources_);
  w.put(uploads_);
  w.put(new_peers_);
  w.put(new_ports_);
}

bool WindowAccumulator::load(detectors::StateReader& r) {
  for (double* v : {&flows_, &packets_, &bytes_in_, &bytes_out_, &rejected_, &external_, &new_peer_count_,
                    &new_port_count_, &inbound_flows_, &external_client_}) {
    r.get(*v);
  }
  if (!peers_.load(r) || !ports_.load(r) || !fanout_.load(r)) return false;
  r.get(peers_by_flows_);
  r.get(peers_by_bytes_);
  r.get(ports_by_flows_);
  r.get(ports_by_bytes_);
  r.get(sources_);
  r.get(uploads_);
  r.get(new_peers_);
  r.get(new_ports_);
  return r.ok();
}

}  // namespace flowlier::models
